import type { ExecutionContext } from '@nestjs/common';
import type { NOTIFICATION_REQUEST_KEY } from './notification.constants';
import type { ParsedWechatPayNotification } from './wechat-pay-notification.service';

/** What the notification guard reads from an Express or Fastify request. */
export interface NotificationHttpRequest {
  headers: Record<string, string | string[] | undefined>;
  /** Set by Nest when the app is created with `{ rawBody: true }` (Express and Fastify). */
  rawBody?: Buffer;
  body?: unknown;
  [NOTIFICATION_REQUEST_KEY]?: ParsedWechatPayNotification;
}

/** The HTTP request of a notification route. */
export function notificationRequest(context: ExecutionContext): NotificationHttpRequest {
  return context.switchToHttp().getRequest<NotificationHttpRequest>();
}
