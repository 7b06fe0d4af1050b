/** Internal: what stands behind `@NotificationResource()` / `@NotificationEnvelope()` (not part of the public API). */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { ExecutionContext, PipeTransform } from '@nestjs/common';
import { WechatPayError } from '../core/errors/wechat-pay.errors';
import type { ParsedWechatPayNotification } from '../core/notify/notification.types';
import { NOTIFICATION_REQUEST_KEY } from './notification.constants';
import { notificationRequest } from './notification-http';

/** The notification whose handler is running, set by the interceptor around `next.handle()`. */
const handling = new AsyncLocalStorage<ParsedWechatPayNotification<object>>();

/** Runs `fn` (the route handler, its pipes included) as the handling of `notification`. */
export function runHandling<T>(notification: ParsedWechatPayNotification<object>, fn: () => T): T {
  return handling.run(notification, fn);
}

function notificationOf(context: ExecutionContext): ParsedWechatPayNotification<object> {
  const notification = notificationRequest(context)[NOTIFICATION_REQUEST_KEY]?.notification;
  if (!notification) {
    throw new WechatPayError(
      '@NotificationResource() / @NotificationEnvelope() need @WechatPayNotification() on the same method',
    );
  }
  return notification;
}

/** Factory of `@NotificationResource()`: the resource the guard parsed. */
export function resourceFactory(_data: unknown, context: ExecutionContext): unknown {
  return notificationOf(context).resource;
}

/** Factory of `@NotificationEnvelope()`: the envelope the guard parsed. */
export function envelopeFactory(_data: unknown, context: ExecutionContext): unknown {
  return notificationOf(context).envelope;
}

/**
 * The first parameter pipe of both decorators: Nest runs global, controller and method pipes before parameter
 * pipes, and a global `ValidationPipe({ transform, whitelist, validateCustomDecorators })` would hand over a copy
 * without the fields WeChat Pay added after this package's DTOs were written. This pipe puts the verified object
 * back; the parameter's own pipes then run on it.
 */
export class NotificationArgumentPipe implements PipeTransform {
  constructor(private readonly pick: (notification: ParsedWechatPayNotification<object>) => unknown) {}

  transform(value: unknown): unknown {
    const notification = handling.getStore();
    return notification ? this.pick(notification) : value;
  }
}
