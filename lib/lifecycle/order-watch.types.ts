import type { CombineTransactionResource } from '../combine-orders/dto/combine-transaction.dto';
import type { WechatPayNotificationLease } from '../core/notify/exactly-once';
import type { PartnerTransactionResource } from '../notifications/dto/partner-transaction-resource.dto';

/** Which path found the payment: the notification route, or a query of the watch. */
export type PaidOrderSource = 'notification' | 'query';

/** A paid order, given to the paid handler whichever path found it. */
export type WechatPayPaidOrder =
  | { type: 'order'; source: PaidOrderSource; transaction: PartnerTransactionResource }
  | { type: 'combine'; source: PaidOrderSource; transaction: CombineTransactionResource };

/**
 * Your handler of paid orders, registered once with `onPaid()` and run exactly once per payment (same dedupe key
 * and store as the notification route). Check the amount against your order here (§3.2.6). A query that runs
 * after a refund of the order finds `trade_state: 'REFUND'` (paid, then refunded, in part or in full): treat it
 * as paid. A handler that throws on it is retried for ever.
 */
export type WechatPayPaidHandler = (paid: WechatPayPaidOrder, lease: WechatPayNotificationLease) => unknown;

/** An order the watch found unpaid after its `time_expire`, and closed (§3.2.8). */
export interface WechatPayOrderClosedEvent {
  type: 'order' | 'combine';
  /** Sub-merchant of a single order. */
  sub_mchid?: string;
  /** `out_trade_no`, or `combine_out_trade_no` of a combine order. */
  out_trade_no: string;
  /** The order's payment deadline, RFC 3339. */
  time_expire: string;
  /** `trade_state` found by the last query (CLOSED once closed). */
  trade_state: string;
}

/** Your handler of closed orders, run exactly once per order through the dedupe store. */
export type WechatPayOrderClosedHandler = (event: WechatPayOrderClosedEvent, lease: WechatPayNotificationLease) => unknown;

/** A single order to watch: the ids of its query, and its payment deadline. */
export interface WatchOrderRequest {
  sub_mchid: string;
  out_trade_no: string;
  /** The `time_expire` given at prepay; default now + `watch.defaultExpiryMs`. */
  time_expire?: Date | string;
}

/** A combine order to watch. */
export interface WatchCombineOrderRequest {
  combine_out_trade_no: string;
  time_expire?: Date | string;
}

/** What `handleNotification()` did: ran the handler, found it already run, or ignored a non-final state. */
export type HandlePaidNotificationResult = { status: 'processed' } | { status: 'duplicate' } | { status: 'ignored'; trade_state: string };
