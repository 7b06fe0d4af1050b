/**
 * Bills end to end (spec §7): WechatPayBillsService in a Nest module against the simulator over real HTTP, with real
 * keys: orders paid "yesterday" (Beijing time) under two sub-merchants and a refund, then apply + download + parse
 * of every layout, per sub-merchant and for all, plain and GZIP, reconciled against the simulator's own orders.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import {
  beijingDate,
  parseTradeBill,
  type TradeBillRow,
  type TradeBillType,
  WechatPayApiError,
  WechatPayBillHashMismatchError,
  WechatPayBillsService,
  type WechatPayClient,
  WechatPayOrdersService,
  WechatPayRefundsService,
  WechatPayValidationError,
} from 'nestjs-wechat-partner-pay';
import { billClock, DAY } from './helpers/bill-clock';
import { type SimApp, startSimApp } from './helpers/sim-app';

const SUB = '1900000109';
const SUB2 = '1900000110';
/** One clock for the simulator and the module (request timestamps must agree); `setNow` moves both. */
const { noon: NOON, yesterday: YESTERDAY, now: clock, setNow } = billClock();

let app: SimApp;
let bills: WechatPayBillsService;
/** out_trade_no -> [sub_mchid, total] of the orders paid yesterday. */
const paid = new Map<string, [string, number]>();
let refundedOrder = '';
const REFUND = 3000;

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

/** What the simulator says the selection holds, from its orders and refunds (not from its bill code). */
function expected(type: TradeBillType, sub?: string): { orders: string[]; orderTotal: number; refundTotal: number } {
  const orders = type === 'REFUND' ? [] : [...paid].filter(([, [s]]) => !sub || s === sub).map(([no]) => no);
  const refunds = type === 'SUCCESS' ? [] : app.sim.listRefunds().filter((r) => !sub || r.subMchid === sub);
  return {
    orders,
    orderTotal: sum(orders.map((no) => app.sim.getOrder(paid.get(no)![0], no)!.amount.total)),
    refundTotal: sum(refunds.map((r) => r.amount.refund)),
  };
}

/** The bill sums must equal the sums of its rows (exact integers, never floats). */
function checkSummary(rows: TradeBillRow[], summary: { total_count: number; order_total: { value: number }; refund_total: { value: number }; fee_total: { value: number }; settlement_total: { value: number } }): void {
  expect(summary.total_count).toBe(rows.length);
  expect(summary.order_total.value).toBe(sum(rows.map((r) => r.order_amount.value)));
  expect(summary.settlement_total.value).toBe(sum(rows.map((r) => r.settlement_total.value)));
  expect(summary.refund_total.value).toBe(sum(rows.map((r) => r.refund_amount?.value ?? 0)));
  expect(summary.fee_total.value).toBe(sum(rows.map((r) => r.fee.value)));
}

beforeAll(async () => {
  app = await startSimApp(
    { clock, notifyUrl: 'http://127.0.0.1:9/wechatpay/notify', retry: { attempts: 2, baseDelayMs: 10, maxDelayMs: 20 }, timeoutMs: 3000 },
    { clock, notificationMode: 'once', refundMode: 'manual' },
  );
  bills = app.ref.get(WechatPayBillsService);
  const orders = app.ref.get(WechatPayOrdersService);
  setNow(NOON - DAY + 2 * 3600_000); // yesterday 14:00
  let n = 0;
  for (const [sub, total] of [[SUB, 10000], [SUB, 2550], [SUB, 1], [SUB2, 8800], [SUB2, 199]] as const) {
    const no = `BILL${Date.now()}${n++}`;
    await orders.nativePrepay({ sub_mchid: sub, description: `对账测试 ${n}`, out_trade_no: no, amount: { total } });
    await app.sim.pay(no, { sub_mchid: sub });
    paid.set(no, [sub, total]);
  }
  refundedOrder = [...paid.keys()][0];
  const refund = await app.ref.get(WechatPayRefundsService).create({
    sub_mchid: SUB,
    out_trade_no: refundedOrder,
    out_refund_no: `RBILL${Date.now()}`,
    amount: { refund: REFUND, total: 10000, currency: 'CNY' },
  });
  app.sim.completeRefund(refund.out_refund_no);
  setNow(NOON);
});

afterAll(() => app?.close());

describe.each<TradeBillType>(['ALL', 'SUCCESS', 'REFUND'])('%s trade bill', (billType) => {
  it.each<[string, string | undefined, 'GZIP' | undefined]>([
    ['all sub-merchants', undefined, undefined],
    ['all sub-merchants, GZIP', undefined, 'GZIP'],
    [SUB, SUB, undefined],
    [`${SUB}, GZIP`, SUB, 'GZIP'],
    [SUB2, SUB2, undefined],
    [`${SUB2}, GZIP`, SUB2, 'GZIP'],
  ])('%s: rows, summary and the simulator agree to the fen', async (_name, sub, tar) => {
    const want = expected(billType, sub);
    if (!want.orders.length && !want.refundTotal) {
      const err = await bills.applyTradeBill({ bill_date: YESTERDAY, sub_mchid: sub, bill_type: billType, tar_type: tar }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WechatPayApiError);
      expect(err).toMatchObject({ status: 400, code: 'NO_STATEMENT_EXIST', retryable: false });
      return;
    }
    const info = await bills.applyTradeBill({ bill_date: YESTERDAY, sub_mchid: sub, bill_type: billType, tar_type: tar });
    expect(info).toMatchObject({ hash_type: 'SHA1', tar_type: tar });
    const { rows, summary } = await parseTradeBill(await bills.download(info)).collect();
    checkSummary(rows, summary);
    const payments = rows.filter((r) => r.trade_state === 'SUCCESS');
    const refunds = rows.filter((r) => r.trade_state === 'REFUND');
    expect(payments.map((r) => r.out_trade_no).sort()).toEqual([...want.orders].sort());
    // Reconcile with 订单金额 (order_amount), not 应结订单金额 (spec §7.5).
    expect(summary.order_total.value).toBe(want.orderTotal);
    expect(summary.refund_total.value).toBe(want.refundTotal);
    for (const r of payments) expect(r.order_amount.value).toBe(paid.get(r.out_trade_no)![1]);
    for (const r of refunds) expect([r.out_trade_no, r.refund_amount?.value, r.applied_refund_amount?.value, r.order_amount.value]).toEqual([refundedOrder, REFUND, REFUND, 0]);
    for (const r of rows) {
      expect(r.trade_time.startsWith(`${YESTERDAY} `)).toBe(true);
      if (sub) expect(r.sub_mchid).toBe(sub);
    }
  });
});

describe('WechatPayBillsService', () => {
  it('tradeBillRows() streams the whole day in one call', async () => {
    const result = await bills.tradeBillRows({ bill_date: YESTERDAY });
    let count = 0;
    let fees = 0;
    for await (const row of result) {
      count++;
      fees += row.fee.value;
    }
    expect(count).toBe(paid.size + 1);
    expect(result.summary.fee_total.value).toBe(fees);
    expect(result.summary.order_total.value).toBe(sum([...paid.values()].map(([, t]) => t)));
  });

  it('tradeBillRows() takes a Date (its Beijing day)', async () => {
    const { rows } = await (await bills.tradeBillRows({ bill_date: new Date(NOON - DAY), bill_type: 'REFUND' })).collect();
    expect(rows.map((r) => r.out_trade_no)).toEqual([refundedOrder]);
  });

  it('fundFlowBillRows(): income = payments, expense = fees + refunds', async () => {
    const { rows, summary } = await (await bills.fundFlowBillRows({ bill_date: YESTERDAY, tar_type: 'GZIP' })).collect();
    const totals = [...paid.values()].map(([, t]) => t);
    expect(summary.total_count).toBe(rows.length);
    expect(summary.income_count).toBe(paid.size);
    expect(summary.income_amount.value).toBe(sum(totals));
    const fees = sum(totals.map((t) => Math.round(t * 0.006)));
    expect(summary.expense_amount.value).toBe(fees + REFUND);
    expect(rows.at(-1)!.balance.value).toBe(sum(totals) - fees - REFUND);
  });

  it('a corrupted download fails with WechatPayBillHashMismatchError (plain and GZIP); downloadToFile leaves no file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wechatpay-bill-'));
    try {
      for (const tar_type of [undefined, 'GZIP'] as const) {
        const info = await bills.applyTradeBill({ bill_date: YESTERDAY, tar_type });
        app.sim.faults.next({ path: '/v3/billdownload/file', flipBillByte: true });
        const stream = await bills.download(info);
        const consumed = (async () => {
          for await (const chunk of stream) void chunk;
        })();
        const err = await consumed.catch((e: unknown) => e);
        expect(err).toBeInstanceOf(WechatPayBillHashMismatchError);
        expect(err).toMatchObject({ expected: info.hash_value });

        app.sim.faults.next({ path: '/v3/billdownload/file', flipBillByte: true });
        await expect(bills.downloadToFile(info, join(dir, 'bill.csv'))).rejects.toBeInstanceOf(WechatPayBillHashMismatchError);
        expect(await readdir(dir)).toEqual([]);
      }
      const info = await bills.applyTradeBill({ bill_date: YESTERDAY, tar_type: 'GZIP' });
      await bills.downloadToFile(info, join(dir, 'bill.csv'));
      expect(await readdir(dir)).toEqual(['bill.csv']);
      const bytes = await readFile(join(dir, 'bill.csv'));
      expect(createHash('sha1').update(bytes).digest('hex')).toBe(info.hash_value);
      expect(bytes.subarray(0, 3).toString('hex')).toBe('efbbbf');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('NO_STATEMENT_EXIST for a day without trades is final (retryable false)', async () => {
    const err = await bills.applyTradeBill({ bill_date: beijingDate(new Date(NOON - 2 * DAY)) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WechatPayApiError);
    expect(err).toMatchObject({ status: 400, code: 'NO_STATEMENT_EXIST', retryable: false });
  });

  it('STATEMENT_CREATING before 10:00 Beijing time is retryable', async () => {
    setNow(Date.parse(`${beijingDate(new Date(NOON))}T09:30:00+08:00`));
    try {
      const err = await bills.applyTradeBill({ bill_date: YESTERDAY }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WechatPayApiError);
      expect(err).toMatchObject({ status: 400, code: 'STATEMENT_CREATING', retryable: true });
    } finally {
      setNow(NOON);
    }
  });

  it('a download_url used after 5 minutes fails with 400 INVALID_REQUEST: apply again', async () => {
    const info = await bills.applyTradeBill({ bill_date: YESTERDAY });
    setNow(clock() + 6 * 60_000);
    try {
      const err = await bills.download(info).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WechatPayApiError);
      expect(err).toMatchObject({ status: 400, code: 'INVALID_REQUEST', retryable: false });
      const fresh = await bills.applyTradeBill({ bill_date: YESTERDAY });
      const { summary } = await parseTradeBill(await bills.download(fresh)).collect();
      expect(summary.total_count).toBe(paid.size + 1);
    } finally {
      setNow(NOON);
    }
  });

  it.each<[string, unknown]>([
    ['today', beijingDate(new Date(NOON))],
    ['the future', beijingDate(new Date(NOON + 2 * DAY))],
    ['more than 3 months ago', beijingDate(new Date(NOON - 95 * DAY))],
    ['a slashed date', YESTERDAY.replace(/-/g, '/')],
    ['a day that does not exist', '2025-02-29'],
    ['an invalid Date', new Date(Number.NaN)],
  ])('refuses %s as bill_date before sending anything', async (_name, bill_date) => {
    const before = app.sim.requests.length;
    for (const apply of [() => bills.applyTradeBill({ bill_date: bill_date as string }), () => bills.applyFundFlowBill({ bill_date: bill_date as string })]) {
      const err = await apply().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WechatPayValidationError);
      expect((err as WechatPayValidationError).problems.map((p) => p.field)).toEqual(['bill_date']);
    }
    await expect(bills.applyTradeBill({ bill_date: YESTERDAY, bill_type: 'all' as TradeBillType, tar_type: 'gzip' as 'GZIP' })).rejects.toMatchObject({
      problems: [{ field: 'bill_type' }, { field: 'tar_type' }],
    });
    expect(app.sim.requests.length).toBe(before);
  });
});

describe('download() stream hygiene', () => {
  it.each([undefined, 'GZIP'] as const)('destroys the HTTP body when the consumer stops early (tar_type %s)', async (tar_type) => {
    const body = new PassThrough();
    const client = { download: () => Promise.resolve(body) } as unknown as WechatPayClient;
    // download() reads no configuration: the client stub is all it needs.
    const service = new WechatPayBillsService(client, {} as ConstructorParameters<typeof WechatPayBillsService>[1]);
    const stream = await service.download({ hash_type: 'SHA1', hash_value: '0'.repeat(40), download_url: `${app.sim.baseUrl}/v3/billdownload/file?token=t`, tar_type });
    body.write(tar_type ? gzipSync(Buffer.alloc(4096, 65)) : Buffer.alloc(4096, 65));
    for await (const chunk of stream) {
      void chunk;
      break; // e.g. a parse error or a consumer that has seen enough
    }
    await new Promise((r) => setImmediate(r));
    expect(body.destroyed).toBe(true);
  });
});
