import { WechatPayNotificationMismatchError } from './wechat-pay-notification.errors';

/** What a notification resource is compared on (transactions and refunds both have these). */
export interface NotificationOrderFields {
  sp_mchid?: string;
  sub_mchid: string;
  out_trade_no: string;
  amount: { total: number };
}

/** Your local order, as stored when it was created. Only the fields given are compared. */
export interface ExpectedNotificationOrder {
  out_trade_no?: string;
  sub_mchid?: string;
  /** Order total in fen. */
  total?: number;
  sp_mchid?: string;
}

/**
 * The "防止假通知" check: throws `WechatPayNotificationMismatchError` naming every field in which a verified
 * notification differs from the local order (`out_trade_no`, `sub_mchid`, `amount.total`, `sp_mchid`).
 */
export function assertNotificationMatchesOrder(
  resource: NotificationOrderFields,
  order: ExpectedNotificationOrder,
): void {
  const fields: string[] = [];
  if (order.out_trade_no !== undefined && resource.out_trade_no !== order.out_trade_no)
    fields.push('out_trade_no');
  if (order.sub_mchid !== undefined && resource.sub_mchid !== order.sub_mchid) fields.push('sub_mchid');
  if (order.total !== undefined && resource.amount?.total !== order.total) fields.push('amount.total');
  if (order.sp_mchid !== undefined && resource.sp_mchid !== order.sp_mchid) fields.push('sp_mchid');
  if (fields.length) throw new WechatPayNotificationMismatchError(fields);
}
