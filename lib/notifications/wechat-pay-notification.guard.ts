import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { getHeader } from '../core/crypto/headers';
import { NOTIFICATION_REQUEST_KEY, NOTIFICATION_ROUTE_OPTIONS } from './notification.constants';
import { type NotificationHttpRequest, notificationRequest } from './notification-http';
import type { WechatPayNotificationRouteOptions } from './notification-route-options';
import { WechatPayNotificationError } from '../core/notify/notification.errors';
import { WechatPayNotificationService } from './wechat-pay-notification.service';

const RAW_BODY_HINT =
  'req.rawBody is not set, so the signature cannot be checked over the exact bytes WeChat Pay signed (the parsed ' +
  'body is never re-serialized: JSON.stringify does not reproduce them). Create the app with ' +
  'NestFactory.create(AppModule, { rawBody: true }) on Express, or ' +
  'NestFactory.create<NestFastifyApplication>(AppModule, new FastifyAdapter(), { rawBody: true }) on Fastify, ' +
  'and keep the Content-Type application/json parser of Nest (no custom body parser in front of this route)';

/** The raw body of the request, or why it is unavailable. */
function rawBodyOf(req: NotificationHttpRequest, maxBytes: number): Buffer {
  const declared = Number(getHeader(req.headers, 'content-length'));
  if (declared > maxBytes)
    throw new WechatPayNotificationError('BODY_TOO_LARGE', `Content-Length ${declared} > ${maxBytes}`);
  if (Buffer.isBuffer(req.rawBody)) return req.rawBody;
  // Body parsers leave rawBody unset when there is no body at all: that is an (invalid) empty body, not a setup problem.
  if (
    declared === 0 ||
    (req.body === undefined && getHeader(req.headers, 'transfer-encoding') === undefined && !declared)
  ) {
    return Buffer.alloc(0);
  }
  // Nest keeps the raw body of JSON requests only; WeChat Pay always sends application/json.
  const type = getHeader(req.headers, 'content-type') ?? '';
  if (!/^application\/json\b/i.test(type)) throw new WechatPayNotificationError('UNSUPPORTED_CONTENT_TYPE');
  throw new WechatPayNotificationError('RAW_BODY_MISSING', RAW_BODY_HINT);
}

/**
 * Verifies, decrypts and validates the notification of a `@WechatPayNotification()` route (its event types and
 * resource kinds) and leaves it on the request, for the exactly-once interceptor and for `@NotificationResource()` /
 * `@NotificationEnvelope()`.
 */
@Injectable()
export class WechatPayNotificationGuard implements CanActivate {
  constructor(
    private readonly notifications: WechatPayNotificationService,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = notificationRequest(context);
    const route = this.reflector.get<WechatPayNotificationRouteOptions | undefined>(
      NOTIFICATION_ROUTE_OPTIONS,
      context.getHandler(),
    );
    const raw = rawBodyOf(req, this.notifications.maxBodyBytes);
    const notification = await this.notifications.parse(req.headers, raw, {
      eventTypes: route?.eventTypes,
      resources: route?.resources ?? this.notifications.registry.defaultKinds(),
    });
    req[NOTIFICATION_REQUEST_KEY] = { notification, route };
    return true;
  }
}
