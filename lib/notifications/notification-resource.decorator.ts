import { createParamDecorator } from '@nestjs/common';
import { envelopeFactory, resourceFactory } from './notification-param-factories';

/**
 * The decrypted, validated resource: a `PartnerTransactionResource` for `TRANSACTION.*`, a `PartnerRefundResource`
 * for `REFUND.*`, a plain object for other events.
 */
export const NotificationResource = createParamDecorator(resourceFactory);

/** The notification envelope `{ id, create_time, event_type, resource_type, summary }`. */
export const NotificationEnvelope = createParamDecorator(envelopeFactory);
