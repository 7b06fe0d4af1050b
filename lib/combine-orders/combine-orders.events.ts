import { defineNotificationEvent } from '../core/notify/notification-event-registry';
import { CombineTransactionResource } from './dto/combine-transaction.dto';

/**
 * The combine payment notification: `TRANSACTION.SUCCESS` like a single order, but with the
 * shape of the combine query — `combine_out_trade_no` and `sub_orders`, no top-level `out_trade_no` or
 * `trade_state` — one for the whole cart. Not accepted by default: a route receives it only when it lists
 * `resources: ['combine-transaction']`, so a handler written for single orders never gets a cart (and the reverse).
 * The resource carries no `sp_mchid`; compare `combine_mchid` with `assertNotificationMatchesCart()`.
 */
export const COMBINE_TRANSACTION_EVENT = defineNotificationEvent({
  name: 'combine-transaction',
  match: (eventType, originalType, plain) =>
    eventType === 'TRANSACTION.SUCCESS' &&
    (originalType === undefined || originalType === 'transaction') &&
    'combine_out_trade_no' in plain &&
    'sub_orders' in plain,
  resourceClass: CombineTransactionResource,
  // One notification per cart, whatever the number of deliveries or of sub-orders.
  dedupeKey: ({ resource: r }) => `combine:${r.combine_mchid}:${r.combine_out_trade_no}`,
});

/** Notification kinds of the combine orders family. */
export const COMBINE_ORDERS_NOTIFICATION_EVENTS = [COMBINE_TRANSACTION_EVENT];
