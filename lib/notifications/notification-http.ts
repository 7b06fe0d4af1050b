import type { ExecutionContext } from '@nestjs/common';
import type { ParsedWechatPayNotification } from '../core/notify/notification.types';
import type { NOTIFICATION_REQUEST_KEY } from './notification.constants';
import type { WechatPayNotificationRouteOptions } from './notification-route-options';

/** What the guard reads from, and leaves on, an Express or Fastify request. */
export interface NotificationHttpRequest {
  headers: Record<string, string | string[] | undefined>;
  /** Set by Nest when the app is created with `{ rawBody: true }` (Express and Fastify). */
  rawBody?: Buffer;
  body?: unknown;
  /** One property for both: adding properties to a request object is not free. */
  [NOTIFICATION_REQUEST_KEY]?: NotificationRequestState;
}

/** What the guard leaves on the request of a notification route, for the interceptor and the parameters. */
export interface NotificationRequestState {
  notification: ParsedWechatPayNotification<object>;
  route: WechatPayNotificationRouteOptions | undefined;
}

/** The HTTP request of a notification route. */
export function notificationRequest(context: ExecutionContext): NotificationHttpRequest {
  return context.switchToHttp().getRequest<NotificationHttpRequest>();
}
