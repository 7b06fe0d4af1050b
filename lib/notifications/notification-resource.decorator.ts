import { createParamDecorator, type PipeTransform, type Type } from '@nestjs/common';
import { envelopeFactory, leaseFactory, NotificationArgumentPipe, resourceFactory } from './notification-arguments';

type Pipe = Type<PipeTransform> | PipeTransform;

const resourceParam = createParamDecorator(resourceFactory);
const envelopeParam = createParamDecorator(envelopeFactory);
const leaseParam = createParamDecorator(leaseFactory);
const resourcePipe = new NotificationArgumentPipe((h) => h.notification.resource);
const envelopePipe = new NotificationArgumentPipe((h) => h.notification.envelope);
const leasePipe = new NotificationArgumentPipe((h) => h.lease);

/**
 * The decrypted, validated resource: a `PartnerTransactionResource` for payments, a `PartnerRefundResource` for
 * refunds, an instance of your entry's class for a kind of `notifications.events`. Pipes given here run on it.
 */
export function NotificationResource(...pipes: Pipe[]): ParameterDecorator {
  return resourceParam(undefined, resourcePipe, ...pipes);
}

/** The notification envelope `{ id, create_time, event_type, resource_type, summary }`. Pipes given here run on it. */
export function NotificationEnvelope(...pipes: Pipe[]): ParameterDecorator {
  return envelopeParam(undefined, envelopePipe, ...pipes);
}

/**
 * The exactly-once lease of the running handler: `signal` aborts when the claim is lost (the store could not renew
 * it in time, or another delivery took the key), `fencingToken` grows with every claim of the notification's key, so
 * that your own writes can refuse a stale one (`UPDATE … WHERE fence < :token`). `undefined` on a route with
 * `dedupe: false`.
 */
export function NotificationLease(): ParameterDecorator {
  return leaseParam(undefined, leasePipe);
}
