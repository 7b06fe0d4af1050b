/**
 * Column tables of WeChat Pay bills: Chinese header -> snake_case key and value kind, the standard
 * layouts the writer emits, and the functions that turn one parsed line into a typed row or summary.
 * One table per bill is the single source for the parser, the writer and their tests.
 */
import { FEE_DECIMALS, YUAN_DECIMALS } from './bill-money';
import { type BillAmount } from './dto/bill-amount.dto';
import { type FundFlowBillRow, type FundFlowBillSummary } from './dto/fund-flow-bill.dto';
import { type TradeBillRow, type TradeBillSummary, type TradeBillType } from './dto/trade-bill.dto';

/** How the text of a column becomes a value. */
export type BillColumnKind = 'text' | 'amount' | 'count';

/** One known column of a bill. */
export interface BillColumn {
  /** Header as WeChat writes it (half-width parentheses); see `normalizeBillHeader`. */
  readonly header: string;
  /** snake_case key in the parsed row. */
  readonly key: string;
  readonly kind: BillColumnKind;
  /** Scale of an amount column (2 = fen, 5 = fee); 0 otherwise. */
  readonly decimals: number;
  /** Whether the header must contain this column. */
  readonly required: boolean;
}

/** A converted field, before it is placed in a typed row. */
export type BillCell = string | number | BillAmount | undefined;

/** Everything the generic parser needs to know about one kind of bill. */
export interface BillSchema<Row, Summary> {
  /** Human name used in error messages, e.g. `trade bill`. */
  readonly name: string;
  /** Detail columns; a cell array passed to `buildRow` is indexed like this array. */
  readonly columns: readonly BillColumn[];
  /** First header of the summary header line: the line that starts with it ends the detail rows. */
  readonly summaryMarker: string;
  readonly summaryColumns: readonly BillColumn[];
  buildRow(cells: readonly BillCell[], extra: Record<string, string> | undefined): Row;
  buildSummary(cells: readonly BillCell[], extra: Record<string, string> | undefined): Summary;
}

function text(header: string, key: string, required = true): BillColumn {
  return { header, key, kind: 'text', decimals: 0, required };
}
function amount(header: string, key: string, required = true, decimals = YUAN_DECIMALS): BillColumn {
  return { header, key, kind: 'amount', decimals, required };
}
function count(header: string, key: string): BillColumn {
  return { header, key, kind: 'count', decimals: 0, required: true };
}

/** Maps full-width parentheses to half-width and trims, so `收支金额（元）` matches `收支金额(元)`. */
export function normalizeBillHeader(header: string): string {
  return header.trim().replace(/（/g, '(').replace(/）/g, ')');
}

/** Trade bill detail columns, in the order of `TradeBillRow`'s keys (`buildTradeRow` relies on it). */
export const TRADE_BILL_COLUMNS: readonly BillColumn[] = [
  text('交易时间', 'trade_time'),
  text('公众账号ID', 'appid'),
  text('商户号', 'mchid'),
  text('特约商户号', 'sub_mchid'),
  text('设备号', 'device_id'),
  text('微信订单号', 'transaction_id'),
  text('商户订单号', 'out_trade_no'),
  text('用户标识', 'openid'),
  text('交易类型', 'trade_type'),
  text('交易状态', 'trade_state'),
  text('付款银行', 'bank_type'),
  text('货币种类', 'currency'),
  amount('应结订单金额', 'settlement_total'),
  amount('代金券金额', 'coupon_amount'),
  text('微信退款单号', 'refund_id', false),
  text('商户退款单号', 'out_refund_no', false),
  amount('退款金额', 'refund_amount', false),
  amount('充值券退款金额', 'recharge_coupon_refund_amount', false),
  text('退款类型', 'refund_type', false),
  text('退款状态', 'refund_status', false),
  text('商品名称', 'goods_name'),
  text('商户数据包', 'attach'),
  amount('手续费', 'fee', true, FEE_DECIMALS),
  text('费率', 'fee_rate'),
  amount('订单金额', 'order_amount'),
  amount('申请退款金额', 'applied_refund_amount', false),
  text('费率备注', 'fee_remark'),
  text('退款申请时间', 'refund_apply_time', false),
  text('退款成功时间', 'refund_success_time', false),
];

/** Trade bill summary columns, in the order of `TradeBillSummary`'s keys. */
export const TRADE_BILL_SUMMARY_COLUMNS: readonly BillColumn[] = [
  count('总交易单数', 'total_count'),
  amount('应结订单总金额', 'settlement_total'),
  amount('退款总金额', 'refund_total'),
  amount('充值券退款总金额', 'recharge_coupon_refund_total'),
  amount('手续费总金额', 'fee_total', true, FEE_DECIMALS),
  amount('订单总金额', 'order_total'),
  amount('申请退款总金额', 'applied_refund_total'),
];

/** Detail headers of each trade bill layout, in WeChat's order. */
export const TRADE_BILL_LAYOUTS: Readonly<Record<TradeBillType, readonly string[]>> = {
  ALL: [
    '交易时间',
    '公众账号ID',
    '商户号',
    '特约商户号',
    '设备号',
    '微信订单号',
    '商户订单号',
    '用户标识',
    '交易类型',
    '交易状态',
    '付款银行',
    '货币种类',
    '应结订单金额',
    '代金券金额',
    '微信退款单号',
    '商户退款单号',
    '退款金额',
    '充值券退款金额',
    '退款类型',
    '退款状态',
    '商品名称',
    '商户数据包',
    '手续费',
    '费率',
    '订单金额',
    '申请退款金额',
    '费率备注',
  ],
  SUCCESS: [
    '交易时间',
    '公众账号ID',
    '商户号',
    '特约商户号',
    '设备号',
    '微信订单号',
    '商户订单号',
    '用户标识',
    '交易类型',
    '交易状态',
    '付款银行',
    '货币种类',
    '应结订单金额',
    '代金券金额',
    '商品名称',
    '商户数据包',
    '手续费',
    '费率',
    '订单金额',
    '费率备注',
  ],
  REFUND: [
    '交易时间',
    '公众账号ID',
    '商户号',
    '特约商户号',
    '设备号',
    '微信订单号',
    '商户订单号',
    '用户标识',
    '交易类型',
    '交易状态',
    '付款银行',
    '货币种类',
    '应结订单金额',
    '代金券金额',
    '退款申请时间',
    '退款成功时间',
    '微信退款单号',
    '商户退款单号',
    '退款金额',
    '充值券退款金额',
    '退款类型',
    '退款状态',
    '商品名称',
    '商户数据包',
    '手续费',
    '费率',
    '订单金额',
    '申请退款金额',
    '费率备注',
  ],
};

/** Fund-flow bill detail columns, in the order of `FundFlowBillRow`'s keys. */
export const FUND_FLOW_BILL_COLUMNS: readonly BillColumn[] = [
  text('记账时间', 'accounting_time'),
  text('微信支付业务单号', 'business_no'),
  text('资金流水单号', 'flow_no'),
  text('业务名称', 'business_name'),
  text('业务类型', 'business_type'),
  text('收支类型', 'income_type'),
  amount('收支金额(元)', 'amount'),
  amount('账户结余(元)', 'balance'),
  text('资金变更提交申请人', 'applicant'),
  text('备注', 'remark'),
  text('业务凭证号', 'voucher_no'),
];

/** Fund-flow bill summary columns, in the order of `FundFlowBillSummary`'s keys. */
export const FUND_FLOW_BILL_SUMMARY_COLUMNS: readonly BillColumn[] = [
  count('资金流水总笔数', 'total_count'),
  count('收入笔数', 'income_count'),
  amount('收入金额', 'income_amount'),
  count('支出笔数', 'expense_count'),
  amount('支出金额', 'expense_amount'),
];

/** 收支类型 values. */
export const FUND_FLOW_INCOME = '收入';
export const FUND_FLOW_EXPENSE = '支出';

// The builders below index `cells` by the position of the column in the tables above; one object literal per row
// keeps every row on the same hidden class, which matters at millions of rows.
type Cells = readonly BillCell[];

function buildTradeRow(c: Cells, extra: Record<string, string> | undefined): TradeBillRow {
  const row: TradeBillRow = {
    trade_time: c[0] as string,
    appid: c[1] as string,
    mchid: c[2] as string,
    sub_mchid: c[3] as string,
    device_id: c[4] as string,
    transaction_id: c[5] as string,
    out_trade_no: c[6] as string,
    openid: c[7] as string,
    trade_type: c[8] as string,
    trade_state: c[9] as string,
    bank_type: c[10] as string,
    currency: c[11] as string,
    settlement_total: c[12] as BillAmount,
    coupon_amount: c[13] as BillAmount,
    refund_id: c[14] as string | undefined,
    out_refund_no: c[15] as string | undefined,
    refund_amount: c[16] as BillAmount | undefined,
    recharge_coupon_refund_amount: c[17] as BillAmount | undefined,
    refund_type: c[18] as string | undefined,
    refund_status: c[19] as string | undefined,
    goods_name: c[20] as string,
    attach: c[21] as string,
    fee: c[22] as BillAmount,
    fee_rate: c[23] as string,
    order_amount: c[24] as BillAmount,
    applied_refund_amount: c[25] as BillAmount | undefined,
    fee_remark: c[26] as string,
    refund_apply_time: c[27] as string | undefined,
    refund_success_time: c[28] as string | undefined,
  };
  if (extra !== undefined) row.extra = extra;
  return row;
}

function buildTradeSummary(c: Cells, extra: Record<string, string> | undefined): TradeBillSummary {
  const summary: TradeBillSummary = {
    total_count: c[0] as number,
    settlement_total: c[1] as BillAmount,
    refund_total: c[2] as BillAmount,
    recharge_coupon_refund_total: c[3] as BillAmount,
    fee_total: c[4] as BillAmount,
    order_total: c[5] as BillAmount,
    applied_refund_total: c[6] as BillAmount,
  };
  if (extra !== undefined) summary.extra = extra;
  return summary;
}

function buildFundFlowRow(c: Cells, extra: Record<string, string> | undefined): FundFlowBillRow {
  const row: FundFlowBillRow = {
    accounting_time: c[0] as string,
    business_no: c[1] as string,
    flow_no: c[2] as string,
    business_name: c[3] as string,
    business_type: c[4] as string,
    income_type: c[5] as string,
    amount: c[6] as BillAmount,
    balance: c[7] as BillAmount,
    applicant: c[8] as string,
    remark: c[9] as string,
    voucher_no: c[10] as string,
  };
  if (extra !== undefined) row.extra = extra;
  return row;
}

function buildFundFlowSummary(c: Cells, extra: Record<string, string> | undefined): FundFlowBillSummary {
  const summary: FundFlowBillSummary = {
    total_count: c[0] as number,
    income_count: c[1] as number,
    income_amount: c[2] as BillAmount,
    expense_count: c[3] as number,
    expense_amount: c[4] as BillAmount,
  };
  if (extra !== undefined) summary.extra = extra;
  return summary;
}

/** The trade bill (交易账单) schema. */
export const TRADE_BILL_SCHEMA: BillSchema<TradeBillRow, TradeBillSummary> = {
  name: 'trade bill',
  columns: TRADE_BILL_COLUMNS,
  summaryMarker: '总交易单数',
  summaryColumns: TRADE_BILL_SUMMARY_COLUMNS,
  buildRow: buildTradeRow,
  buildSummary: buildTradeSummary,
};

/** The fund-flow bill (资金账单) schema. */
export const FUND_FLOW_BILL_SCHEMA: BillSchema<FundFlowBillRow, FundFlowBillSummary> = {
  name: 'fund-flow bill',
  columns: FUND_FLOW_BILL_COLUMNS,
  summaryMarker: '资金流水总笔数',
  summaryColumns: FUND_FLOW_BILL_SUMMARY_COLUMNS,
  buildRow: buildFundFlowRow,
  buildSummary: buildFundFlowSummary,
};
