import { type BillAmount } from './bill-amount.dto';

/** One detail row of a fund-flow bill (资金账单), keyed by column meaning; columns matched by header name. */
export interface FundFlowBillRow {
  /** 记账时间. */
  accounting_time: string;
  /** 微信支付业务单号. */
  business_no: string;
  /** 资金流水单号. */
  flow_no: string;
  /** 业务名称. */
  business_name: string;
  /** 业务类型. */
  business_type: string;
  /** 收支类型: 收入 or 支出. */
  income_type: string;
  /** 收支金额(元) (fen). */
  amount: BillAmount;
  /** 账户结余(元) (fen). */
  balance: BillAmount;
  /** 资金变更提交申请人. */
  applicant: string;
  /** 备注. */
  remark: string;
  /** 业务凭证号. */
  voucher_no: string;
  /** Columns not known to this package, keyed by their Chinese header; present only when the file has some. */
  extra?: Record<string, string>;
}

/** The summary lines at the end of a fund-flow bill. */
export interface FundFlowBillSummary {
  /** 资金流水总笔数. */
  total_count: number;
  /** 收入笔数. */
  income_count: number;
  /** 收入金额 (fen). */
  income_amount: BillAmount;
  /** 支出笔数. */
  expense_count: number;
  /** 支出金额 (fen). */
  expense_amount: BillAmount;
  /** Summary columns not known to this package, keyed by their Chinese header. */
  extra?: Record<string, string>;
}
