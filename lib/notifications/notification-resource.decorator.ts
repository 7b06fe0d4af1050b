import { createParamDecorator, type PipeTransform, type Type } from '@nestjs/common';
import { envelopeFactory, NotificationArgumentPipe, resourceFactory } from './notification-arguments';

type Pipe = Type<PipeTransform> | PipeTransform;

const resourceParam = createParamDecorator(resourceFactory);
const envelopeParam = createParamDecorator(envelopeFactory);
const resourcePipe = new NotificationArgumentPipe((n) => n.resource);
const envelopePipe = new NotificationArgumentPipe((n) => n.envelope);

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
