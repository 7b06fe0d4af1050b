import { Req } from '@nestjs/common';
import { NOTIFICATION_REQUEST_KEY } from './notification.constants';
import type { NotificationHttpRequest } from './notification-http';
import { envelopeFactory, resourceFactory } from './notification-param-factories';
import type { ParsedWechatPayNotification } from './wechat-pay-notification.service';

type Handler = (this: unknown, ...args: unknown[]) => unknown;

/** One entry of Nest's route argument metadata (`ROUTE_ARGS_METADATA`), as `createParamDecorator` writes it. */
interface RouteArgMetadata {
  index: number;
  factory?: unknown;
  pipes?: unknown[];
}

/** An argument the wrapper fills itself: `@NotificationResource()` or `@NotificationEnvelope()` without pipes. */
interface Fill {
  index: number;
  pick: (notification: ParsedWechatPayNotification) => unknown;
}

/**
 * The metadata key under which Nest keeps the parameter decorators of a route, read off Nest itself rather than
 * imported from an internal path (`@nestjs/common/constants` is not an entry point of every supported major).
 */
const ROUTE_ARGS_METADATA: unknown = (() => {
  class Probe {
    handler(): void {}
  }
  Req()(Probe.prototype, 'handler', 0);
  return Reflect.getOwnMetadataKeys(Probe, 'handler')[0];
})();

const pickResource = (n: ParsedWechatPayNotification): unknown => n.resource;
const pickEnvelope = (n: ParsedWechatPayNotification): unknown => n.envelope;

/**
 * Takes `@NotificationResource()` / `@NotificationEnvelope()` (without pipes) out of Nest's parameter metadata of the
 * method and returns where they were: the wrapper fills them from the guard's result, which spares Nest a per-request
 * execution context and pipe pass for each. Parameters with pipes stay with Nest, which runs them.
 */
function takeNotificationParams(target: object, key: string | symbol): Fill[] {
  const args = Reflect.getMetadata(ROUTE_ARGS_METADATA, target.constructor, key) as
    | Record<string, RouteArgMetadata>
    | undefined;
  if (!args) return [];
  const kept: Record<string, RouteArgMetadata> = {};
  const fills: Fill[] = [];
  for (const [k, meta] of Object.entries(args)) {
    const pick =
      meta.factory === resourceFactory ? pickResource : meta.factory === envelopeFactory ? pickEnvelope : undefined;
    if (pick && !meta.pipes?.length) fills.push({ index: meta.index, pick });
    else kept[k] = meta;
  }
  // A copy on the class itself: metadata inherited from a parent class stays untouched.
  if (fills.length) Reflect.defineMetadata(ROUTE_ARGS_METADATA, kept, target.constructor, key);
  return fills;
}

/**
 * Runs the decorated handler through the exactly-once runner of its request: claim → handler → complete, and the
 * handler's result is what Nest replies with. A wrapper instead of an interceptor: it keeps that exact order without
 * the cost of Nest's interceptor pipeline on every notification. It also hands the handler its
 * `@NotificationResource()` / `@NotificationEnvelope()` arguments. Called directly (a unit test of the controller),
 * the handler just runs with the arguments it was given.
 */
export function RunNotificationOnce(): MethodDecorator {
  return (target, key, descriptor) => {
    const original = descriptor.value as unknown as Handler;
    // The request goes after every declared parameter, decorated or not.
    const declared =
      (Reflect.getMetadata('design:paramtypes', target, key) as unknown[] | undefined)?.length ?? 0;
    const index = Math.max(declared, original.length);
    // TypeScript applies parameter decorators before method decorators: Nest's metadata of this method is complete.
    const fills = takeNotificationParams(target, key);
    // The request, as an extra last argument: `@Req()` is resolved synchronously, without the per-request execution
    // context and pipe pass of a custom parameter decorator. The guard left the notification and the runner on it.
    Req()(target, key, index);
    const wrapped: Handler = function (this: unknown, ...args: unknown[]): unknown {
      const state = (args[index] as NotificationHttpRequest | undefined)?.[NOTIFICATION_REQUEST_KEY];
      args.length = index;
      if (!state) return original.apply(this, args);
      for (let i = 0; i < fills.length; i++) args[fills[i].index] = fills[i].pick(state.notification);
      return state.run ? state.run(() => original.apply(this, args)) : original.apply(this, args);
    };
    // Metadata that decorators listed below this one put on the original function (route, guards, …) moves along.
    for (const k of Reflect.getOwnMetadataKeys(original))
      Reflect.defineMetadata(k, Reflect.getOwnMetadata(k, original), wrapped);
    Object.defineProperty(wrapped, 'name', { value: original.name });
    descriptor.value = wrapped as unknown as typeof descriptor.value;
  };
}
