import { createHash } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import * as fc from 'fast-check';
import {
  FUND_FLOW_FULLWIDTH_CSV,
  REFUND_CSV,
  SPEC_ALL_CSV,
  SPEC_ALL_SHA1,
  SUCCESS_LF_CSV,
  syntheticTradeRows,
} from '../../test/fixtures/bills/bill-fixtures';
import { WechatPayError } from '../core/errors/wechat-pay.errors';
import { TRADE_BILL_COLUMNS } from './bill-columns';
import { describeBillAmountProblem, formatBillAmount, parseBillAmount, parseBillCount } from './bill-money';
import {
  parseFundFlowBill,
  parseTradeBill,
  TradeBillParseResult,
  unescapeBillField,
  WechatPayBillParseError,
  type BillSource,
} from './bill-parser';
import { generateTradeBill, summarizeTradeBillRows } from '../testing/bill-writer';
import { type BillAmount, type TradeBillRow, type TradeBillSummary } from './dto';

const yuan = (text: string, value: number): BillAmount => ({ text, value, decimals: 2 });
const fee = (text: string, value: number): BillAmount => ({ text, value, decimals: 5 });

const SPEC_BYTES = readFileSync(SPEC_ALL_CSV);
const SPEC_TEXT = SPEC_BYTES.toString('utf8');

const SPEC_PAYMENT_ROW: TradeBillRow = {
  trade_time: '2024-05-20 10:15:32',
  appid: 'wx8888888888888888',
  mchid: '1230000109',
  sub_mchid: '1900000109',
  device_id: '',
  transaction_id: '4200002024052012345678901234',
  out_trade_no: 'T202405200001',
  openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
  trade_type: 'JSAPI',
  trade_state: 'SUCCESS',
  bank_type: 'CMB_DEBIT',
  currency: 'CNY',
  settlement_total: yuan('100.00', 10000),
  coupon_amount: yuan('0.00', 0),
  refund_id: '0',
  out_refund_no: '0',
  refund_amount: yuan('0.00', 0),
  recharge_coupon_refund_amount: yuan('0.00', 0),
  refund_type: '',
  refund_status: '',
  goods_name: 'Image形象店-深圳腾大-QQ公仔',
  attach: 'order-attach',
  fee: fee('0.60000', 60000),
  fee_rate: '0.60%',
  order_amount: yuan('100.00', 10000),
  applied_refund_amount: yuan('0.00', 0),
  fee_remark: '',
  refund_apply_time: undefined,
  refund_success_time: undefined,
};

const SPEC_REFUND_ROW: TradeBillRow = {
  ...SPEC_PAYMENT_ROW,
  trade_time: '2024-05-20 18:40:05',
  trade_state: 'REFUND',
  settlement_total: yuan('0.00', 0),
  refund_id: '50300102024052012345678901',
  out_refund_no: 'R202405200001',
  refund_amount: yuan('30.00', 3000),
  refund_type: 'ORIGINAL',
  refund_status: 'SUCCESS',
  fee: fee('-0.18000', -18000),
  order_amount: yuan('0.00', 0),
  applied_refund_amount: yuan('30.00', 3000),
};

const SPEC_SUMMARY: TradeBillSummary = {
  total_count: 2,
  settlement_total: yuan('100.00', 10000),
  refund_total: yuan('30.00', 3000),
  recharge_coupon_refund_total: yuan('0.00', 0),
  fee_total: fee('0.42000', 42000),
  order_total: yuan('100.00', 10000),
  applied_refund_total: yuan('30.00', 3000),
};

async function parseAll(source: BillSource): Promise<{ rows: TradeBillRow[]; summary: TradeBillSummary }> {
  return parseTradeBill(source).collect();
}

/** Parses and returns the error it fails with (fails the test if it does not). */
async function parseError(source: BillSource): Promise<WechatPayBillParseError> {
  try {
    await parseAll(source);
  } catch (err) {
    expect(err).toBeInstanceOf(WechatPayBillParseError);
    return err as WechatPayBillParseError;
  }
  throw new Error('expected a WechatPayBillParseError');
}

/** Splits `bytes` into pieces at the given (sorted, distinct) offsets. */
function splitAt(bytes: Buffer, offsets: readonly number[]): Buffer[] {
  const pieces: Buffer[] = [];
  let from = 0;
  for (const at of offsets) {
    pieces.push(bytes.subarray(from, at));
    from = at;
  }
  pieces.push(bytes.subarray(from));
  return pieces;
}

/** Applies `edit` to the lines of the spec example (BOM and CRLF kept) and returns the new bytes. */
function editSpecLines(edit: (lines: string[]) => string[]): Buffer {
  const lines = SPEC_TEXT.slice(1).split('\r\n');
  lines.pop(); // the empty string after the final CRLF
  return Buffer.from('\ufeff' + edit(lines).join('\r\n') + '\r\n', 'utf8');
}

describe('parseTradeBill: the spec §7.5 example', () => {
  it('uses the exact bytes of the spec (BOM, CRLF, final CRLF)', () => {
    expect(SPEC_BYTES.length).toBe(1216);
    expect(createHash('sha1').update(SPEC_BYTES).digest('hex')).toBe(SPEC_ALL_SHA1);
    expect(SPEC_BYTES.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    expect(SPEC_BYTES.subarray(-2).toString()).toBe('\r\n');
  });

  it('parses every field of both rows and of the summary from a file stream', async () => {
    const result = parseTradeBill(createReadStream(SPEC_ALL_CSV));
    const rows: TradeBillRow[] = [];
    for await (const row of result) rows.push(row);
    expect(rows).toStrictEqual([SPEC_PAYMENT_ROW, SPEC_REFUND_ROW]);
    expect(result.summary).toStrictEqual(SPEC_SUMMARY);
    expect(result.rowCount).toBe(2);
    expect(result.done).toBe(true);
    expect(result).toBeInstanceOf(TradeBillParseResult);
  });

  it('gives the fee of the refund row in 1/100000 yuan', async () => {
    const { rows } = await parseAll(SPEC_BYTES);
    expect(rows[1].fee).toEqual({ text: '-0.18000', value: -18000, decimals: 5 });
    expect(rows[1].trade_state).toBe('REFUND');
  });

  it.each<[string, (b: Buffer) => BillSource]>([
    ['a Buffer', (b) => b],
    ['a string', (b) => b.toString('utf8')],
    ['a Readable of Buffers', (b) => Readable.from([b.subarray(0, 500), b.subarray(500)])],
    ['a Readable with setEncoding', (b) => Readable.from([b], { objectMode: false }).setEncoding('utf8')],
    [
      'an async generator of Uint8Array',
      (b) =>
        (async function* () {
          yield new Uint8Array(b);
        })(),
    ],
    ['a sync iterable of strings', (b) => [b.toString('utf8').slice(0, 7), b.toString('utf8').slice(7)]],
  ])('accepts %s', async (_name, make) => {
    expect(await parseAll(make(SPEC_BYTES))).toStrictEqual({
      rows: [SPEC_PAYMENT_ROW, SPEC_REFUND_ROW],
      summary: SPEC_SUMMARY,
    });
  });
});

describe('parseTradeBill: line endings, BOM and chunk boundaries', () => {
  const expected = { rows: [SPEC_PAYMENT_ROW, SPEC_REFUND_ROW], summary: SPEC_SUMMARY };
  const lf = SPEC_TEXT.slice(1).replace(/\r\n/g, '\n');

  it.each([
    ['LF, no BOM, final LF', lf],
    ['LF, no BOM, no final line break', lf.slice(0, -1)],
    ['CRLF, BOM, no final line break', SPEC_TEXT.slice(0, -2)],
    ['BOM + LF', '\ufeff' + lf],
    ['empty lines after the summary', SPEC_TEXT + '\r\n\r\n  \r\n'],
    ['mixed CRLF and LF', SPEC_TEXT.replace('\r\n', '\n')],
  ])('parses %s', async (_name, text) => {
    expect(await parseAll(Buffer.from(text, 'utf8'))).toStrictEqual(expected);
  });

  it('parses the file fed one byte at a time (UTF-8 characters and CRLF split everywhere)', async () => {
    const bytes = [...SPEC_BYTES].map((b) => Buffer.from([b]));
    expect(await parseAll(Readable.from(bytes))).toStrictEqual(expected);
  });

  it('parses the file split in two at every byte position', async () => {
    for (let at = 0; at <= SPEC_BYTES.length; at++) {
      expect(await parseAll(splitAt(SPEC_BYTES, [at]))).toStrictEqual(expected);
    }
  });

  it('parses the text split in two at every UTF-16 position (string chunks)', async () => {
    for (let at = 0; at <= SPEC_TEXT.length; at++) {
      expect(await parseAll([SPEC_TEXT.slice(0, at), SPEC_TEXT.slice(at)])).toStrictEqual(expected);
    }
  });

  it('parses the file split at random positions', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.integer({ min: 0, max: SPEC_BYTES.length }), { maxLength: 40 }),
        async (cuts) => {
          const offsets = [...cuts].sort((a, b) => a - b);
          expect(await parseAll(splitAt(SPEC_BYTES, offsets))).toStrictEqual(expected);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('parseTradeBill: layouts and columns', () => {
  it('parses a SUCCESS bill (20 columns, LF, no BOM, no final newline) and `\\,` escapes', async () => {
    const { rows, summary } = await parseAll(readFileSync(SUCCESS_LF_CSV));
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({
      device_id: 'POS-01',
      trade_type: 'NATIVE',
      settlement_total: yuan('88.80', 8880),
      coupon_amount: yuan('10.00', 1000),
      goods_name: '奶茶,大杯',
      attach: 'k=v,x=y',
      fee: fee('0.53280', 53280),
      order_amount: yuan('98.80', 9880),
      fee_remark: '',
    });
    for (const key of [
      'refund_id',
      'refund_amount',
      'refund_type',
      'applied_refund_amount',
      'refund_apply_time',
    ] as const) {
      expect(rows[0][key]).toBeUndefined();
    }
    expect(rows[1]).toMatchObject({
      device_id: '',
      goods_name: '测试商品',
      attach: '',
      fee: fee('0.00000', 0),
    });
    expect(summary).toMatchObject({
      total_count: 2,
      fee_total: fee('0.53280', 53280),
      order_total: yuan('98.81', 9881),
    });
  });

  it('parses a REFUND bill (29 columns) including the refund time columns', async () => {
    const { rows, summary } = await parseAll(createReadStream(REFUND_CSV, { highWaterMark: 97 }));
    expect(
      rows.map((r) => [r.refund_apply_time, r.refund_success_time, r.refund_status, r.fee.value]),
    ).toEqual([
      ['2024-05-20 18:40:05', '2024-05-20 18:40:09', 'SUCCESS', -18000],
      ['2024-05-20 20:00:00', '', 'PROCESSING', -7404],
    ]);
    expect(rows[1]).toMatchObject({
      refund_amount: yuan('12.34', 1234),
      recharge_coupon_refund_amount: yuan('1.00', 100),
      applied_refund_amount: yuan('13.34', 1334),
      refund_type: 'BALANCE',
      goods_name: '会员卡',
    });
    expect(summary).toStrictEqual({
      total_count: 2,
      settlement_total: yuan('0.00', 0),
      refund_total: yuan('42.34', 4234),
      recharge_coupon_refund_total: yuan('1.00', 100),
      fee_total: fee('-0.25404', -25404),
      order_total: yuan('0.00', 0),
      applied_refund_total: yuan('43.34', 4334),
    });
  });

  it('maps columns by name, whatever their order', async () => {
    const width = 27;
    // A fixed permutation that moves every column: reverse, then rotate.
    const order = Array.from({ length: width }, (_, i) => (width - 1 - i + 5) % width);
    const shuffle = (line: string, separator: string): string => {
      const fields = line.split(separator);
      return order.map((i) => fields[i]).join(separator);
    };
    const bytes = editSpecLines(([header, row1, row2, ...summary]) => [
      shuffle(header, ','),
      '`' + shuffle(row1.slice(1), ',`'),
      '`' + shuffle(row2.slice(1), ',`'),
      ...summary,
    ]);
    expect(bytes.toString('utf8').split('\r\n')[0].startsWith('\ufeff交易时间')).toBe(false);
    expect(await parseAll(bytes)).toStrictEqual({
      rows: [SPEC_PAYMENT_ROW, SPEC_REFUND_ROW],
      summary: SPEC_SUMMARY,
    });
  });

  it('keeps unknown columns under `extra`, keyed by their header', async () => {
    const bytes = editSpecLines(([header, row1, row2, summaryHeader, summaryValues]) => [
      header.replace('费率,', '费率,新增列,'),
      row1.replace(',`0.60%,', ',`0.60%,`甲\\,乙,'),
      row2.replace(',`0.60%,', ',`0.60%,`,'),
      summaryHeader + ',汇总备注',
      summaryValues + ',`x',
    ]);
    const { rows, summary } = await parseAll(bytes);
    expect(rows[0].extra).toEqual({ 新增列: '甲,乙' });
    expect(rows[1].extra).toEqual({ 新增列: '' });
    expect({ ...rows[0], extra: undefined }).toEqual(SPEC_PAYMENT_ROW);
    expect(summary).toEqual({ ...SPEC_SUMMARY, extra: { 汇总备注: 'x' } });
  });

  it('tolerates detail fields without the backtick', async () => {
    const bytes = editSpecLines((lines) => lines.map((l, i) => (i === 1 ? l.replace(/`/g, '') : l)));
    expect((await parseAll(bytes)).rows).toStrictEqual([SPEC_PAYMENT_ROW, SPEC_REFUND_ROW]);
  });

  it('strips exactly one leading backtick', async () => {
    const bytes = editSpecLines((lines) =>
      lines.map((l, i) => (i === 1 ? l.replace(',`order-attach,', ',``order-attach,') : l)),
    );
    expect((await parseAll(bytes)).rows[0].attach).toBe('`order-attach');
  });

  it('decodes \\n, \\r and \\\\ escapes and keeps other backslashes', async () => {
    const bytes = editSpecLines((lines) =>
      lines.map((l, i) => (i === 1 ? l.replace(',`order-attach,', ',`a\\nb\\rc\\\\d\\te\\\\,') + 'x' : l)),
    );
    // `a\nb\rc\\d\te\\` is one field ending with an escaped backslash; the comma after it separates.
    const { rows } = await parseAll(bytes);
    expect(rows[0].attach).toBe('a\nb\rc\\d\\te\\');
    expect(rows[0].fee.value).toBe(60000);
    expect(rows[0].fee_remark).toBe('x');
  });

  it('parses an empty bill (header, then the summary)', async () => {
    const text = `${SPEC_TEXT.split('\r\n')[0]}\r\n总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额\r\n\`0,\`0.00,\`0.00,\`0.00,\`0.00000,\`0.00,\`0.00\r\n`;
    const { rows, summary } = await parseAll(text);
    expect(rows).toEqual([]);
    expect(summary.total_count).toBe(0);
  });
});

describe('parseTradeBill: errors', () => {
  it('rejects a detail row with a missing field, naming line and column', async () => {
    const bytes = editSpecLines((lines) =>
      lines.map((l, i) => (i === 2 ? l.replace(',`order-attach', '') : l)),
    );
    const err = await parseError(bytes);
    expect(err.line).toBe(3);
    expect(err.column).toBe('费率备注');
    expect(err.message).toContain('line 3');
    expect(err.message).toContain('费率备注');
    expect(err.message).toContain('expected 27 fields');
    expect(err.message).toContain('found 26');
    expect(err).toBeInstanceOf(WechatPayError);
    expect(err.name).toBe('WechatPayBillParseError');
  });

  it('rejects a detail row with an extra (unescaped) comma', async () => {
    const bytes = editSpecLines((lines) =>
      lines.map((l, i) => (i === 1 ? l.replace('QQ公仔', 'QQ,公仔') : l)),
    );
    const err = await parseError(bytes);
    expect(err.line).toBe(2);
    expect(err.column).toBe(28);
    expect(err.message).toMatch(/line 2, field #28: expected 27 fields as in the header, found 28/);
  });

  it('reports the right line number when the file comes in small chunks', async () => {
    const bytes = editSpecLines((lines) =>
      lines.map((l, i) => (i === 2 ? l.split(',').slice(0, 5).join(',') : l)),
    );
    const err = await parseError(splitAt(bytes, [1, 2, 3, 400, 401, 700]));
    expect(err.line).toBe(3);
    expect(err.column).toBe('微信订单号');
  });

  it.each([
    ['1.234', 'more than 2 decimals'],
    ['abc', 'invalid amount "abc"'],
    ['', 'empty amount'],
    ['1,00', 'invalid amount'],
  ])('rejects the amount %j naming the column', async (bad, why) => {
    const bytes = editSpecLines((lines) =>
      lines.map((l, i) =>
        i === 2 ? l.replace(',`30.00,`0.00,`ORIGINAL', `,\`${bad.replace(',', '\\,')},\`0.00,\`ORIGINAL`) : l,
      ),
    );
    const err = await parseError(bytes);
    expect(err.line).toBe(3);
    expect(err.column).toBe('退款金额');
    expect(err.message).toContain('column "退款金额"');
    expect(err.message).toContain(why);
  });

  it('rejects a fee with more than 5 decimals', async () => {
    const bytes = editSpecLines((lines) =>
      lines.map((l, i) => (i === 1 ? l.replace('`0.60000', '`0.600001') : l)),
    );
    const err = await parseError(bytes);
    expect([err.line, err.column]).toEqual([2, '手续费']);
  });

  it('rejects a bad summary value', async () => {
    const bytes = editSpecLines((lines) => lines.map((l, i) => (i === 4 ? l.replace('`2,', '`two,') : l)));
    const err = await parseError(bytes);
    expect([err.line, err.column]).toEqual([5, '总交易单数']);
  });

  it('rejects a file without the summary (truncated download)', async () => {
    const err = await parseError(editSpecLines((lines) => lines.slice(0, 3)));
    expect(err.line).toBe(4);
    expect(err.message).toMatch(/summary lines \(starting with 总交易单数\) are missing/);
    const err2 = await parseError(editSpecLines((lines) => lines.slice(0, 4)));
    expect(err2.message).toMatch(/not followed by the summary values/);
  });

  it('rejects an empty file, an empty line among rows and content after the summary', async () => {
    expect((await parseError('')).message).toMatch(/empty/);
    expect((await parseError('\ufeff')).message).toMatch(/empty/);
    expect((await parseError(editSpecLines((l) => [l[0], l[1], '', ...l.slice(2)]))).line).toBe(3);
    const after = await parseError(editSpecLines((l) => [...l, '', 'garbage']));
    expect(after.line).toBe(7);
    expect(after.message).toMatch(/after the summary/);
  });

  it('rejects a header without the required columns, listing them', async () => {
    const err = await parseError('<html>error</html>\n');
    expect(err.line).toBe(1);
    expect(err.column).toBe('交易时间');
    expect(err.message).toMatch(/lacks required columns 交易时间, 公众账号ID/);
    const dup = await parseError(editSpecLines((l) => [l[0].replace('设备号', '商户号'), ...l.slice(1)]));
    expect(dup.message).toMatch(/duplicate header column/);
  });

  it('rejects a line longer than maxLineLength without buffering the rest', async () => {
    const source = (function* () {
      yield SPEC_TEXT.split('\r\n')[0] + '\r\n';
      for (;;) yield 'x'.repeat(1000);
    })();
    await expect(parseTradeBill(source, { maxLineLength: 50_000 }).collect()).rejects.toThrow(
      /longer than 50000/,
    );
  });

  it('rejects chunks that are neither strings nor bytes', async () => {
    await expect(parseTradeBill([42 as unknown as string]).collect()).rejects.toThrow(TypeError);
  });

  it('passes on an error of the source stream', async () => {
    const source = new Readable({ read() {} });
    source.push(SPEC_BYTES.subarray(0, 600));
    setImmediate(() => source.destroy(new Error('socket hang up')));
    await expect(parseAll(source)).rejects.toThrow('socket hang up');
  });
});

describe('TradeBillParseResult', () => {
  it('throws a clear error when summary is read before the end', async () => {
    const result = parseTradeBill(SPEC_BYTES);
    expect(() => result.summary).toThrow(/available only after all rows have been read/);
    const iterator = result[Symbol.asyncIterator]();
    await iterator.next();
    expect(() => result.summary).toThrow(WechatPayError);
    await iterator.return?.();
    expect(() => result.summary).toThrow(/available only after/);
  });

  it('says that parsing failed when summary is read after an error', async () => {
    const result = parseTradeBill('交易时间\n');
    await expect(result.collect()).rejects.toThrow(WechatPayBillParseError);
    expect(() => result.summary).toThrow(/unavailable: parsing failed/);
  });

  it('yields rows in order when next() is called again before the previous call settled', async () => {
    const text = SPEC_TEXT;
    const result = parseTradeBill(Readable.from([...Buffer.from(text)].map((b) => Buffer.from([b]))));
    const iterator = result[Symbol.asyncIterator]();
    const all = await Promise.all([iterator.next(), iterator.next(), iterator.next(), iterator.next()]);
    expect(all.map((r) => (r.done ? 'done' : r.value.trade_state))).toEqual([
      'SUCCESS',
      'REFUND',
      'done',
      'done',
    ]);
    expect(result.summary).toStrictEqual(SPEC_SUMMARY);
  });

  it('can be consumed only once', async () => {
    const result = parseTradeBill(SPEC_BYTES);
    await result.collect();
    expect(() => result.batches()).toThrow(/already been iterated/);
  });

  it('stops reading the source when the consumer breaks out of the loop', async () => {
    const stream = Readable.from([SPEC_BYTES.subarray(0, 700), SPEC_BYTES.subarray(700)]);
    for await (const row of parseTradeBill(stream)) {
      expect(row.trade_state).toBe('SUCCESS');
      break;
    }
    expect(stream.destroyed).toBe(true);
  });
});

describe('parseFundFlowBill', () => {
  it('parses full-width （元） headers, escapes and the summary', async () => {
    const { rows, summary } = await parseFundFlowBill(
      createReadStream(FUND_FLOW_FULLWIDTH_CSV, { highWaterMark: 16 }),
    ).collect();
    expect(rows).toHaveLength(3);
    expect(rows[0]).toStrictEqual({
      accounting_time: '2024-05-20 10:15:33',
      business_no: '4200002024052012345678901234',
      flow_no: '1900000109202405200000000001',
      business_name: '基本账户',
      business_type: '交易',
      income_type: '收入',
      amount: yuan('100.00', 10000),
      balance: yuan('1100.00', 110000),
      applicant: 'system',
      remark: '',
      voucher_no: '',
    });
    expect(rows[1].remark).toBe('手续费,按日扣');
    expect(rows[2]).toMatchObject({
      business_type: '退款',
      income_type: '支出',
      voucher_no: 'R202405200001',
    });
    expect(summary).toStrictEqual({
      total_count: 3,
      income_count: 1,
      income_amount: yuan('100.00', 10000),
      expense_count: 2,
      expense_amount: yuan('30.60', 3060),
    });
  });

  it('matches half-width (元) headers too', async () => {
    const text = readFileSync(FUND_FLOW_FULLWIDTH_CSV, 'utf8').replace(/（/g, '(').replace(/）/g, ')');
    expect(await parseFundFlowBill(text).collect()).toStrictEqual(
      await parseFundFlowBill(readFileSync(FUND_FLOW_FULLWIDTH_CSV)).collect(),
    );
  });

  it('is not fooled by a trade bill', async () => {
    await expect(parseFundFlowBill(SPEC_BYTES).collect()).rejects.toThrow(/lacks required columns 记账时间/);
  });
});

describe('bill money', () => {
  it.each<[string, number, number | undefined]>([
    ['100.00', 2, 10000],
    ['100', 2, 10000],
    ['3.5', 2, 350],
    ['-0.18000', 5, -18000],
    ['0.6', 5, 60000],
    ['007.10', 2, 710],
    ['90071992547409.91', 2, 9007199254740991],
    ['90071992547409.92', 2, undefined],
    ['1.234', 2, undefined],
    ['1.', 2, undefined],
    ['.5', 2, undefined],
    ['+1', 2, undefined],
    ['-', 2, undefined],
    ['1e3', 2, undefined],
    [' 1.00', 2, undefined],
    ['', 2, undefined],
  ])('parseBillAmount(%j, %d) -> %p', (text, decimals, value) => {
    expect(parseBillAmount(text, decimals)?.value).toBe(value);
    if (value === undefined) expect(describeBillAmountProblem(text, decimals)).toBeTruthy();
  });

  it('never returns -0', () => {
    expect(Object.is(parseBillAmount('-0.00', 2)?.value, 0)).toBe(true);
  });

  it('round-trips every safe integer through formatBillAmount', () => {
    fc.assert(
      fc.property(fc.maxSafeInteger(), fc.constantFrom(2, 5), (value, decimals) => {
        const text = formatBillAmount(value, decimals);
        expect(parseBillAmount(text, decimals)).toEqual({ text, value, decimals });
      }),
      { numRuns: 2000 },
    );
  });

  it('parses counts', () => {
    expect(parseBillCount('0')).toBe(0);
    expect(parseBillCount('123456')).toBe(123456);
    expect(parseBillCount('-1')).toBeUndefined();
    expect(parseBillCount('')).toBeUndefined();
    expect(parseBillCount('1.0')).toBeUndefined();
  });

  it('unescapes fields', () => {
    expect(unescapeBillField('a\\,b\\nc\\rd\\\\e\\x\\')).toBe('a,b\nc\rd\\e\\x\\');
    expect(unescapeBillField('plain')).toBe('plain');
  });

  it('has one column table entry per TradeBillRow key', () => {
    expect(TRADE_BILL_COLUMNS.map((c) => c.key)).toEqual(Object.keys(SPEC_PAYMENT_ROW));
  });
});

describe('parseTradeBill: a large bill, streamed', () => {
  it('parses 200k generated rows from a lazy stream with correct counts and sums', async () => {
    const count = 200_000;
    let produced = 0;
    const rowsSource = (function* () {
      for (const row of syntheticTradeRows(count)) {
        produced++;
        yield row;
      }
    })();
    const bytes = (function* () {
      for (const chunk of generateTradeBill(rowsSource, { billType: 'ALL' }))
        yield Buffer.from(chunk, 'utf8');
    })();
    const result = parseTradeBill(Readable.from(bytes));

    let rows = 0;
    let batches = 0;
    let largestBatch = 0;
    let producedAtFirstBatch = -1;
    const sums = { settlement: 0, refund: 0, fee: 0, order: 0, applied: 0, refunds: 0 };
    for await (const batch of result.batches()) {
      if (producedAtFirstBatch < 0) producedAtFirstBatch = produced;
      batches++;
      largestBatch = Math.max(largestBatch, batch.length);
      for (const row of batch) {
        rows++;
        sums.settlement += row.settlement_total.value;
        sums.refund += row.refund_amount!.value;
        sums.fee += row.fee.value;
        sums.order += row.order_amount.value;
        sums.applied += row.applied_refund_amount!.value;
        if (row.trade_state === 'REFUND') sums.refunds++;
      }
    }

    // Streaming: the first rows arrived long before the generator had produced the whole bill, and no batch
    // holds more than one input window.
    expect(producedAtFirstBatch).toBeLessThan(count / 10);
    expect(batches).toBeGreaterThan(50);
    expect(largestBatch).toBeLessThan(5000);

    const totals = summarizeTradeBillRows(syntheticTradeRows(count));
    expect(rows).toBe(count);
    expect(sums.refunds).toBe(count / 5);
    expect(sums).toEqual({
      settlement: totals.settlement_total,
      refund: totals.refund_total,
      fee: totals.fee_total,
      order: totals.order_total,
      applied: totals.applied_refund_total,
      refunds: count / 5,
    });
    const { summary } = result;
    expect(summary.total_count).toBe(count);
    expect(summary.settlement_total.value).toBe(totals.settlement_total);
    expect(summary.refund_total.value).toBe(totals.refund_total);
    expect(summary.fee_total.value).toBe(totals.fee_total);
    expect(summary.order_total.value).toBe(totals.order_total);
    expect(summary.applied_refund_total.value).toBe(totals.applied_refund_total);
  });
});
