import { applyDecorators, HttpCode, SetMetadata, UseFilters, UseGuards } from '@nestjs/common';
import type { WechatPayEventType } from './dto/notification-envelope.dto';
import { NotificationReplyFilter } from './notification-reply.filter';
import { NOTIFICATION_ROUTE_OPTIONS } from './notification.constants';
import { RunNotificationOnce } from './notification-run-once.decorator';
import { WechatPayNotificationGuard } from './wechat-pay-notification.guard';
import type { NotificationDedupeKeyFn } from './wechat-pay-notification.service';

/** Options of one `@WechatPayNotification()` route. */
export interface WechatPayNotificationRouteOptions {
  /** Accepted event types (exact, or `PREFIX.*`); others are rejected with 400. Default: all. */
  eventTypes?: WechatPayEventType[];
  /** Exactly-once handling through the module's dedupe store. Default true. */
  dedupe?: boolean;
  /**
   * Overrides the dedupe key of this route (default: the module's `notifications.dedupeKey`, else
   * `event_type:sp_mchid:sub_mchid:transaction_id`, refunds `out_refund_no`).
   */
  dedupeKey?: NotificationDedupeKeyFn;
}

/**
 * Marks a controller method as a WeChat Pay notification endpoint: verifies and decrypts the notification (guard),
 * runs the handler exactly once (claim → handler → complete), replies 204 on success and `{"code":"FAIL",…}` with
 * 4xx/5xx on any failure (filter). Arguments: accepted event types, and/or one options object.
 *
 * @example `@Post('wechatpay/notify') @WechatPayNotification('TRANSACTION.SUCCESS')`
 */
export function WechatPayNotification(
  ...args: Array<WechatPayEventType | WechatPayNotificationRouteOptions>
): MethodDecorator {
  const options: WechatPayNotificationRouteOptions = {};
  const eventTypes: WechatPayEventType[] = [];
  for (const arg of args) {
    if (typeof arg === 'string') eventTypes.push(arg);
    else {
      Object.assign(options, arg);
      eventTypes.push(...(arg.eventTypes ?? []));
    }
  }
  return applyDecorators(
    SetMetadata(NOTIFICATION_ROUTE_OPTIONS, { ...options, eventTypes }),
    UseFilters(NotificationReplyFilter),
    UseGuards(WechatPayNotificationGuard),
    HttpCode(204),
    // Last, so that the wrapper carries the metadata of the decorators above. Without dedupe it still hands the
    // handler its notification arguments; the guard then leaves no runner.
    RunNotificationOnce(),
  );
}
