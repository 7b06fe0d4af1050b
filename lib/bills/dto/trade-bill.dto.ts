import { type BillAmount } from './bill-amount.dto';

/** The `bill_type` of a trade bill (交易账单) as requested from `GET /v3/bill/tradebill`. */
export type TradeBillType = 'ALL' | 'SUCCESS' | 'REFUND';

/**
 * One detail row of a trade bill, keyed by WeChat's column meaning in snake_case. Columns are matched by their
 * Chinese header name, never by position. Columns that the file's layout does not have (for example the refund
 * columns of a `SUCCESS` bill) are `undefined`; columns this package does not know are kept in `extra`.
 */
export interface TradeBillRow {
  /** 交易时间, `yyyy-MM-dd HH:mm:ss` Beijing time. */
  trade_time: string;
  /** 公众账号ID. */
  appid: string;
  /** 商户号 (the service provider's sp_mchid for partners). */
  mchid: string;
  /** 特约商户号 (sub_mchid; `0` in merchant bills). */
  sub_mchid: string;
  /** 设备号. */
  device_id: string;
  /** 微信订单号. */
  transaction_id: string;
  /** 商户订单号. */
  out_trade_no: string;
  /** 用户标识 (openid). */
  openid: string;
  /** 交易类型: JSAPI, NATIVE, APP, MWEB, MICROPAY, ... (open vocabulary). */
  trade_type: string;
  /** 交易状态: SUCCESS (payment row), REFUND (refund row), REVOKED. */
  trade_state: string;
  /** 付款银行. */
  bank_type: string;
  /** 货币种类. */
  currency: string;
  /** 应结订单金额 (fen). */
  settlement_total: BillAmount;
  /** 代金券金额 (fen). */
  coupon_amount: BillAmount;
  /** 微信退款单号 (`0` on payment rows). */
  refund_id?: string;
  /** 商户退款单号 (`0` on payment rows). */
  out_refund_no?: string;
  /** 退款金额 (fen). */
  refund_amount?: BillAmount;
  /** 充值券退款金额 (fen). */
  recharge_coupon_refund_amount?: BillAmount;
  /** 退款类型: ORIGINAL, BALANCE (empty on payment rows). */
  refund_type?: string;
  /** 退款状态 (bill vocabulary): SUCCESS, PROCESSING, FAIL, CHANGE (empty on payment rows). */
  refund_status?: string;
  /** 商品名称. */
  goods_name: string;
  /** 商户数据包. */
  attach: string;
  /** 手续费, 5 decimals (1/100000 yuan); negative on refund rows. */
  fee: BillAmount;
  /** 费率, text such as `0.60%`. */
  fee_rate: string;
  /** 订单金额 (fen); use this, not settlement_total, to reconcile with `amount.total`. */
  order_amount: BillAmount;
  /** 申请退款金额 (fen). */
  applied_refund_amount?: BillAmount;
  /** 费率备注. */
  fee_remark: string;
  /** 退款申请时间 (REFUND layout only). */
  refund_apply_time?: string;
  /** 退款成功时间 (REFUND layout only). */
  refund_success_time?: string;
  /** Columns not known to this package, keyed by their Chinese header; present only when the file has some. */
  extra?: Record<string, string>;
}

/** The summary (汇总) lines at the end of a trade bill. */
export interface TradeBillSummary {
  /** 总交易单数. */
  total_count: number;
  /** 应结订单总金额 (fen). */
  settlement_total: BillAmount;
  /** 退款总金额 (fen). */
  refund_total: BillAmount;
  /** 充值券退款总金额 (fen). */
  recharge_coupon_refund_total: BillAmount;
  /** 手续费总金额, 5 decimals (1/100000 yuan). */
  fee_total: BillAmount;
  /** 订单总金额 (fen). */
  order_total: BillAmount;
  /** 申请退款总金额 (fen). */
  applied_refund_total: BillAmount;
  /** Summary columns not known to this package, keyed by their Chinese header. */
  extra?: Record<string, string>;
}
