/**
 * Writes trade and fund-flow bills in WeChat Pay's format, for the offline simulator and for tests:
 * a plain header line, detail rows with every field prefixed by a backtick, a plain summary header and a backtick
 * summary values line computed from the rows. BOM and CRLF by default, as WeChat serves them, and a final line break.
 *
 * Text fields are escaped as WeChat does and the parser expects: `,` -> `\,`, LF -> `\n`, nothing else.
 * Like WeChat's own files, a text in which a backslash precedes `,` or `n` (or ends a field) therefore does not
 * read back unchanged: the format cannot tell it from an escape.
 * Amounts are integers in the column's smallest unit (fen; 1/100000 yuan for fees) and are written in yuan.
 */
import {
  FUND_FLOW_BILL_COLUMNS,
  FUND_FLOW_BILL_SUMMARY_COLUMNS,
  FUND_FLOW_EXPENSE,
  FUND_FLOW_INCOME,
  TRADE_BILL_COLUMNS,
  TRADE_BILL_LAYOUTS,
  TRADE_BILL_SUMMARY_COLUMNS,
  type BillColumn,
} from '../bills/bill-columns';
import { WechatPayError } from '../core/errors/wechat-pay.errors';
import { formatBillAmount } from '../bills/bill-money';
import { type TradeBillType } from '../bills/dto/trade-bill.dto';

/** Rows handed to the bill writer cannot be written as a WeChat Pay bill (bad amount, unknown layout). */
export class WechatPayBillWriteError extends WechatPayError {
  constructor(
    /** Index of the offending row in the input (0-based), or undefined for a problem with the options. */
    public readonly row: number | undefined,
    /** The offending field, e.g. `fee`. */
    public readonly field: string,
    problem: string,
  ) {
    super(
      `Cannot write WeChat Pay bill${row === undefined ? '' : ` row ${row}`}, field ${field}: ${problem}`,
    );
  }
}

/**
 * One trade bill detail row to write. Amounts are integers: fen, except `fee` in 1/100000 yuan (0.6 yuan = 60000).
 * Optional fields default to what WeChat writes on a payment row: `'0'` for the refund ids, `0` for amounts, `''`
 * for text, `'CNY'` for the currency. A payment row has `trade_state: 'SUCCESS'`; a refund row `'REFUND'`,
 * `settlement_total: 0`, the refund fields, and usually a negative fee.
 */
export interface TradeBillWriterRow {
  /** `yyyy-MM-dd HH:mm:ss`, Beijing time: payment success time, or refund accepted time on refund rows. */
  trade_time: string;
  appid: string;
  mchid: string;
  sub_mchid: string;
  device_id?: string;
  transaction_id: string;
  out_trade_no: string;
  openid: string;
  trade_type: string;
  trade_state: string;
  bank_type: string;
  currency?: string;
  /** 应结订单金额 in fen. */
  settlement_total: number;
  /** 代金券金额 in fen. */
  coupon_amount?: number;
  refund_id?: string;
  out_refund_no?: string;
  /** 退款金额 in fen. */
  refund_amount?: number;
  /** 充值券退款金额 in fen. */
  recharge_coupon_refund_amount?: number;
  refund_type?: string;
  refund_status?: string;
  goods_name: string;
  attach?: string;
  /** 手续费 in 1/100000 yuan (5 decimals). */
  fee: number;
  /** 费率 as text, e.g. `0.60%`. */
  fee_rate: string;
  /** 订单金额 in fen. */
  order_amount: number;
  /** 申请退款金额 in fen. */
  applied_refund_amount?: number;
  fee_remark?: string;
  /** 退款申请时间 (REFUND layout). */
  refund_apply_time?: string;
  /** 退款成功时间 (REFUND layout). */
  refund_success_time?: string;
}

/** One fund-flow bill detail row to write; amounts in fen. */
export interface FundFlowBillWriterRow {
  accounting_time: string;
  business_no: string;
  flow_no: string;
  business_name: string;
  business_type: string;
  /** 收支类型: counted as income or expense in the summary. */
  income_type: '收入' | '支出';
  /** 收支金额 in fen, non-negative (the direction is `income_type`). */
  amount: number;
  /** 账户结余 in fen. */
  balance: number;
  applicant?: string;
  remark?: string;
  voucher_no?: string;
}

/** Line layout options shared by both writers. */
export interface BillWriterFormatOptions {
  /** Start with a UTF-8 BOM as WeChat does. Default true. */
  bom?: boolean;
  /** Line break. Default `\r\n` as WeChat does. */
  eol?: '\r\n' | '\n';
  /** Approximate size in characters of the chunks the generators yield. Default 65536. */
  chunkSize?: number;
}

/** Options of `writeTradeBill` / `generateTradeBill`. */
export interface TradeBillWriterOptions extends BillWriterFormatOptions {
  billType: TradeBillType;
}

/** Options of `writeFundFlowBill` / `generateFundFlowBill`. */
export interface FundFlowBillWriterOptions extends BillWriterFormatOptions {
  /** Write `收支金额（元）` with full-width parentheses like older bills. Default false: `收支金额(元)`. */
  fullWidthParentheses?: boolean;
}

/** Summary values of a trade bill as integers (fen; fee_total in 1/100000 yuan). */
export interface TradeBillTotals {
  total_count: number;
  settlement_total: number;
  refund_total: number;
  recharge_coupon_refund_total: number;
  fee_total: number;
  order_total: number;
  applied_refund_total: number;
}

/** Summary values of a fund-flow bill as integers (fen). */
export interface FundFlowBillTotals {
  total_count: number;
  income_count: number;
  income_amount: number;
  expense_count: number;
  expense_amount: number;
}

/** Escapes one field for a bill line: `,` and LF become `\,` and `\n`. */
export function escapeBillField(value: string): string {
  if (!NEEDS_ESCAPE.test(value)) return value;
  return value.replace(ESCAPE_ALL, (ch) => ESCAPES[ch]);
}
const NEEDS_ESCAPE = /[,\n]/;
const ESCAPE_ALL = /[,\n]/g;
const ESCAPES: Readonly<Record<string, string>> = { ',': '\\,', '\n': '\\n' };

/** Defaults of the optional trade row fields: what WeChat writes on a payment row. */
const TRADE_DEFAULTS: Readonly<Record<string, string | number>> = {
  device_id: '',
  currency: 'CNY',
  coupon_amount: 0,
  refund_id: '0',
  out_refund_no: '0',
  refund_amount: 0,
  recharge_coupon_refund_amount: 0,
  refund_type: '',
  refund_status: '',
  attach: '',
  applied_refund_amount: 0,
  fee_remark: '',
  refund_apply_time: '',
  refund_success_time: '',
};

const FUND_FLOW_DEFAULTS: Readonly<Record<string, string | number>> = {
  applicant: '',
  remark: '',
  voucher_no: '',
};

/** A column the writer emits: where its value comes from and how it is formatted. */
interface WriterColumn {
  readonly header: string;
  readonly key: string;
  readonly amount: boolean;
  readonly decimals: number;
  readonly fallback: string | number | undefined;
}

function writerColumns(
  headers: readonly string[],
  columns: readonly BillColumn[],
  defaults: Readonly<Record<string, string | number>>,
): WriterColumn[] {
  return headers.map((header) => {
    const column = columns.find((c) => c.header === header) as BillColumn;
    return {
      header,
      key: column.key,
      amount: column.kind === 'amount',
      decimals: column.decimals,
      fallback: defaults[column.key],
    };
  });
}

const TRADE_WRITER_LAYOUTS: Readonly<Record<TradeBillType, readonly WriterColumn[]>> = {
  ALL: writerColumns(TRADE_BILL_LAYOUTS.ALL, TRADE_BILL_COLUMNS, TRADE_DEFAULTS),
  SUCCESS: writerColumns(TRADE_BILL_LAYOUTS.SUCCESS, TRADE_BILL_COLUMNS, TRADE_DEFAULTS),
  REFUND: writerColumns(TRADE_BILL_LAYOUTS.REFUND, TRADE_BILL_COLUMNS, TRADE_DEFAULTS),
};

const FUND_FLOW_WRITER_COLUMNS: readonly WriterColumn[] = writerColumns(
  FUND_FLOW_BILL_COLUMNS.map((c) => c.header),
  FUND_FLOW_BILL_COLUMNS,
  FUND_FLOW_DEFAULTS,
);

/** Formats one detail line (without the line break), validating the row's values. */
function formatLine(row: object, index: number, columns: readonly WriterColumn[]): string {
  const record = row as Readonly<Record<string, unknown>>;
  let line = '';
  for (let i = 0; i < columns.length; i++) {
    const column = columns[i];
    let value = record[column.key];
    if (value === undefined) value = column.fallback;
    let text: string;
    if (column.amount) {
      if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
        throw new WechatPayBillWriteError(
          index,
          column.key,
          `expected an integer amount in 10^-${column.decimals} yuan, got ${String(value)}`,
        );
      }
      text = formatBillAmount(value, column.decimals);
    } else {
      if (typeof value !== 'string') {
        throw new WechatPayBillWriteError(
          index,
          column.key,
          `expected a string, got ${value === null ? 'null' : typeof value}`,
        );
      }
      text = escapeBillField(value);
    }
    line += i === 0 ? '`' + text : ',`' + text;
  }
  return line;
}

function add(total: number, value: number | undefined, index: number, field: string): number {
  const sum = total + (value ?? 0);
  if (!Number.isSafeInteger(sum)) {
    throw new WechatPayBillWriteError(index, field, 'the running total is no longer a safe integer');
  }
  return sum;
}

/** Accumulates the summary of trade rows; amounts must already be validated integers. */
function addTradeRow(t: TradeBillTotals, row: TradeBillWriterRow, index: number): void {
  t.total_count++;
  t.settlement_total = add(t.settlement_total, row.settlement_total, index, 'settlement_total');
  t.refund_total = add(t.refund_total, row.refund_amount, index, 'refund_amount');
  t.recharge_coupon_refund_total = add(
    t.recharge_coupon_refund_total,
    row.recharge_coupon_refund_amount,
    index,
    'recharge_coupon_refund_amount',
  );
  t.fee_total = add(t.fee_total, row.fee, index, 'fee');
  t.order_total = add(t.order_total, row.order_amount, index, 'order_amount');
  t.applied_refund_total = add(
    t.applied_refund_total,
    row.applied_refund_amount,
    index,
    'applied_refund_amount',
  );
}

function emptyTradeTotals(): TradeBillTotals {
  return {
    total_count: 0,
    settlement_total: 0,
    refund_total: 0,
    recharge_coupon_refund_total: 0,
    fee_total: 0,
    order_total: 0,
    applied_refund_total: 0,
  };
}

function addFundFlowRow(t: FundFlowBillTotals, row: FundFlowBillWriterRow, index: number): void {
  t.total_count++;
  if (row.income_type === FUND_FLOW_INCOME) {
    t.income_count++;
    t.income_amount = add(t.income_amount, row.amount, index, 'amount');
  } else if (row.income_type === FUND_FLOW_EXPENSE) {
    t.expense_count++;
    t.expense_amount = add(t.expense_amount, row.amount, index, 'amount');
  } else {
    throw new WechatPayBillWriteError(
      index,
      'income_type',
      `expected 收入 or 支出, got ${JSON.stringify(row.income_type)}`,
    );
  }
}

function emptyFundFlowTotals(): FundFlowBillTotals {
  return { total_count: 0, income_count: 0, income_amount: 0, expense_count: 0, expense_amount: 0 };
}

/** Sums trade rows the way the bill summary does (total_count = number of rows). */
export function summarizeTradeBillRows(rows: Iterable<TradeBillWriterRow>): TradeBillTotals {
  const totals = emptyTradeTotals();
  let index = 0;
  for (const row of rows) addTradeRow(totals, row, index++);
  return totals;
}

/** Sums fund-flow rows the way the bill summary does. */
export function summarizeFundFlowBillRows(rows: Iterable<FundFlowBillWriterRow>): FundFlowBillTotals {
  const totals = emptyFundFlowTotals();
  let index = 0;
  for (const row of rows) addFundFlowRow(totals, row, index++);
  return totals;
}

function summaryValuesLine(totals: object, summaryColumns: readonly BillColumn[]): string {
  const record = totals as Readonly<Record<string, number>>;
  return summaryColumns
    .map(
      (c) =>
        '`' + (c.kind === 'amount' ? formatBillAmount(record[c.key], c.decimals) : String(record[c.key])),
    )
    .join(',');
}

function resolveFormat(options: BillWriterFormatOptions): { bom: string; eol: string; chunkSize: number } {
  const eol = options.eol ?? '\r\n';
  if (eol !== '\r\n' && eol !== '\n') {
    throw new WechatPayBillWriteError(
      undefined,
      'eol',
      `expected "\\r\\n" or "\\n", got ${JSON.stringify(eol)}`,
    );
  }
  return { bom: options.bom === false ? '' : '\ufeff', eol, chunkSize: options.chunkSize ?? 65536 };
}

/** Shared generator: header, detail lines in chunks, then the summary computed while writing. */
function* generateBill<R extends object, T extends object>(
  rows: Iterable<R>,
  columns: readonly WriterColumn[],
  headers: readonly string[],
  summaryColumns: readonly BillColumn[],
  totals: T,
  addRow: (totals: T, row: R, index: number) => void,
  options: BillWriterFormatOptions,
): Generator<string, void, undefined> {
  const { bom, eol, chunkSize } = resolveFormat(options);
  let chunk = bom + headers.join(',') + eol;
  let index = 0;
  for (const row of rows) {
    chunk += formatLine(row, index, columns) + eol;
    addRow(totals, row, index);
    index++;
    if (chunk.length >= chunkSize) {
      yield chunk;
      chunk = '';
    }
  }
  chunk +=
    summaryColumns.map((c) => c.header).join(',') + eol + summaryValuesLine(totals, summaryColumns) + eol;
  yield chunk;
}

/**
 * Yields a trade bill as text chunks of about `chunkSize` characters, summing the summary as rows go by: rows may
 * come from a lazy iterable of any length. `Readable.from(generateTradeBill(...))` gives a stream to serve.
 */
export function generateTradeBill(
  rows: Iterable<TradeBillWriterRow>,
  options: TradeBillWriterOptions,
): Generator<string, void, undefined> {
  const columns = TRADE_WRITER_LAYOUTS[options.billType];
  if (columns === undefined) {
    throw new WechatPayBillWriteError(
      undefined,
      'billType',
      `expected ALL, SUCCESS or REFUND, got ${String(options.billType)}`,
    );
  }
  return generateBill(
    rows,
    columns,
    TRADE_BILL_LAYOUTS[options.billType],
    TRADE_BILL_SUMMARY_COLUMNS,
    emptyTradeTotals(),
    addTradeRow,
    options,
  );
}

/** Writes a whole trade bill as one string (WeChat's bytes once encoded as UTF-8). */
export function writeTradeBill(rows: Iterable<TradeBillWriterRow>, options: TradeBillWriterOptions): string {
  let out = '';
  for (const chunk of generateTradeBill(rows, options)) out += chunk;
  return out;
}

/** Yields a fund-flow bill as text chunks; see `generateTradeBill`. */
export function generateFundFlowBill(
  rows: Iterable<FundFlowBillWriterRow>,
  options: FundFlowBillWriterOptions = {},
): Generator<string, void, undefined> {
  const headers = FUND_FLOW_WRITER_COLUMNS.map((c) =>
    options.fullWidthParentheses ? c.header.replace('(', '（').replace(')', '）') : c.header,
  );
  return generateBill(
    rows,
    FUND_FLOW_WRITER_COLUMNS,
    headers,
    FUND_FLOW_BILL_SUMMARY_COLUMNS,
    emptyFundFlowTotals(),
    addFundFlowRow,
    options,
  );
}

/** Writes a whole fund-flow bill as one string. */
export function writeFundFlowBill(
  rows: Iterable<FundFlowBillWriterRow>,
  options: FundFlowBillWriterOptions = {},
): string {
  let out = '';
  for (const chunk of generateFundFlowBill(rows, options)) out += chunk;
  return out;
}
