/**
 * Your side of the daily reconciliation: the orders and refunds your books hold for one Beijing day. Each method
 * may be called twice per reconciliation (once to index, once to find what WeChat Pay does not have), so it must
 * return a fresh iteration every call; stream from your database (a cursor), the reconciliation keeps ~20 bytes
 * per record, not the records.
 */
export interface WechatPayLocalOrderSource {
  /** Orders paid (or, if unpaid, created) on this Beijing day, `YYYY-MM-DD`, as your books record them. */
  ordersOfDay(day: string): AsyncIterable<LocalOrderRecord> | Iterable<LocalOrderRecord>;
  /** Refunds requested or completed on this Beijing day; without it refund rows are not reconciled. */
  refundsOfDay?(day: string): AsyncIterable<LocalRefundRecord> | Iterable<LocalRefundRecord>;
}

/** An order as your books hold it. */
export interface LocalOrderRecord {
  sub_mchid: string;
  out_trade_no: string;
  /** Order amount in fen (`amount.total`), compared with the bill's 订单金额. */
  total: number;
  /** Your state in WeChat's vocabulary: SUCCESS (or REFUND) for a paid order; NOTPAY, CLOSED… for one that is not. */
  trade_state: 'SUCCESS' | 'REFUND' | 'NOTPAY' | 'CLOSED' | (string & NonNullable<unknown>);
}

/** A refund as your books hold it. */
export interface LocalRefundRecord {
  sub_mchid: string;
  out_refund_no: string;
  out_trade_no?: string;
  /** Refund amount in fen. */
  refund: number;
  /** Your state in the refund API's vocabulary: SUCCESS, PROCESSING, CLOSED, ABNORMAL. */
  status: 'SUCCESS' | 'PROCESSING' | 'CLOSED' | 'ABNORMAL' | (string & NonNullable<unknown>);
}
