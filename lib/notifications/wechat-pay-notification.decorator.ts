import { applyDecorators, HttpCode, SetMetadata, UseFilters, UseGuards, UseInterceptors } from '@nestjs/common';
import type { WechatPayEventType } from '../core/notify/notification.types';
import { NotificationReplyFilter } from './notification-reply.filter';
import { NOTIFICATION_ROUTE_OPTIONS } from './notification.constants';
import type { WechatPayNotificationRouteOptions } from './notification-route-options';
import { WechatPayNotificationGuard } from './wechat-pay-notification.guard';
import { WechatPayNotificationInterceptor } from './wechat-pay-notification.interceptor';

/**
 * Marks a controller method as a WeChat Pay notification endpoint: verifies and decrypts the notification (guard),
 * runs the handler exactly once (interceptor: claim → handler → complete), replies 204 on success and
 * `{"code":"FAIL",…}` with 4xx/5xx on any failure (filter). Arguments: accepted event types, and/or one options
 * object. Only public Nest decorators: the method itself and its parameters' metadata stay as they are.
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
    UseInterceptors(WechatPayNotificationInterceptor),
    HttpCode(204),
  );
}
