/**
 * Answers of profit sharing (分账), with each family's field names: ecommerce `status` on a
 * split, partner `state`; `result` on receiver lines. Every enum is an open union, and every field a source does not
 * mark required is optional, because the sources disagree (e.g. `FAILED` vs `FAIL`, JAVA's split statuses).
 */

/** A split's `status` / `state`: `FINISHED` means only that it ran; each line's `result` says whether it succeeded. */
export type ProfitSharingOrderStatus = 'PROCESSING' | 'FINISHED' | 'CLOSED' | (string & NonNullable<unknown>);
/** A receiver line's `result`. */
export type ProfitSharingReceiverResult = 'PENDING' | 'SUCCESS' | 'CLOSED' | (string & NonNullable<unknown>);
/** Why a receiver line was CLOSED [SDK wechatpay-java]. */
export type ProfitSharingFailReason =
  | 'ACCOUNT_ABNORMAL'
  | 'NO_RELATION'
  | 'RECEIVER_HIGH_RISK'
  | 'RECEIVER_REAL_NAME_NOT_VERIFIED'
  | 'NO_AUTH'
  | 'RECEIVER_RECEIPT_LIMIT'
  | 'PAYER_ACCOUNT_ABNORMAL'
  | 'INVALID_REQUEST'
  | (string & NonNullable<unknown>);
/** A return's `result` / `state`: OPENAPI spells the failure `FAIL`, JAVA `FAILED`; both arrive. */
export type ProfitSharingReturnResult = 'PROCESSING' | 'SUCCESS' | 'FAILED' | 'FAIL' | (string & NonNullable<unknown>);
/** Why a return failed (`BALANCE_NOT_ENOUGH` is in GO's partner enum). */
export type ProfitSharingReturnFailReason = 'ACCOUNT_ABNORMAL' | 'TIME_OUT_CLOSED' | 'PAYER_ACCOUNT_ABNORMAL' | 'INVALID_REQUEST' | 'BALANCE_NOT_ENOUGH' | (string & NonNullable<unknown>);

/** Answer of adding or deleting an ecommerce receiver. */
export interface EcommerceReceiverAnswer {
  type: string;
  account: string;
}

/** Answer of adding or deleting a partner receiver (the name is not echoed in plain text). */
export interface PartnerReceiverAnswer {
  sub_mchid: string;
  type: string;
  account: string;
  relation_type?: string;
  custom_relation?: string;
}

/** A receiver line of an ecommerce split. */
export interface EcommerceSplitReceiverResult {
  amount: number;
  description: string;
  result: ProfitSharingReceiverResult;
  type: string;
  receiver_account: string;
  detail_id?: string;
  /** RFC 3339. */
  finish_time?: string;
  fail_reason?: ProfitSharingFailReason;
  receiver_mchid?: string;
  abnormal_status?: 'ABNORMAL_PENDING' | 'ABNORMAL_FINISHED' | 'ABNORMAL_CLOSED' | (string & NonNullable<unknown>);
}

/** An ecommerce split as `createOrder()` and `queryOrder()` answer it. */
export interface EcommerceProfitSharingOrder {
  sub_mchid: string;
  transaction_id: string;
  out_order_no: string;
  order_id: string;
  status: ProfitSharingOrderStatus;
  /** Absent when the number queried is a finish-order number. */
  receivers?: EcommerceSplitReceiverResult[];
  /** `NO_AUTH`; documented as "present when status is CLOSED" (UNVERIFIED status). */
  close_reason?: string;
  /** Only when the number queried is a finish-order number: what was unfrozen. */
  finish_amount?: number;
  finish_description?: string;
}

/** Answer of the ecommerce `finish-order` (async: query its `out_order_no` for `finish_amount`). */
export interface EcommerceFinishAnswer {
  sub_mchid: string;
  transaction_id: string;
  out_order_no: string;
  order_id: string;
}

/** A receiver line of a partner split. */
export interface PartnerSplitReceiverResult {
  amount: number;
  description: string;
  type: string;
  account: string;
  result: ProfitSharingReceiverResult;
  fail_reason?: ProfitSharingFailReason;
  detail_id?: string;
  create_time?: string;
  finish_time?: string;
}

/** A partner split (also the answer of `orders/unfreeze`). */
export interface PartnerProfitSharingOrder {
  sub_mchid: string;
  transaction_id: string;
  out_order_no: string;
  order_id: string;
  state: ProfitSharingOrderStatus;
  receivers?: PartnerSplitReceiverResult[];
}

/** 剩余待分金额 of an order, in fen. */
export interface ProfitSharingAmounts {
  transaction_id: string;
  unsplit_amount: number;
}

/** An ecommerce return (分账回退), as created and queried. */
export interface EcommerceProfitSharingReturn {
  sub_mchid: string;
  order_id: string;
  out_order_no: string;
  out_return_no: string;
  return_mchid: string;
  amount: number;
  return_no: string;
  result: ProfitSharingReturnResult;
  fail_reason?: ProfitSharingReturnFailReason;
  finish_time?: string;
}

/**
 * A partner return (分账回退), as created and queried. Its outcome is `result`, as in wechatpay-go's
 * `ReturnOrdersEntity` (WeChat Pay's documentation says `state`; the SDK source wins).
 */
export interface PartnerProfitSharingReturn {
  sub_mchid: string;
  order_id: string;
  out_order_no: string;
  out_return_no: string;
  return_id: string;
  return_mchid: string;
  amount: number;
  description?: string;
  result: ProfitSharingReturnResult;
  fail_reason?: ProfitSharingReturnFailReason;
  create_time?: string;
  finish_time?: string;
}
