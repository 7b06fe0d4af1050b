import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import { defer, lastValueFrom, type Observable } from 'rxjs';
import { runHandling } from './notification-arguments';
import { NOTIFICATION_REQUEST_KEY } from './notification.constants';
import { notificationRequest } from './notification-http';
import { WechatPayNotificationService } from './wechat-pay-notification.service';

/**
 * Exactly-once around a `@WechatPayNotification()` handler: claim → handler (its parameter pipes included) →
 * complete, through `WechatPayNotificationService.handleOnce()`. A duplicate replies 204 without calling the
 * handler; a failing handler releases the claim, so that WeChat Pay's retry processes the notification again.
 */
@Injectable()
export class WechatPayNotificationInterceptor implements NestInterceptor {
  constructor(private readonly notifications: WechatPayNotificationService) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const state = notificationRequest(context)[NOTIFICATION_REQUEST_KEY];
    // Without the guard's result there is nothing to deduplicate: the parameter factories say what is missing.
    if (!state) return next.handle();
    const { notification, route } = state;
    const handle = () =>
      runHandling(notification, () => lastValueFrom(next.handle(), { defaultValue: undefined }));
    if (route?.dedupe === false) return defer(handle);
    return defer(async () => {
      const outcome = await this.notifications.handleOnce(notification, handle, { dedupeKey: route?.dedupeKey });
      return outcome.status === 'processed' ? outcome.result : undefined;
    });
  }
}
