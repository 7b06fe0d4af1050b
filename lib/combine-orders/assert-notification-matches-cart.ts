import { WechatPayNotificationMismatchError } from '../notifications/wechat-pay-notification.errors';

/** What a combine notification (or query answer) is compared on. */
export interface NotificationCartFields {
  combine_mchid?: string;
  combine_out_trade_no: string;
  sub_orders: ReadonlyArray<{ out_trade_no: string; sub_mchid: string; amount: { total_amount: number } }>;
}

/** One sub-order of your local cart. Only the fields given are compared (`out_trade_no` always). */
export interface ExpectedCartSubOrder {
  out_trade_no: string;
  sub_mchid?: string;
  /** Sub-order total in fen (`amount.total_amount`). */
  total_amount?: number;
}

/** Your local cart, as stored when the combine order was created. */
export interface ExpectedNotificationCart {
  combine_out_trade_no?: string;
  combine_mchid?: string;
  /** Every sub-order of the cart: a sub-order missing from the notification, or one more in it, is a mismatch. */
  sub_orders: readonly ExpectedCartSubOrder[];
}

/**
 * The "防止假通知" check for a whole cart: throws `WechatPayNotificationMismatchError` naming every field in which a
 * verified combine notification differs from the local cart — `combine_out_trade_no`, `combine_mchid`, and per
 * sub-order (found by `out_trade_no`) `sub_orders[i].sub_mchid` and `sub_orders[i].amount.total_amount`, where `i`
 * is the index in your cart; `sub_orders[i]` when the notification lacks one, `sub_orders.length` when it has more.
 * Field names only: the error never carries the notification's values.
 */
export function assertNotificationMatchesCart(resource: NotificationCartFields, cart: ExpectedNotificationCart): void {
  const fields: string[] = [];
  if (cart.combine_out_trade_no !== undefined && resource.combine_out_trade_no !== cart.combine_out_trade_no) fields.push('combine_out_trade_no');
  if (cart.combine_mchid !== undefined && resource.combine_mchid !== cart.combine_mchid) fields.push('combine_mchid');
  const subs = Array.isArray(resource.sub_orders) ? resource.sub_orders : [];
  const received = new Map(subs.map((s) => [s.out_trade_no, s] as const));
  const expected = new Set<string>();
  cart.sub_orders.forEach((want, i) => {
    expected.add(want.out_trade_no);
    const got = received.get(want.out_trade_no);
    const at = `sub_orders[${i}]`;
    if (!got) {
      fields.push(at);
      return;
    }
    if (want.sub_mchid !== undefined && got.sub_mchid !== want.sub_mchid) fields.push(`${at}.sub_mchid`);
    if (want.total_amount !== undefined && got.amount?.total_amount !== want.total_amount) fields.push(`${at}.amount.total_amount`);
  });
  if (subs.length !== cart.sub_orders.length || [...received.keys()].some((no) => !expected.has(no))) fields.push('sub_orders.length');
  if (fields.length) throw new WechatPayNotificationMismatchError(fields);
}
