import type { BillAmount, TradeBillRow } from 'nestjs-wechat-partner-pay';

type Column = [header: string, value: (row: TradeBillRow) => string | BillAmount | undefined];

const COLUMNS: Column[] = [
  ['trade_time', (r) => r.trade_time],
  ['sub_mchid', (r) => r.sub_mchid],
  ['out_trade_no', (r) => r.out_trade_no],
  ['transaction_id', (r) => r.transaction_id],
  ['trade_type', (r) => r.trade_type],
  ['trade_state', (r) => r.trade_state],
  ['goods_name', (r) => r.goods_name],
  ['order_amount_yuan', (r) => r.order_amount],
  ['settlement_total_yuan', (r) => r.settlement_total],
  ['refund_amount_yuan', (r) => r.refund_amount],
  ['fee_yuan', (r) => r.fee],
  ['fee_rate', (r) => r.fee_rate],
];

/** The parsed rows as a plain CSV (RFC 4180 quoting), amounts as the exact decimal text of the bill. */
export function tradeBillCsv(rows: readonly TradeBillRow[]): string {
  const lines = [COLUMNS.map(([h]) => h).join(',')];
  for (const row of rows) lines.push(COLUMNS.map(([, get]) => cell(get(row))).join(','));
  // The BOM makes spreadsheet programs read the Chinese goods names as UTF-8.
  return `\ufeff${lines.join('\r\n')}\r\n`;
}

function cell(value: string | BillAmount | undefined): string {
  if (value === undefined) return '';
  if (typeof value !== 'string') return value.text;
  // A spreadsheet would run text starting with = + - @ as a formula: goods names come from outside.
  const text = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
