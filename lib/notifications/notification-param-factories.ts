/** Internal: the factories behind `@NotificationResource()` / `@NotificationEnvelope()` (not part of the public API). */
import type { ExecutionContext } from '@nestjs/common';
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
 * Factories of the two parameter decorators. `@WechatPayNotification()` recognizes them by identity and fills those
 * arguments itself from what its guard parsed (see `RunNotificationOnce`); they run only where that is not possible.
 */
export function resourceFactory(_data: unknown, context: ExecutionContext): unknown {
  return notificationOf(context).resource;
}

export function envelopeFactory(_data: unknown, context: ExecutionContext): unknown {
  return notificationOf(context).envelope;
}
