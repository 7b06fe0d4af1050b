import type { ExecutionContext } from '@nestjs/common';
import type { NOTIFICATION_REQUEST_KEY } from './notification.constants';
import type { ParsedWechatPayNotification } from './wechat-pay-notification.service';

/** Runs a handler exactly once for the notification of the current request; resolves to what Nest should reply. */
export type NotificationRunner = (handler: () => unknown) => Promise<unknown>;

/** What the notification guard reads from, and leaves on, an Express or Fastify request. */
export interface NotificationHttpRequest {
  headers: Record<string, string | string[] | undefined>;
  /** Set by Nest when the app is created with `{ rawBody: true }` (Express and Fastify). */
  rawBody?: Buffer;
  body?: unknown;
  /** One property for both: adding properties to a request object is not free. */
  [NOTIFICATION_REQUEST_KEY]?: NotificationRequestState;
}

/** What the guard leaves on the request of a notification route. */
export interface NotificationRequestState {
  notification: ParsedWechatPayNotification;
  /** Absent when the route has `dedupe: false`. */
  run?: NotificationRunner;
}

/** The HTTP request of a notification route. */
export function notificationRequest(context: ExecutionContext): NotificationHttpRequest {
  return context.switchToHttp().getRequest<NotificationHttpRequest>();
}
