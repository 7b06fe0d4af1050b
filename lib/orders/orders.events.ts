import { defineNotificationEvent } from '../core/notify/notification-event-registry';
import { PartnerTransactionResource } from '../notifications/dto/partner-transaction-resource.dto';

/**
 * `TRANSACTION.*` with the shape of a partner transaction. Combine-payment and profit-sharing
 * notifications also arrive as `TRANSACTION.SUCCESS`, but have no top-level `out_trade_no` + `trade_state`
 * (combine: `combine_out_trade_no` and `sub_orders`; profit sharing: `order_id` and `receiver`).
 */
export const PARTNER_TRANSACTION_EVENT = defineNotificationEvent({
  name: 'partner-transaction',
  match: (eventType, originalType, plain) =>
    eventType.startsWith('TRANSACTION.') &&
    (originalType === undefined || originalType === 'transaction') &&
    'out_trade_no' in plain &&
    'trade_state' in plain &&
    !('combine_out_trade_no' in plain),
  resourceClass: PartnerTransactionResource,
  requireSpMchid: true,
  acceptedByDefault: true,
  dedupeKey: ({ envelope, resource: r }) =>
    r.transaction_id
      ? `${envelope.event_type}:${r.sp_mchid}:${r.sub_mchid}:${r.transaction_id}`
      : `${envelope.event_type}:${envelope.id}`,
});

/** Notification kinds of the orders family. */
export const ORDERS_NOTIFICATION_EVENTS = [PARTNER_TRANSACTION_EVENT];
