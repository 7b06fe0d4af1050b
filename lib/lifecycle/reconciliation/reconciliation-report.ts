/** Kinds of difference between WeChat Pay's trade bill and your books. */
export type ReconciliationDifferenceKind =
  /** The bill has a payment your books do not have for that day. */
  | 'paid_not_local'
  /** Your books have a paid order the bill does not. */
  | 'local_not_at_wechat'
  /** Both have the order, with different amounts. */
  | 'amount_mismatch'
  /** The bill has a payment your books hold as unpaid. */
  | 'state_mismatch'
  | 'refund_not_local'
  | 'refund_local_not_at_wechat'
  | 'refund_amount_mismatch'
  | 'refund_state_mismatch';

/** One difference. Amounts in fen. */
export interface ReconciliationDifference {
  kind: ReconciliationDifferenceKind;
  sub_mchid: string;
  out_trade_no?: string;
  out_refund_no?: string;
  transaction_id?: string;
  /** What the bill says (amount, and state in the bill's vocabulary), when the bill has the record. */
  wechat?: { amount: number; state: string };
  /** What your books say, when they have the record. */
  local?: { amount: number; state: string };
}

/** The report of one day. */
export interface ReconciliationReport {
  /** The Beijing day reconciled, `YYYY-MM-DD`. */
  bill_date: string;
  /** WeChat Pay had no bill for that day (NO_STATEMENT_EXIST: no trades). */
  noStatement: boolean;
  /** Rows of the bill read (payments and refunds). */
  billRows: number;
  localOrders: number;
  localRefunds: number;
  /** Number of differences of each kind. */
  counts: Record<ReconciliationDifferenceKind, number>;
  /** All kinds together. */
  totalDifferences: number;
  /** The first `maxDifferences` differences (all of them go to `onDifference`). */
  differences: ReconciliationDifference[];
  /** More differences than `differences` holds. */
  truncated: boolean;
}

/** An empty count per kind. */
export function zeroCounts(): Record<ReconciliationDifferenceKind, number> {
  return {
    paid_not_local: 0,
    local_not_at_wechat: 0,
    amount_mismatch: 0,
    state_mismatch: 0,
    refund_not_local: 0,
    refund_local_not_at_wechat: 0,
    refund_amount_mismatch: 0,
    refund_state_mismatch: 0,
  };
}
