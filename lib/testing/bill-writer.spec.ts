import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import * as fc from 'fast-check';
import { SPEC_ALL_CSV, SPEC_ALL_ROWS, SPEC_ALL_SHA1 } from '../../test/fixtures/bills/bill-fixtures';
import { TRADE_BILL_COLUMNS, TRADE_BILL_LAYOUTS } from '../bills/bill-columns';
import { formatBillAmount } from '../bills/bill-money';
import { parseFundFlowBill, parseTradeBill } from '../bills/bill-parser';
import {
  escapeBillField,
  generateTradeBill,
  summarizeFundFlowBillRows,
  summarizeTradeBillRows,
  WechatPayBillWriteError,
  writeFundFlowBill,
  writeTradeBill,
  type FundFlowBillWriterRow,
  type TradeBillWriterRow,
} from './bill-writer';
import { type TradeBillRow, type TradeBillType } from '../bills/dto';

const BILL_TYPES: readonly TradeBillType[] = ['ALL', 'SUCCESS', 'REFUND'];

describe('writeTradeBill', () => {
  it('reproduces the spec §7.5 example byte for byte (BOM, CRLF, summary)', () => {
    const bytes = Buffer.from(writeTradeBill(SPEC_ALL_ROWS, { billType: 'ALL' }), 'utf8');
    expect(bytes.length).toBe(1216);
    expect(createHash('sha1').update(bytes).digest('hex')).toBe(SPEC_ALL_SHA1);
    expect(bytes.equals(readFileSync(SPEC_ALL_CSV))).toBe(true);
  });

  it('writes LF without BOM when asked', () => {
    const text = writeTradeBill(SPEC_ALL_ROWS, { billType: 'ALL', bom: false, eol: '\n' });
    expect(text).toBe(readFileSync(SPEC_ALL_CSV, 'utf8').slice(1).replace(/\r\n/g, '\n'));
  });

  it.each(BILL_TYPES)('writes the %s header in WeChat order', (billType) => {
    const lines = writeTradeBill([SPEC_ALL_ROWS[0]], { billType, bom: false, eol: '\n' }).split('\n');
    expect(lines[0].split(',')).toEqual(TRADE_BILL_LAYOUTS[billType]);
    expect(lines[1].split(',`')).toHaveLength(TRADE_BILL_LAYOUTS[billType].length);
    expect(lines[2]).toBe(
      '总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额',
    );
    expect(lines[3]).toBe('`1,`100.00,`0.00,`0.00,`0.60000,`100.00,`0.00');
    expect(lines[4]).toBe('');
    expect(lines).toHaveLength(5);
  });

  it('writes an empty bill with a zero summary', () => {
    expect(writeTradeBill([], { billType: 'SUCCESS', bom: false, eol: '\n' }).split('\n').slice(1)).toEqual([
      '总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额',
      '`0,`0.00,`0.00,`0.00,`0.00000,`0.00,`0.00',
      '',
    ]);
  });

  it('escapes commas, backslashes and line breaks in text', () => {
    expect(escapeBillField('奶茶,大杯')).toBe('奶茶\\,大杯');
    expect(escapeBillField('a\\b\nc\rd')).toBe('a\\\\b\\nc\\rd');
    expect(escapeBillField('plain')).toBe('plain');
    const line = writeTradeBill([{ ...SPEC_ALL_ROWS[0], goods_name: 'x,y', attach: 'line1\nline2' }], {
      billType: 'ALL',
    }).split('\r\n')[1];
    expect(line).toContain(',`x\\,y,`line1\\nline2,');
  });

  it('computes the summary from the rows', () => {
    expect(summarizeTradeBillRows(SPEC_ALL_ROWS)).toEqual({
      total_count: 2,
      settlement_total: 10000,
      refund_total: 3000,
      recharge_coupon_refund_total: 0,
      fee_total: 42000,
      order_total: 10000,
      applied_refund_total: 3000,
    });
  });

  it('yields chunks of about chunkSize characters, lazily', () => {
    let pulled = 0;
    const rows = (function* () {
      for (let i = 0; i < 1000; i++) {
        pulled++;
        yield SPEC_ALL_ROWS[i % 2];
      }
    })();
    const generator = generateTradeBill(rows, { billType: 'ALL', chunkSize: 4096 });
    const first = generator.next();
    expect(first.done).toBe(false);
    expect((first.value as string).length).toBeGreaterThanOrEqual(4096);
    expect(pulled).toBeLessThan(50);
    const rest = [...generator];
    expect(rest.length).toBeGreaterThan(50);
    expect(pulled).toBe(1000);
  });

  it('rejects amounts that are not safe integers and bad options', () => {
    const bad = (row: Partial<Record<keyof TradeBillWriterRow, unknown>>): TradeBillWriterRow =>
      ({ ...SPEC_ALL_ROWS[0], ...row }) as TradeBillWriterRow;
    expect(() => writeTradeBill([bad({ fee: 0.6 })], { billType: 'ALL' })).toThrow(WechatPayBillWriteError);
    expect(() =>
      writeTradeBill([SPEC_ALL_ROWS[0], bad({ order_amount: '100.00' })], { billType: 'ALL' }),
    ).toThrow(/row 1, field order_amount: expected an integer amount in 10\^-2 yuan/);
    expect(() => writeTradeBill([bad({ goods_name: undefined })], { billType: 'ALL' })).toThrow(
      /field goods_name/,
    );
    expect(() =>
      writeTradeBill([bad({ order_amount: Number.MAX_SAFE_INTEGER }), bad({ order_amount: 1 })], {
        billType: 'ALL',
      }),
    ).toThrow(/row 1, field order_amount: the running total/);
    expect(() => writeTradeBill([], { billType: 'DAILY' as TradeBillType })).toThrow(/billType/);
    expect(() => writeTradeBill([], { billType: 'ALL', eol: '\r' as '\n' })).toThrow(/eol/);
  });
});

describe('writeFundFlowBill', () => {
  const rows: FundFlowBillWriterRow[] = [
    {
      accounting_time: '2024-05-20 10:15:33',
      business_no: '4200002024052012345678901234',
      flow_no: '1900000109202405200000000001',
      business_name: '基本账户',
      business_type: '交易',
      income_type: '收入',
      amount: 10000,
      balance: 110000,
      applicant: 'system',
    },
    {
      accounting_time: '2024-05-20 10:15:33',
      business_no: '4200002024052012345678901234',
      flow_no: '1900000109202405200000000002',
      business_name: '基本账户',
      business_type: '扣除交易手续费',
      income_type: '支出',
      amount: 60,
      balance: 109940,
      remark: '手续费,按日扣',
    },
  ];

  it('writes and parses back, with the summary computed from the rows', async () => {
    const text = writeFundFlowBill(rows);
    expect(text.split('\r\n')[0]).toBe(
      '\ufeff记账时间,微信支付业务单号,资金流水单号,业务名称,业务类型,收支类型,收支金额(元),账户结余(元),资金变更提交申请人,备注,业务凭证号',
    );
    expect(text.split('\r\n').slice(-2)).toEqual(['`2,`1,`100.00,`1,`0.60', '']);
    const parsed = await parseFundFlowBill(text).collect();
    expect(parsed.rows.map((r) => [r.amount.value, r.balance.value, r.remark, r.applicant])).toEqual([
      [10000, 110000, '', 'system'],
      [60, 109940, '手续费,按日扣', ''],
    ]);
    expect(parsed.summary.expense_amount.value).toBe(60);
    expect(summarizeFundFlowBillRows(rows)).toEqual({
      total_count: 2,
      income_count: 1,
      income_amount: 10000,
      expense_count: 1,
      expense_amount: 60,
    });
  });

  it('writes full-width （元） when asked', async () => {
    const text = writeFundFlowBill(rows, { fullWidthParentheses: true, bom: false, eol: '\n' });
    expect(text).toContain('收支金额（元）,账户结余（元）');
    expect((await parseFundFlowBill(text).collect()).rows).toHaveLength(2);
  });

  it('rejects an unknown 收支类型', () => {
    const bad = { ...rows[0], income_type: '其他' } as unknown as FundFlowBillWriterRow;
    expect(() => writeFundFlowBill([bad])).toThrow(/income_type: expected 收入 or 支出/);
  });
});

// ---- Property: writeTradeBill -> parseTradeBill returns exactly what was written. ----

/** Text that stresses the format: separators, escapes, backticks, CJK, emoji, the summary marker. */
const textArb = fc.oneof(
  fc.string({
    unit: fc.constantFrom(
      ',',
      '\\',
      '\n',
      '\r',
      '`',
      ' ',
      'a',
      'Z',
      '9',
      '.',
      '-',
      '%',
      '商',
      '品',
      '名',
      '称',
      '元',
      '😀',
      '\ufeff',
    ),
    maxLength: 12,
  }),
  fc.string({ unit: 'grapheme', maxLength: 8 }),
  fc.constantFrom('', '0', '总交易单数', '`', '\\', 'a\\,b', '\\n'),
);
const fenArb = fc.integer({ min: -1_000_000_000_000, max: 1_000_000_000_000 });
const optional = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(arb, { nil: undefined });

const writerRowArb: fc.Arbitrary<TradeBillWriterRow> = fc.record(
  {
    trade_time: textArb,
    appid: textArb,
    mchid: textArb,
    sub_mchid: textArb,
    device_id: optional(textArb),
    transaction_id: textArb,
    out_trade_no: textArb,
    openid: textArb,
    trade_type: textArb,
    trade_state: textArb,
    bank_type: textArb,
    currency: optional(textArb),
    settlement_total: fenArb,
    coupon_amount: optional(fenArb),
    refund_id: optional(textArb),
    out_refund_no: optional(textArb),
    refund_amount: optional(fenArb),
    recharge_coupon_refund_amount: optional(fenArb),
    refund_type: optional(textArb),
    refund_status: optional(textArb),
    goods_name: textArb,
    attach: optional(textArb),
    fee: fenArb,
    fee_rate: textArb,
    order_amount: fenArb,
    applied_refund_amount: optional(fenArb),
    fee_remark: optional(textArb),
    refund_apply_time: optional(textArb),
    refund_success_time: optional(textArb),
  },
  {
    // Optional fields are sometimes absent, sometimes present but undefined (the option() above).
    requiredKeys: [
      'trade_time',
      'appid',
      'mchid',
      'sub_mchid',
      'transaction_id',
      'out_trade_no',
      'openid',
      'trade_type',
      'trade_state',
      'bank_type',
      'settlement_total',
      'goods_name',
      'fee',
      'fee_rate',
      'order_amount',
    ],
  },
);

/** What the parser must return for a written row: defaults applied, columns outside the layout undefined. */
function expectedRow(row: TradeBillWriterRow, billType: TradeBillType): Record<string, unknown> {
  const defaults: Record<string, string | number> = {
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
  const layout = new Set(TRADE_BILL_LAYOUTS[billType]);
  const out: Record<string, unknown> = {};
  const source = row as unknown as Record<string, string | number | undefined>;
  for (const column of TRADE_BILL_COLUMNS) {
    if (!layout.has(column.header)) {
      out[column.key] = undefined;
      continue;
    }
    const value = source[column.key] ?? defaults[column.key];
    out[column.key] =
      column.kind === 'amount'
        ? { text: formatBillAmount(value as number, column.decimals), value, decimals: column.decimals }
        : value;
  }
  return out;
}

describe('property: write then parse round-trips', () => {
  const settings = BILL_TYPES.flatMap((billType) =>
    [true, false].flatMap((bom) => (['\r\n', '\n'] as const).map((eol) => ({ billType, bom, eol }))),
  );

  it.each(settings)('$billType bom=$bom eol=$eol', async (options) => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(writerRowArb, { maxLength: 8 }),
        fc.uniqueArray(fc.nat(), { maxLength: 6 }),
        async (rows, cutSeeds) => {
          const bytes = Buffer.from(writeTradeBill(rows, options), 'utf8');
          const cuts = [...new Set(cutSeeds.map((s) => s % (bytes.length + 1)))].sort((a, b) => a - b);
          const chunks: Buffer[] = [];
          let from = 0;
          for (const at of cuts) {
            chunks.push(bytes.subarray(from, at));
            from = at;
          }
          chunks.push(bytes.subarray(from));

          const { rows: parsed, summary } = await parseTradeBill(Readable.from(chunks)).collect();
          expect(parsed.map((r: TradeBillRow) => ({ ...r }))).toEqual(
            rows.map((r) => expectedRow(r, options.billType)),
          );
          const totals = summarizeTradeBillRows(rows);
          expect(summary.total_count).toBe(rows.length);
          expect({
            total_count: summary.total_count,
            settlement_total: summary.settlement_total.value,
            refund_total: summary.refund_total.value,
            recharge_coupon_refund_total: summary.recharge_coupon_refund_total.value,
            fee_total: summary.fee_total.value,
            order_total: summary.order_total.value,
            applied_refund_total: summary.applied_refund_total.value,
          }).toEqual(totals);
          expect(summary.fee_total.decimals).toBe(5);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('keeps keys of absent columns undefined, and every text byte-exact (toStrictEqual)', async () => {
    await fc.assert(
      fc.asyncProperty(writerRowArb, fc.constantFrom(...BILL_TYPES), async (row, billType) => {
        const { rows } = await parseTradeBill(writeTradeBill([row], { billType })).collect();
        expect(rows[0]).toStrictEqual(expectedRow(row, billType));
      }),
      { numRuns: 300 },
    );
  });
});
