import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { NOTIFICATION_REQUEST_KEY } from './notification.constants';
import { notificationRequest, type NotificationRunner } from './notification-http';

type Handler = (this: unknown, ...args: unknown[]) => unknown;

/** Resolves to the runner the guard left on the request (an extra, last argument of the wrapped handler). */
const InjectNotificationRunner = createParamDecorator(
  (_data: unknown, context: ExecutionContext) => notificationRequest(context)[NOTIFICATION_REQUEST_KEY]?.run,
);

/**
 * Runs the decorated handler through the exactly-once runner of its request: claim → handler → complete, and the
 * handler's result is what Nest replies with. A wrapper instead of an interceptor: it keeps that exact order without
 * the cost of Nest's interceptor pipeline on every notification. Called directly (a unit test of the controller),
 * the handler just runs.
 */
export function RunNotificationOnce(): MethodDecorator {
  return (target, key, descriptor) => {
    const original = descriptor.value as unknown as Handler;
    // The runner goes after every declared parameter, decorated or not.
    const declared =
      (Reflect.getMetadata('design:paramtypes', target, key) as unknown[] | undefined)?.length ?? 0;
    const index = Math.max(declared, original.length);
    InjectNotificationRunner()(target, key, index);
    const wrapped: Handler = function (this: unknown, ...args: unknown[]): unknown {
      const run = args[index] as NotificationRunner | undefined;
      const own = args.slice(0, index);
      return run ? run(() => original.apply(this, own)) : original.apply(this, own);
    };
    // Metadata that decorators listed below this one put on the original function (route, guards, …) moves along.
    for (const k of Reflect.getOwnMetadataKeys(original))
      Reflect.defineMetadata(k, Reflect.getOwnMetadata(k, original), wrapped);
    Object.defineProperty(wrapped, 'name', { value: original.name });
    descriptor.value = wrapped as unknown as typeof descriptor.value;
  };
}
