import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { NOTIFICATION_REQUEST_KEY } from './notification.constants';
import { notificationRequest } from './notification-http';
import { WechatPayError } from '../core/errors/wechat-pay.errors';
import type { ParsedWechatPayNotification } from './wechat-pay-notification.service';

function notificationOf(context: ExecutionContext): ParsedWechatPayNotification {
  const notification = notificationRequest(context)[NOTIFICATION_REQUEST_KEY]?.notification;
  if (!notification) {
    throw new WechatPayError(
      '@NotificationResource() / @NotificationEnvelope() need @WechatPayNotification() on the same method',
    );
  }
  return notification;
}

/**
 * The decrypted, validated resource: a `PartnerTransactionResource` for `TRANSACTION.*`, a `PartnerRefundResource`
 * for `REFUND.*`, a plain object for other events.
 */
export const NotificationResource = createParamDecorator(
  (_data: unknown, context: ExecutionContext) => notificationOf(context).resource,
);

/** The notification envelope `{ id, create_time, event_type, resource_type, summary }`. */
export const NotificationEnvelope = createParamDecorator(
  (_data: unknown, context: ExecutionContext) => notificationOf(context).envelope,
);
