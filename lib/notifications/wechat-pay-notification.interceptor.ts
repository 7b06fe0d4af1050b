import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { from, lastValueFrom, map, type Observable } from 'rxjs';
import { NOTIFICATION_REQUEST_KEY, NOTIFICATION_ROUTE_OPTIONS } from './notification.constants';
import { notificationRequest } from './notification-http';
import type { WechatPayNotificationRouteOptions } from './wechat-pay-notification.decorator';
import { WechatPayNotificationService } from './wechat-pay-notification.service';

/**
 * Exactly-once around the handler of a `@WechatPayNotification()` route: claim → handler → complete. A duplicate
 * of a completed notification is acknowledged without calling the handler.
 */
@Injectable()
export class WechatPayNotificationInterceptor implements NestInterceptor {
  constructor(
    private readonly notifications: WechatPayNotificationService,
    private readonly reflector: Reflector,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const notification = notificationRequest(context)[NOTIFICATION_REQUEST_KEY];
    const options = this.reflector.get<WechatPayNotificationRouteOptions | undefined>(
      NOTIFICATION_ROUTE_OPTIONS,
      context.getHandler(),
    );
    if (!notification || options?.dedupe === false) return next.handle();
    const run = () => lastValueFrom(next.handle(), { defaultValue: undefined });
    return from(this.notifications.handleOnce(notification, run, { dedupeKey: options?.dedupeKey })).pipe(
      map((outcome) => (outcome.status === 'processed' ? outcome.result : undefined)),
    );
  }
}
