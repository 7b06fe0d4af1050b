import { defineNotificationEvent } from '../core/notify/notification-event-registry';
import { PartnerRefundResource } from '../notifications/dto/partner-refund-resource.dto';

/** `REFUND.SUCCESS` / `REFUND.ABNORMAL` / `REFUND.CLOSED` of a partner refund. */
export const PARTNER_REFUND_EVENT = defineNotificationEvent({
  name: 'partner-refund',
  match: (eventType, originalType, plain) =>
    eventType.startsWith('REFUND.') &&
    (originalType === undefined || originalType === 'refund') &&
    'out_refund_no' in plain,
  resourceClass: PartnerRefundResource,
  requireSpMchid: true,
  acceptedByDefault: true,
  dedupeKey: ({ envelope, resource: r }) =>
    r.out_refund_no
      ? `${envelope.event_type}:${r.sp_mchid}:${r.sub_mchid}:${r.out_refund_no}`
      : `${envelope.event_type}:${envelope.id}`,
});

/** Notification kinds of the refunds family. */
export const REFUNDS_NOTIFICATION_EVENTS = [PARTNER_REFUND_EVENT];
