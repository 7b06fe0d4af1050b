/**
 * The sample shop (sample/), in-process on Express and Fastify with its embedded simulator: the cashier API, the
 * payment notification route (amount check, atomic state change, duplicates), close, query and bills.
 */
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beijingDate, parseTradeBill } from 'nestjs-wechat-partner-pay';
import {
  type ReconciliationReport,
  type WechatPayLifecycleCounters,
  WechatPayLifecycleMetrics,
} from 'nestjs-wechat-partner-pay/lifecycle';
import type { TradeBillView } from '../sample/src/bills/shop-bills.service';
import { tradeBillCsv } from '../sample/src/bills/bill-csv';
import { ConfigService } from '@nestjs/config';
import Database from 'better-sqlite3';
import {
  type NewShopOrder,
  OrdersRepository,
  type PaymentOutcome,
  type ShopOrder,
} from '../sample/src/shop/orders.repository';
import type { OrderView } from '../sample/src/shop/shop-refunds.service';
import type { BalancesView } from '../sample/src/shop/shop-commissions.service';
import type { CartView, CheckedCart, CreatedCart } from '../sample/src/shop/shop-carts.service';
import { ShopService, type CreatedOrder } from '../sample/src/shop/shop.service';
import { liveWechatPayOptions } from '../sample/src/wechat-pay/live-credentials';
import { SampleSettings } from '../sample/src/settings';
import { SPEC_ALL_CSV } from './fixtures/bills/bill-fixtures';
import { type RunningSample, type SampleAdapter, startSample, waitFor } from './helpers/sample-app';

async function call<T>(
  s: RunningSample,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const res = await fetch(`${s.url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}

async function buy(
  s: RunningSample,
  scene: string,
  productId = 'mug',
  subMchid = '1900000109',
): Promise<CreatedOrder> {
  const res = await call<CreatedOrder>(s, 'POST', '/api/orders', { productId, subMchid, scene });
  expect(res.status).toBe(201);
  return res.body;
}

function order(s: RunningSample, no: string): Promise<ShopOrder> {
  return call<ShopOrder>(s, 'GET', `/api/orders/${no}`).then((r) => r.body);
}

/** Reads the order's SSE stream to its end, calling `onState` for each event. */
async function sseStates(url: string, onState: (state: string) => void): Promise<string[]> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  expect(res.headers.get('content-type')).toContain('text/event-stream');
  const states: string[] = [];
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const data = buffer
        .slice(0, end)
        .split('\n')
        .find((l) => l.startsWith('data: '));
      buffer = buffer.slice(end + 2);
      if (data) {
        const state = (JSON.parse(data.slice(6)) as ShopOrder).state;
        states.push(state);
        onState(state);
      }
    }
  }
  return states;
}

/** The resource of a TRANSACTION.SUCCESS notification for an order the simulator knows, as WeChat Pay would send it. */
function paidResource(
  s: RunningSample,
  created: CreatedOrder,
  changes: Record<string, unknown> = {},
): Record<string, unknown> {
  const tx = s.sim.transaction(created.order.sub_mchid, created.order.out_trade_no);
  if (!tx) throw new Error('the simulator does not know the order');
  return {
    ...tx,
    trade_state: 'SUCCESS',
    trade_state_desc: '支付成功',
    // One transaction id per order: the module's dedupe key contains it.
    transaction_id: `42${created.order.out_trade_no.replace(/\D/g, '').slice(-26)}`,
    bank_type: 'OTHERS',
    success_time: '2024-05-20T13:29:35+08:00',
    payer: { sp_openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' },
    amount: {
      total: created.order.total,
      payer_total: created.order.total,
      currency: 'CNY',
      payer_currency: 'CNY',
    },
    ...changes,
  };
}

function postNotification(
  s: RunningSample,
  signed: { headers: Record<string, string>; body: string },
): Promise<Response> {
  return fetch(`${s.url}/wechatpay/notify`, {
    method: 'POST',
    headers: { ...signed.headers, 'Content-Type': 'application/json' },
    body: signed.body,
  });
}

describe.each<SampleAdapter>(['express', 'fastify'])('sample shop on %s', (adapter) => {
  let s: RunningSample;

  beforeAll(async () => {
    s = await startSample(adapter);
  });
  afterAll(() => s?.close());

  it('serves the cashier page, its script and its style, with a CSP that allows no inline script', async () => {
    const page = await fetch(`${s.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await page.text();
    expect(html).toContain('id="order-state"');
    expect(html).not.toMatch(/<script>/);
    expect((await fetch(`${s.url}/app.js`)).headers.get('content-type')).toContain('javascript');
    expect((await fetch(`${s.url}/style.css`)).status).toBe(200);
    expect((await fetch(`${s.url}/h5-return?out_trade_no=S1234567`)).status).toBe(200);
  });

  it('says it runs on the simulator and offers its sub-merchants', async () => {
    const { body } = await call<{
      mode: string;
      simulator_url: string;
      sub_merchants: Array<{ subMchid: string }>;
    }>(s, 'GET', '/api/config');
    expect(body.mode).toBe('simulator');
    expect(body.simulator_url).toBe(s.sim.baseUrl);
    expect(body.sub_merchants.map((m) => m.subMchid)).toContain('1900000109');
  });

  it('sells by Native QR: SVG from the module, NOTPAY → SUCCESS streamed when the notification arrives', async () => {
    const created = await buy(s, 'native');
    expect(created.order).toMatchObject({ state: 'NOTPAY', total: 3900, scene: 'native' });
    expect(created.code_url).toMatch(/^weixin:\/\/wxpay\/bizpayurl\?pr=/);
    expect(created.pay_page_url).toBe(s.sim.cashierUrl(created.code_url as string));

    const qr = await fetch(`${s.url}${created.qr_svg_url}`);
    expect(qr.headers.get('content-type')).toContain('image/svg+xml');
    expect(await qr.text()).toMatch(/^<svg/);

    let firstEvent!: () => void;
    const subscribed = new Promise<void>((resolve) => (firstEvent = resolve));
    const states = sseStates(`${s.url}/api/orders/${created.order.out_trade_no}/events`, () => firstEvent());
    await subscribed;
    await s.sim.pay(created.order.out_trade_no);
    expect(await states).toEqual(['NOTPAY', 'SUCCESS']);
    expect(await order(s, created.order.out_trade_no)).toMatchObject({
      state: 'SUCCESS',
      transaction_id: expect.stringMatching(/^\d+$/),
    });
  });

  it('creates JSAPI and App orders with signed pay params, and H5 orders with h5_url + redirect_url', async () => {
    const jsapi = await buy(s, 'jsapi', 'tea');
    expect(jsapi.pay_params).toMatchObject({
      appId: s.sim.credentials.spAppid,
      signType: 'RSA',
      package: expect.stringMatching(/^prepay_id=/),
    });
    const app = await buy(s, 'app', 'tea');
    expect(app.pay_params).toMatchObject({ partnerid: s.sim.credentials.spMchid, package: 'Sign=WXPay' });
    const h5 = await buy(s, 'h5', 'tea');
    const redirect = `${s.url}/h5-return?out_trade_no=${h5.order.out_trade_no}`;
    expect(h5.h5).toMatchObject({
      redirect_url: redirect,
      url: `${h5.h5?.h5_url}&redirect_url=${encodeURIComponent(redirect)}`,
    });
    expect(Date.parse(h5.h5?.expires_at ?? '') - Date.now()).toBeGreaterThan(4 * 60_000);
  });

  it('closes an unpaid order at WeChat Pay and locally; a paid order cannot be closed', async () => {
    const created = await buy(s, 'native');
    const closed = await call<ShopOrder>(s, 'POST', `/api/orders/${created.order.out_trade_no}/close`);
    expect(closed.body.state).toBe('CLOSED');
    expect(s.sim.getOrder('1900000109', created.order.out_trade_no)?.tradeState).toBe('CLOSED');
    expect((await call(s, 'POST', `/api/orders/${created.order.out_trade_no}/close`)).status).toBe(201);

    const paid = await buy(s, 'native');
    await s.sim.pay(paid.order.out_trade_no);
    await waitFor(
      () => order(s, paid.order.out_trade_no),
      (o) => o.state === 'SUCCESS',
    );
    expect((await call(s, 'POST', `/api/orders/${paid.order.out_trade_no}/close`)).status).toBe(409);
  });

  it('shows WeChat Pay errors as typed JSON and fails the order (403 NO_AUTH of an unauthorized sub-merchant)', async () => {
    const res = await call<{ code: string; wechat_status: number }>(s, 'POST', '/api/orders', {
      productId: 'tea',
      subMchid: '1900000199',
      scene: 'native',
    });
    expect(res.status).toBe(502);
    expect(res.body).toMatchObject({ code: 'NO_AUTH', wechat_status: 403 });
    const failed = (await call<ShopOrder[]>(s, 'GET', '/api/orders')).body.find(
      (o) => o.sub_mchid === '1900000199',
    );
    expect(failed?.state).toBe('FAILED');
  });

  it('takes the price from the catalog, never from the browser, and rejects unknown input', async () => {
    expect(
      (
        await call(s, 'POST', '/api/orders', {
          productId: 'tea',
          subMchid: '1900000109',
          scene: 'native',
          total: 1,
        })
      ).status,
    ).toBe(400);
    expect(
      (await call(s, 'POST', '/api/orders', { productId: 'car', subMchid: '1900000109', scene: 'native' }))
        .status,
    ).toBe(400);
    expect(
      (await call(s, 'POST', '/api/orders', { productId: 'tea', subMchid: '1234', scene: 'native' })).status,
    ).toBe(400);
    expect((await call(s, 'GET', '/api/orders/no%20such')).status).toBe(400);
    expect((await call(s, 'GET', '/api/orders/S00000000000000000000000')).status).toBe(404);
  });
});

describe('sample shop: payment notifications and queries', () => {
  let a: RunningSample;
  let b: RunningSample;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sample-shared-'));
    // Two instances of the shop sharing one database, as behind a load balancer: each has its own in-memory
    // notification dedupe store, so only the database can make a second delivery harmless.
    a = await startSample('express', { dbFile: join(dir, 'shop.sqlite') });
    b = await startSample('fastify', { dbFile: join(dir, 'shop.sqlite') });
  });
  afterEach(() => jest.restoreAllMocks());
  afterAll(async () => {
    await a?.close();
    await b?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('records a payment exactly once when the same notification reaches both instances concurrently', async () => {
    const created = await buy(a, 'native');
    const outcomes: PaymentOutcome[] = [];
    for (const s of [a, b]) {
      const shop = s.app.get(ShopService);
      const record = shop.recordPayment.bind(shop);
      jest.spyOn(shop, 'recordPayment').mockImplementation((tx, by) => {
        const outcome = record(tx, by);
        outcomes.push(outcome);
        return outcome;
      });
    }
    const signed = a.sim.signedNotification('TRANSACTION.SUCCESS', paidResource(a, created));
    const replies = await Promise.all([a, b, a, b, a, b].map((s) => postNotification(s, signed)));
    // 204, or 503 while the same instance is still handling the first copy (WeChat Pay retries those).
    for (const r of replies) expect([204, 503]).toContain(r.status);
    expect(replies.some((r) => r.status === 204)).toBe(true);
    // Each instance ran the handler at least once (their dedupe stores are separate): the database decided.
    expect(outcomes.length).toBeGreaterThanOrEqual(2);
    expect(outcomes.filter((o) => o === 'recorded')).toHaveLength(1);
    expect(outcomes.every((o) => o === 'recorded' || o === 'duplicate')).toBe(true);

    const paid = await order(b, created.order.out_trade_no);
    expect(paid).toMatchObject({ state: 'SUCCESS', transaction_id: paidResource(a, created).transaction_id });
    // A later redelivery is acknowledged and changes nothing.
    expect(
      (await postNotification(b, b.sim.signedNotification('TRANSACTION.SUCCESS', paidResource(a, created))))
        .status,
    ).toBe(204);
    expect(await order(a, created.order.out_trade_no)).toEqual(paid);
  });

  it('rejects a notification whose amount differs from the stored order (假通知), so the order stays unpaid', async () => {
    const created = await buy(a, 'native');
    const forged = a.sim.signedNotification(
      'TRANSACTION.SUCCESS',
      paidResource(a, created, { amount: { total: 1, payer_total: 1, currency: 'CNY' } }),
    );
    const reply = await postNotification(a, forged);
    expect(reply.status).toBe(400);
    expect(await reply.json()).toEqual({ code: 'FAIL', message: 'notification does not match the order' });
    expect((await order(a, created.order.out_trade_no)).state).toBe('NOTPAY');
  });

  it('answers FAIL to a payment of an unknown order, so that WeChat Pay retries instead of it being lost', async () => {
    const created = await buy(a, 'native');
    const unknown = a.sim.signedNotification(
      'TRANSACTION.SUCCESS',
      paidResource(a, created, { out_trade_no: 'S00000000000000000000000' }),
    );
    const reply = await postNotification(a, unknown);
    expect(reply.status).toBe(404);
    expect(await reply.json()).toMatchObject({ code: 'FAIL' });
  });

  it('"Check payment" queries WeChat Pay when the notification was lost', async () => {
    // The order watch would find it too, later: not within this test.
    const s = await startSample('express', { simulator: { notificationMode: 'once' }, watchScheduleMs: [600_000] });
    try {
      const created = await buy(s, 'native');
      const shop = s.app.get(ShopService);
      jest.spyOn(shop, 'recordPayment').mockImplementationOnce(() => {
        throw new Error('database unavailable');
      });
      await s.sim.pay(created.order.out_trade_no);
      await s.sim.notifications.flush();
      expect(s.sim.deliveries.at(-1)?.status).toBe(500);
      expect((await order(s, created.order.out_trade_no)).state).toBe('NOTPAY');

      const checked = await call<{ order: ShopOrder; trade_state: string }>(
        s,
        'POST',
        `/api/orders/${created.order.out_trade_no}/check`,
      );
      expect(checked.body).toMatchObject({ trade_state: 'SUCCESS', order: { state: 'SUCCESS', confirmed_by: 'query' } });
    } finally {
      await s.close();
    }
  });
});

describe('sample shop: restarts', () => {
  it("keeps the embedded simulator's orders next to the database, so old orders can still be closed", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sample-restart-'));
    const dbFile = join(dir, 'shop.sqlite');
    try {
      const first = await startSample('fastify', { dbFile });
      const created = await buy(first, 'native');
      await first.close();
      const second = await startSample('fastify', { dbFile });
      try {
        const closed = await call<ShopOrder>(
          second,
          'POST',
          `/api/orders/${created.order.out_trade_no}/close`,
        );
        expect(closed.body.state).toBe('CLOSED');
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('sample shop: restarts with a cart', () => {
  it('keeps carts at the embedded simulator too: an unpaid cart is paid after a restart and can be queried', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sample-restart-cart-'));
    const dbFile = join(dir, 'shop.sqlite');
    try {
      const first = await startSample('express', { dbFile });
      const created = await call<CreatedCart>(first, 'POST', '/api/carts', {
        items: [
          { productId: 'mug', subMchid: '1900000109' },
          { productId: 'tea', subMchid: '1900000110' },
        ],
      });
      expect(created.status).toBe(201);
      await first.close();
      const second = await startSample('express', { dbFile });
      try {
        const no = created.body.cart.cart_no;
        // The cart's notify_url names the first instance's port; a real restart keeps its address.
        second.sim.routeNotificationsTo(second.url);
        await second.sim.payCombine(no);
        const paid = await waitFor(
          () => call<CartView>(second, 'GET', `/api/carts/${no}`).then((r) => r.body),
          (c) => c.state === 'SUCCESS',
        );
        expect(paid.sub_orders.map((o) => o.state)).toEqual(['SUCCESS', 'SUCCESS']);
        const checked = await call<CheckedCart>(second, 'POST', `/api/carts/${no}/check`);
        expect(checked.body.wechat_sub_orders.map((o) => o.trade_state)).toEqual(['SUCCESS', 'SUCCESS']);
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('sample shop: trade bills', () => {
  let s: RunningSample;
  const day = (daysAgo: number): string => beijingDate(new Date(Date.now() - daysAgo * 86_400_000));

  beforeAll(async () => {
    // WeChat Pay has the bill of day D from 10:00 Beijing time on D+1; the test must not depend on the hour.
    s = await startSample('express', { simulator: { billReadyHour: 0 } });
  });
  afterAll(() => s?.close());

  it('checks the day before asking WeChat Pay', async () => {
    const old = await call<{ code: string; problems: Array<{ field: string }> }>(
      s,
      'GET',
      '/api/bills/trade?date=2000-01-01',
    );
    expect(old.status).toBe(400);
    expect(old.body).toMatchObject({ code: 'INVALID_REQUEST', problems: [{ field: 'bill_date' }] });
    expect((await call(s, 'GET', '/api/bills/trade?date=yesterday')).status).toBe(400);
  });

  it("shows yesterday's parsed bill with the shop's payment, and offers it as CSV", async () => {
    const created = await buy(s, 'native');
    const no = created.order.out_trade_no;
    await s.sim.pay(no, { at: Date.parse(`${day(1)}T12:00:00+08:00`) });
    await waitFor(
      () => order(s, no),
      (o) => o.state === 'SUCCESS',
    );

    const bill = await call<TradeBillView>(s, 'GET', '/api/bills/trade');
    expect(bill.status).toBe(200);
    expect(bill.body.bill_date).toBe(day(1));
    const row = bill.body.rows.find((r) => r.out_trade_no === no);
    expect(row).toMatchObject({
      sub_mchid: '1900000109',
      trade_state: 'SUCCESS',
      order_amount: { text: '39.00', value: 3900 },
    });
    expect(bill.body.summary.order_total.value).toBeGreaterThanOrEqual(3900);

    const csv = await fetch(`${s.url}/api/bills/trade.csv?date=${day(1)}`);
    expect(csv.headers.get('content-disposition')).toBe(`attachment; filename="tradebill-${day(1)}.csv"`);
    expect(csv.headers.get('content-type')).toContain('text/csv');
    expect(await csv.text()).toMatch(new RegExp(`,${no},\\d+,NATIVE,SUCCESS,.*,39\\.00,`));
  });

  it('says "no trades" for a day without any (NO_STATEMENT_EXIST)', async () => {
    const res = await call<{ code: string; message: string }>(s, 'GET', `/api/bills/trade?date=${day(2)}`);
    expect(res.status).toBe(404);
    expect(res.body).toEqual({
      code: 'NO_STATEMENT_EXIST',
      message: `No trades on ${day(2)}: WeChat Pay has no bill for that day`,
    });
  });

  it('writes parsed rows as CSV with exact amounts and spreadsheet-safe text', async () => {
    const { rows } = await parseTradeBill(readFileSync(SPEC_ALL_CSV)).collect();
    const csv = tradeBillCsv([...rows, { ...rows[0], goods_name: '=HYPERLINK("x"), "quoted"' }]);
    const lines = csv
      .replace(/^\ufeff/, '')
      .trimEnd()
      .split('\r\n');
    expect(lines[0]).toBe(
      'trade_time,sub_mchid,out_trade_no,transaction_id,trade_type,trade_state,goods_name,order_amount_yuan,settlement_total_yuan,refund_amount_yuan,fee_yuan,fee_rate',
    );
    expect(lines[1]).toBe(
      '2024-05-20 10:15:32,1900000109,T202405200001,4200002024052012345678901234,JSAPI,SUCCESS,Image形象店-深圳腾大-QQ公仔,100.00,100.00,0.00,0.60000,0.60%',
    );
    expect(lines[2]).toContain(',30.00,-0.18000,');
    expect(lines[3]).toContain(`,"'=HYPERLINK(""x""), ""quoted""",`);
  });
});

describe('sample shop: OrdersRepository', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sample-repo-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('opens a database made before carts existed, and pays a cart all or nothing', () => {
    const file = join(dir, 'old.sqlite');
    const old = new Database(file);
    old.exec(
      `CREATE TABLE orders (out_trade_no TEXT PRIMARY KEY, sub_mchid TEXT NOT NULL, product_id TEXT NOT NULL,
         description TEXT NOT NULL, total INTEGER NOT NULL, scene TEXT NOT NULL, state TEXT NOT NULL DEFAULT 'NOTPAY',
         code_url TEXT, transaction_id TEXT UNIQUE, created_at TEXT NOT NULL, paid_at TEXT, updated_at TEXT NOT NULL);
       INSERT INTO orders VALUES ('S0000001', '1900000109', 'tea', 'tea', 1, 'native', 'NOTPAY', NULL, NULL, 'x', NULL, 'x')`,
    );
    old.close();
    const repo = new OrdersRepository(file);
    try {
      expect(repo.get('S0000001').cart_no).toBeNull();
      const line = (no: string, sub: string): NewShopOrder => ({
        out_trade_no: no,
        sub_mchid: sub,
        product_id: 'mug',
        description: 'mug',
        total: 3900,
        scene: 'native',
      });
      repo.insertCart('C1', [line('S0000002', '1900000109'), line('S0000003', '1900000110')]);
      const pay = (amount: number): PaymentOutcome =>
        repo.markCartPaid('C1', '2024-05-20T05:29:35.000Z', [
          { out_trade_no: 'S0000002', sub_mchid: '1900000109', total: 3900, transaction_id: 'T2' },
          { out_trade_no: 'S0000003', sub_mchid: '1900000110', total: amount, transaction_id: 'T3' },
        ], 'notification');
      // One sub-order does not match: nothing is recorded, not even the other one.
      expect(pay(1)).toBe('conflict');
      expect(repo.subOrders('C1').map((o) => o.state)).toEqual(['NOTPAY', 'NOTPAY']);
      expect(repo.getCart('C1').state).toBe('NOTPAY');
      expect(pay(3900)).toBe('recorded');
      expect(pay(3900)).toBe('duplicate');
      expect(repo.subOrders('C1').map((o) => [o.state, o.transaction_id])).toEqual([
        ['SUCCESS', 'T2'],
        ['SUCCESS', 'T3'],
      ]);
      expect(repo.leaveCartNotpay('C1', 'CLOSED')).toBe(false);
    } finally {
      repo.onApplicationShutdown();
    }
  });

  it('moves NOTPAY → SUCCESS once across connections; other transitions only from NOTPAY', () => {
    const file = join(dir, 'shop.sqlite');
    const one = new OrdersRepository(file);
    const two = new OrdersRepository(file);
    try {
      one.insert({
        out_trade_no: 'S1000001',
        sub_mchid: '1900000109',
        product_id: 'tea',
        description: 'tea',
        total: 1,
        scene: 'native',
      });
      const payment = {
        out_trade_no: 'S1000001',
        sub_mchid: '1900000109',
        total: 1,
        transaction_id: '42000001',
        paid_at: new Date().toISOString(),
        confirmed_by: 'notification' as const,
      };
      expect(two.markPaid({ ...payment, total: 2 })).toBe('conflict');
      expect(one.markPaid(payment)).toBe('recorded');
      expect(two.markPaid(payment)).toBe('duplicate');
      expect(two.markPaid({ ...payment, transaction_id: '42000002' })).toBe('conflict');
      expect(one.leaveNotpay('S1000001', 'CLOSED')).toBe(false);
      expect(two.get('S1000001')).toMatchObject({ state: 'SUCCESS', transaction_id: '42000001' });
    } finally {
      one.onApplicationShutdown();
      two.onApplicationShutdown();
    }
  });
});

describe.each<SampleAdapter>(['express', 'fastify'])('sample shop on %s: refunds', (adapter) => {
  let s: RunningSample;

  beforeAll(async () => {
    s = await startSample(adapter, { simulator: { refundDelayMs: 20 } });
  });
  afterAll(() => s?.close());

  async function paidOrder(): Promise<string> {
    const created = await buy(s, 'native');
    await s.sim.pay(created.order.out_trade_no);
    await waitFor(
      () => order(s, created.order.out_trade_no),
      (o) => o.state === 'SUCCESS',
    );
    return created.order.out_trade_no;
  }

  it('refunds part of a paid order, then the rest; the REFUND.SUCCESS notifications settle both', async () => {
    const no = await paidOrder();
    const partial = await call<OrderView>(s, 'POST', `/api/orders/${no}/refunds`, { amount: 1000 });
    expect(partial.status).toBe(201);
    expect(partial.body).toMatchObject({
      state: 'SUCCESS',
      refundable: 2900,
      refunds: [{ amount: 1000, status: 'PROCESSING' }],
    });
    const first = partial.body.refunds[0].out_refund_no;
    await waitFor(
      () => call<OrderView>(s, 'GET', `/api/orders/${no}`).then((r) => r.body),
      (v) => v.refunds[0].status === 'SUCCESS',
    );
    expect(s.sim.getRefund(first)).toMatchObject({
      status: 'SUCCESS',
      amount: { refund: 1000, total: 3900 },
    });

    const rest = await call<OrderView>(s, 'POST', `/api/orders/${no}/refunds`, {});
    expect(rest.body).toMatchObject({ refundable: 0, refunds: [{ amount: 1000 }, { amount: 2900 }] });
    const done = await waitFor(
      () => call<OrderView>(s, 'GET', `/api/orders/${no}`).then((r) => r.body),
      (v) => v.refunds.every((r) => r.status === 'SUCCESS'),
    );
    expect(done.refunds.map((r) => r.success_time)).toEqual([expect.any(String), expect.any(String)]);
    // Nothing is left: refused here, before WeChat Pay is asked.
    const requests = s.sim.requests.length;
    expect((await call(s, 'POST', `/api/orders/${no}/refunds`, { amount: 1 })).status).toBe(400);
    expect(s.sim.requests.length).toBe(requests);
  });

  it('refuses refunds of unpaid orders and amounts that are not whole fen', async () => {
    const unpaid = await buy(s, 'native');
    expect((await call(s, 'POST', `/api/orders/${unpaid.order.out_trade_no}/refunds`, {})).status).toBe(409);
    const no = await paidOrder();
    expect((await call(s, 'POST', `/api/orders/${no}/refunds`, { amount: 10.5 })).status).toBe(400);
    expect((await call(s, 'POST', `/api/orders/${no}/refunds`, { amount: 3901 })).status).toBe(400);
    expect((await call(s, 'POST', `/api/orders/${no}/refunds`, { amount: 100, total: 1 })).status).toBe(400);
  });

  it('streams the refund live: the order stream stays open while a refund is PROCESSING', async () => {
    const no = await paidOrder();
    await call(s, 'POST', `/api/orders/${no}/refunds`, { amount: 500 });
    const views: OrderView[] = [];
    const res = await fetch(`${s.url}/api/orders/${no}/events`, { signal: AbortSignal.timeout(10_000) });
    const text = await res.text(); // the stream ends once the refund is settled
    for (const line of text.split('\n'))
      if (line.startsWith('data: ')) views.push(JSON.parse(line.slice(6)) as OrderView);
    expect(views.at(-1)?.refunds[0].status).toBe('SUCCESS');
  });

  it('answers FAIL to a refund notification of an unknown refund, so that WeChat Pay retries', async () => {
    const no = await paidOrder();
    const tx = s.sim.transaction('1900000109', no) as { transaction_id: string };
    const signed = s.sim.signedNotification('REFUND.SUCCESS', {
      sp_mchid: s.sim.credentials.spMchid,
      sub_mchid: '1900000109',
      transaction_id: tx.transaction_id,
      out_trade_no: no,
      refund_id: '50000000000000000000000000000',
      out_refund_no: 'R00000000000000000000000',
      refund_status: 'SUCCESS',
      success_time: '2024-05-20T13:29:35+08:00',
      amount: { total: 3900, refund: 3900, payer_total: 3900, payer_refund: 3900 },
    });
    const reply = await fetch(`${s.url}/wechatpay/refund-notify`, {
      method: 'POST',
      headers: { ...signed.headers, 'Content-Type': 'application/json' },
      body: signed.body,
    });
    expect(reply.status).toBe(404);
    expect((await order(s, no)).state).toBe('SUCCESS');
  });
});

describe('sample shop: demo history of the simulator mode', () => {
  it('pays and refunds a few orders of the latest billed day on the first start, so the bill has rows at once', async () => {
    const s = await startSample('express', {
      demoHistory: true,
      simulator: { billReadyHour: 0, refundDelayMs: 20 },
    });
    try {
      const yesterday = beijingDate(new Date(Date.now() - 86_400_000));
      const views = (await call<OrderView[]>(s, 'GET', '/api/orders')).body;
      expect(views).toHaveLength(3);
      expect(
        views.every(
          (v) => v.state === 'SUCCESS' && v.paid_at && beijingDate(new Date(v.paid_at)) === yesterday,
        ),
      ).toBe(true);
      expect(views.map((v) => v.refunds.map((r) => r.amount))).toEqual([[1000], [12900], []]);

      const bill = await call<TradeBillView>(s, 'GET', '/api/bills/trade');
      expect(bill.body.bill_date).toBe(yesterday);
      expect(bill.body.rows.map((r) => r.trade_state).sort()).toEqual([
        'REFUND',
        'REFUND',
        'SUCCESS',
        'SUCCESS',
        'SUCCESS',
        // The payment planted at WeChat Pay only, for the reconciliation to find.
        'SUCCESS',
      ]);
      const planted = bill.body.rows.filter((r) => !views.some((v) => v.out_trade_no === r.out_trade_no));
      expect(planted).toEqual([expect.objectContaining({ sub_mchid: '1900000110', trade_state: 'SUCCESS' })]);
      expect(bill.body.summary.refund_total.value).toBe(13900);
      const config = (await call<{ latest_bill_date: string }>(s, 'GET', '/api/config')).body;
      expect(config.latest_bill_date).toBe(yesterday);

      // The notifications sent before the app listened are retried, then acknowledged as duplicates; the planted
      // payment's was lost.
      await s.sim.notifications.flush();
      const lastAttempt = new Map(s.sim.deliveries.filter((d) => !d.lost).map((d) => [d.notificationId, d.status]));
      expect(lastAttempt.size).toBe(5);
      expect([...lastAttempt.values()]).toEqual([204, 204, 204, 204, 204]);
      expect(s.sim.deliveries.filter((d) => d.lost)).toHaveLength(1);
      const settled = (await call<OrderView[]>(s, 'GET', '/api/orders')).body;
      expect(settled.flatMap((v) => v.refunds.map((r) => r.status))).toEqual(['SUCCESS', 'SUCCESS']);
      // Recorded by the demo's "Check payment" (a query) before its notification could arrive.
      expect(settled.map((v) => v.confirmed_by)).toEqual(['query', 'query', 'query']);
    } finally {
      await s.close();
    }
  });
});

describe.each<SampleAdapter>(['express', 'fastify'])(
  'sample shop on %s: the order watch and "Reconcile yesterday"',
  (adapter) => {
    let s: RunningSample;

    beforeAll(async () => {
      // The demo history plants one payment of yesterday the shop never recorded. A quicker watch schedule than the
      // sample's +3 s, +10 s, +30 s, +2 min, with a first query late enough for a notification to come first.
      s = await startSample(adapter, {
        demoHistory: true,
        watchScheduleMs: [1500, 3000, 6000, 20_000],
        simulator: { billReadyHour: 0, refundDelayMs: 20 },
      });
      await s.sim.notifications.flush();
    });
    afterEach(() => jest.restoreAllMocks());
    afterAll(() => s?.close());

    const metrics = (): WechatPayLifecycleCounters => s.app.get(WechatPayLifecycleMetrics).snapshot();

    /** Counts the payments ShopService records (the outcome 'recorded'), whichever path called it. */
    function countRecorded(): { recorded: string[] } {
      const shop = s.app.get(ShopService);
      const record = shop.recordPayment.bind(shop);
      const seen = { recorded: [] as string[] };
      jest.spyOn(shop, 'recordPayment').mockImplementation((tx, by) => {
        const outcome = record(tx, by);
        if (outcome === 'recorded') seen.recorded.push(`${tx.out_trade_no}:${by}`);
        return outcome;
      });
      return seen;
    }

    it('a payment whose notification was lost is found by the watch: confirmed_by query, recorded once', async () => {
      const seen = countRecorded();
      const before = metrics();
      const created = await buy(s, 'native');
      const no = created.order.out_trade_no;
      expect(created.pay_page_url_lost_notification).toBe(
        s.sim.cashierUrl(created.code_url as string, { loseNotification: true }),
      );
      await s.sim.pay(no, { loseNotification: true });
      const paid = await waitFor(
        () => order(s, no),
        (o) => o.state === 'SUCCESS',
      );
      expect(paid).toMatchObject({ confirmed_by: 'query', transaction_id: expect.stringMatching(/^\d+$/) });
      const lost = s.sim.deliveries.filter((d) => d.lost);
      expect(lost.at(-1)).toMatchObject({ status: 0, error: 'LOST', eventType: 'TRANSACTION.SUCCESS' });
      expect(metrics().rescuedByQuery).toBe(before.rescuedByQuery + 1);

      // The notification arriving late after all is a duplicate of the query: acknowledged, nothing runs again.
      s.sim.redeliver(lost.at(-1)?.notificationId as string);
      await s.sim.notifications.flush();
      expect(s.sim.deliveries.at(-1)).toMatchObject({ notificationId: lost.at(-1)?.notificationId, status: 204 });
      expect(seen.recorded).toEqual([`${no}:query`]);
      expect(await order(s, no)).toEqual(paid);
      expect(metrics().handledByNotification).toBe(before.handledByNotification);
    });

    it('a payment notified as usual is confirmed_by notification, and its watch ends', async () => {
      const seen = countRecorded();
      const before = metrics();
      const created = await buy(s, 'native', 'tea');
      await s.sim.pay(created.order.out_trade_no);
      const paid = await waitFor(
        () => order(s, created.order.out_trade_no),
        (o) => o.state === 'SUCCESS',
      );
      expect(paid.confirmed_by).toBe('notification');
      expect(seen.recorded).toEqual([`${created.order.out_trade_no}:notification`]);
      expect(metrics()).toMatchObject({
        handledByNotification: before.handledByNotification + 1,
        rescuedByQuery: before.rescuedByQuery,
        watched: before.watched + 1,
      });
    });

    it('a cart whose one notification was lost is found by the combine query of the watch', async () => {
      const created = await call<CreatedCart>(s, 'POST', '/api/carts', {
        items: [
          { productId: 'mug', subMchid: '1900000109' },
          { productId: 'tea', subMchid: '1900000110' },
        ],
      });
      const no = created.body.cart.cart_no;
      expect(created.body.pay_page_url_lost_notification).toMatch(/&lose_notification=1$/);
      await s.sim.payCombine(no, { loseNotification: true });
      const paid = await waitFor(
        () => call<CartView>(s, 'GET', `/api/carts/${no}`).then((r) => r.body),
        (c) => c.state === 'SUCCESS',
      );
      expect(paid.confirmed_by).toBe('query');
      expect(paid.sub_orders.map((o) => [o.state, o.confirmed_by])).toEqual([
        ['SUCCESS', 'query'],
        ['SUCCESS', 'query'],
      ]);
    });

    it('"Reconcile yesterday" reports the planted payment the shop never recorded, and nothing else', async () => {
      const yesterday = beijingDate(new Date(Date.now() - 86_400_000));
      const res = await call<ReconciliationReport>(s, 'POST', '/api/reconciliation', {});
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        bill_date: yesterday,
        noStatement: false,
        billRows: 6,
        localOrders: 3,
        localRefunds: 2,
        totalDifferences: 1,
        truncated: false,
      });
      expect(res.body.differences).toEqual([
        {
          kind: 'paid_not_local',
          sub_mchid: '1900000110',
          out_trade_no: expect.stringMatching(/^S\d{14}[0-9a-f]{8}$/),
          transaction_id: expect.stringMatching(/^\d+$/),
          wechat: { amount: 2500, state: 'SUCCESS' },
        },
      ]);
      expect(Object.entries(res.body.counts).filter(([, n]) => n > 0)).toEqual([['paid_not_local', 1]]);
      // The same day by name; a day without trades is an empty bill, not an error.
      const named = await call<ReconciliationReport>(s, 'POST', '/api/reconciliation', { day: yesterday });
      expect(named.body.differences).toEqual(res.body.differences);
      const bare = await fetch(`${s.url}/api/reconciliation`, { method: 'POST' });
      expect(bare.status).toBe(200);
      expect(((await bare.json()) as ReconciliationReport).differences).toEqual(res.body.differences);
      const empty = beijingDate(new Date(Date.now() - 2 * 86_400_000));
      const none = await call<ReconciliationReport>(s, 'POST', '/api/reconciliation', { day: empty });
      expect(none.body).toMatchObject({ bill_date: empty, noStatement: true, totalDifferences: 0 });
    });

    it('refuses a bad day with a clear 400 before asking WeChat Pay', async () => {
      const requests = s.sim.requests.length;
      const word = await call<{ message: string[] }>(s, 'POST', '/api/reconciliation', { day: 'yesterday' });
      expect(word.status).toBe(400);
      expect(word.body.message).toEqual(['day must be a Beijing calendar day, YYYY-MM-DD']);
      const extra = await call<{ message: string[] }>(s, 'POST', '/api/reconciliation', { date: '2024-05-20' });
      expect(extra.status).toBe(400);
      expect(extra.body.message).toEqual(['property date should not exist']);
      for (const day of ['2000-01-01', beijingDate(new Date()), '2026-02-30']) {
        const res = await call<{ code: string; problems: Array<{ field: string; message: string }> }>(
          s,
          'POST',
          '/api/reconciliation',
          { day },
        );
        expect(res.status).toBe(400);
        expect(res.body).toMatchObject({ code: 'INVALID_REQUEST', problems: [{ field: 'bill_date' }] });
      }
      expect(s.sim.requests.length).toBe(requests);
    });
  },
);

describe('sample shop: the order watch closes an order unpaid at its time_expire', () => {
  it('closes it at WeChat Pay and in the shop (onClosed)', async () => {
    const s = await startSample('express', { watchScheduleMs: [100, 300, 1000] });
    try {
      const created = await buy(s, 'native');
      const no = created.order.out_trade_no;
      // 31 minutes later (the shop's payment window is 30): the next watch step finds it expired.
      const real = Date.now;
      s.sim.setClock(() => real() + 31 * 60_000);
      const closed = await waitFor(
        () => order(s, no),
        (o) => o.state !== 'NOTPAY',
      );
      expect(closed).toMatchObject({ state: 'CLOSED', confirmed_by: null });
      expect(s.sim.getOrder('1900000109', no)?.tradeState).toBe('CLOSED');
      expect(s.app.get(WechatPayLifecycleMetrics).snapshot().closedAtExpiry).toBe(1);
    } finally {
      await s.close();
    }
  });
});

describe('sample shop: SAMPLE_WATCH_SCHEDULE', () => {
  it('takes increasing durations in ms, s or min, and refuses anything else at boot', () => {
    const resolve = (env: Record<string, string>) => SampleSettings.resolve(new ConfigService(env), {});
    expect(resolve({}).watchScheduleMs).toBeUndefined();
    expect(resolve({ SAMPLE_WATCH_SCHEDULE: '3s, 10s,30s,2min' }).watchScheduleMs).toEqual([3000, 10_000, 30_000, 120_000]);
    expect(resolve({ SAMPLE_WATCH_SCHEDULE: '500ms,1.5s' }).watchScheduleMs).toEqual([500, 1500]);
    for (const bad of ['3', '10s,3s', '3 seconds', 's'])
      expect(() => resolve({ SAMPLE_WATCH_SCHEDULE: bad })).toThrow(/SAMPLE_WATCH_SCHEDULE/);
  });
});

describe.each<SampleAdapter>(['express', 'fastify'])(
  'sample shop on %s: an ecommerce (平台收付通) platform',
  (adapter) => {
    let s: RunningSample;

    beforeAll(async () => {
      // manual: a refund stays PROCESSING until the test ends it; CLOSE: the other spelling of CLOSED.
      s = await startSample(adapter, {
        simulator: { refundMode: 'manual', ecommerce: { closedStatus: 'CLOSE' } },
      });
    });
    afterAll(() => s?.close());

    async function paidOrder(): Promise<string> {
      const created = await buy(s, 'native');
      await s.sim.pay(created.order.out_trade_no);
      await waitFor(
        () => order(s, created.order.out_trade_no),
        (o) => o.state === 'SUCCESS',
      );
      return created.order.out_trade_no;
    }

    const view = (no: string): Promise<OrderView> =>
      call<OrderView>(s, 'GET', `/api/orders/${no}`).then((r) => r.body);

    it('refunds through /v3/ecommerce/refunds/apply: PROCESSING (the answer has no status) until the notification', async () => {
      expect(s.sim.moduleOptions().product).toBe('ecommerce');
      const no = await paidOrder();
      const from = s.sim.requests.length;
      const res = await call<OrderView>(s, 'POST', `/api/orders/${no}/refunds`, { amount: 900 });
      expect(res.status).toBe(201);
      expect(s.sim.requests.slice(from).map((r) => `${r.method} ${r.path}`)).toEqual([
        'POST /v3/ecommerce/refunds/apply',
      ]);
      expect(res.body.refunds).toEqual([
        expect.objectContaining({ amount: 900, status: 'PROCESSING', refund_id: expect.any(String) }),
      ]);
      const refundNo = res.body.refunds[0].out_refund_no;
      // Still processing at WeChat Pay: a query changes nothing.
      const checked = await call<OrderView>(s, 'POST', `/api/orders/${no}/refunds/check`);
      expect(checked.body.refunds[0].status).toBe('PROCESSING');
      expect(s.sim.requests.at(-1)?.path).toBe(
        `/v3/ecommerce/refunds/out-refund-no/${refundNo}?sub_mchid=1900000109`,
      );

      s.sim.completeRefund(refundNo);
      const done = await waitFor(
        () => view(no),
        (v) => v.refunds[0].status === 'SUCCESS',
      );
      expect(done).toMatchObject({ refundable: 3000, refunds: [{ success_time: expect.any(String) }] });
    });

    it('a refund WeChat Pay closes (spelled CLOSE) is CLOSED here and its amount refundable again', async () => {
      const no = await paidOrder();
      const res = await call<OrderView>(s, 'POST', `/api/orders/${no}/refunds`, {});
      expect(res.body.refundable).toBe(0);
      s.sim.completeRefund(res.body.refunds[0].out_refund_no, { status: 'CLOSED' });
      const closed = await waitFor(
        () => view(no),
        (v) => v.refunds[0].status !== 'PROCESSING',
      );
      expect(closed).toMatchObject({ refundable: 3900, refunds: [{ status: 'CLOSED' }] });
    });

    it('"Query refunds" settles a refund whose notification was lost (queryByOutRefundNo)', async () => {
      const no = await paidOrder();
      const res = await call<OrderView>(s, 'POST', `/api/orders/${no}/refunds`, { amount: 100 });
      // Nobody listens there: the REFUND.SUCCESS notification does not arrive.
      s.sim.routeNotificationsTo('http://127.0.0.1:9');
      try {
        s.sim.completeRefund(res.body.refunds[0].out_refund_no);
        expect((await view(no)).refunds[0].status).toBe('PROCESSING');
        const checked = await call<OrderView>(s, 'POST', `/api/orders/${no}/refunds/check`);
        expect(checked.body.refunds[0]).toMatchObject({
          status: 'SUCCESS',
          success_time: expect.any(String),
        });
      } finally {
        s.sim.routeNotificationsTo(undefined);
      }
    });
  },
);

describe.each<SampleAdapter>(['express', 'fastify'])(
  'sample shop on %s: carts (combine payments)',
  (adapter) => {
    let s: RunningSample;

    beforeAll(async () => {
      s = await startSample(adapter, { simulator: { refundDelayMs: 20 } });
    });
    afterAll(() => s?.close());

    const twoShops = [
      { productId: 'mug', subMchid: '1900000109' },
      { productId: 'lamp', subMchid: '1900000110' },
      { productId: 'tea', subMchid: '1900000110' },
    ];

    async function newCart(items = twoShops): Promise<CreatedCart> {
      const res = await call<CreatedCart>(s, 'POST', '/api/carts', { items });
      expect(res.status).toBe(201);
      return res.body;
    }

    const cartView = (no: string): Promise<CartView> =>
      call<CartView>(s, 'GET', `/api/carts/${no}`).then((r) => r.body);

    it('pays a cart of two sub-merchants with one QR code; one notification marks every sub-order paid', async () => {
      const created = await newCart();
      const no = created.cart.cart_no;
      expect(created.cart).toMatchObject({ state: 'NOTPAY', total: 3900 + 12900 + 1 });
      expect(created.cart.sub_orders.map((o) => [o.sub_mchid, o.total, o.state, o.cart_no])).toEqual([
        ['1900000109', 3900, 'NOTPAY', no],
        ['1900000110', 12900, 'NOTPAY', no],
        ['1900000110', 1, 'NOTPAY', no],
      ]);
      expect(created.code_url).toMatch(/^weixin:\/\/wxpay\/bizpayurl\?pr=/);
      expect(created.pay_page_url).toBe(s.sim.cashierUrl(created.code_url));
      const qr = await fetch(`${s.url}${created.qr_svg_url}`);
      expect(qr.headers.get('content-type')).toContain('image/svg+xml');
      expect(await qr.text()).toMatch(/^<svg/);
      expect(s.sim.getCombineOrder(no)?.subOrders).toHaveLength(3);

      // The live stream: NOTPAY at once, SUCCESS when the one notification has arrived, then it ends.
      let firstEvent!: () => void;
      const subscribed = new Promise<void>((resolve) => (firstEvent = resolve));
      const states = sseStates(`${s.url}/api/carts/${no}/events`, () => firstEvent());
      await subscribed;
      await s.sim.payCombine(no);
      expect(await states).toEqual(['NOTPAY', 'SUCCESS']);
      const paid = await cartView(no);
      expect(paid.sub_orders.map((o) => o.state)).toEqual(['SUCCESS', 'SUCCESS', 'SUCCESS']);
      const simTx = new Map(s.sim.getCombineOrder(no)?.subOrders.map((o) => [o.outTradeNo, o.transactionId]));
      expect(paid.sub_orders.map((o) => o.transaction_id)).toEqual(
        paid.sub_orders.map((o) => simTx.get(o.out_trade_no)),
      );
      await s.sim.notifications.flush();
      expect(
        s.sim.deliveries.filter((d) => d.url.endsWith('/wechatpay/combine-notify')).map((d) => d.status),
      ).toEqual([204]);

      // The combine query tells each sub-order's trade_state.
      const checked = await call<CheckedCart>(s, 'POST', `/api/carts/${no}/check`);
      expect(checked.body.wechat_sub_orders.map((o) => o.trade_state)).toEqual([
        'SUCCESS',
        'SUCCESS',
        'SUCCESS',
      ]);
    });

    it('refunds one sub-order through the ecommerce API; the combine query then shows it REFUND', async () => {
      const created = await newCart();
      const no = created.cart.cart_no;
      await s.sim.payCombine(no);
      await waitFor(
        () => cartView(no),
        (c) => c.state === 'SUCCESS',
      );
      const lamp = created.cart.sub_orders[1];
      const from = s.sim.requests.length;
      const refund = await call<OrderView>(s, 'POST', `/api/orders/${lamp.out_trade_no}/refunds`, {});
      expect(refund.body).toMatchObject({
        refundable: 0,
        refunds: [{ amount: 12900, status: 'PROCESSING' }],
      });
      expect(s.sim.requests[from]).toMatchObject({ method: 'POST', path: '/v3/ecommerce/refunds/apply' });
      await waitFor(
        () => cartView(no),
        (c) => c.sub_orders[1].refunds[0]?.status === 'SUCCESS',
      );
      const checked = await call<CheckedCart>(s, 'POST', `/api/carts/${no}/check`);
      expect(checked.body.wechat_sub_orders.map((o) => o.trade_state)).toEqual([
        'SUCCESS',
        'REFUND',
        'SUCCESS',
      ]);
      expect(checked.body.cart.sub_orders.map((o) => o.refundable)).toEqual([3900, 0, 1]);
    });

    it('closes an unpaid cart whole; its sub-orders cannot be checked or closed one by one', async () => {
      const created = await newCart(twoShops.slice(0, 2));
      const no = created.cart.cart_no;
      const sub = created.cart.sub_orders[0].out_trade_no;
      expect((await call(s, 'POST', `/api/orders/${sub}/close`)).status).toBe(409);
      expect((await call(s, 'POST', `/api/orders/${sub}/check`)).status).toBe(409);
      const closed = await call<CartView>(s, 'POST', `/api/carts/${no}/close`);
      expect(closed.body.state).toBe('CLOSED');
      expect(closed.body.sub_orders.map((o) => o.state)).toEqual(['CLOSED', 'CLOSED']);
      expect(s.sim.getCombineOrder(no)?.tradeState).toBe('CLOSED');
      const checked = await call<CheckedCart>(s, 'POST', `/api/carts/${no}/check`);
      expect(checked.body.wechat_sub_orders.map((o) => o.trade_state)).toEqual(['CLOSED', 'CLOSED']);
    });

    it('"Check payment" of a cart records a payment whose notification was lost', async () => {
      const created = await newCart(twoShops.slice(0, 2));
      const no = created.cart.cart_no;
      s.sim.routeNotificationsTo('http://127.0.0.1:9');
      try {
        await s.sim.payCombine(no);
        expect((await cartView(no)).state).toBe('NOTPAY');
        const checked = await call<CheckedCart>(s, 'POST', `/api/carts/${no}/check`);
        expect(checked.body.cart.sub_orders.map((o) => o.state)).toEqual(['SUCCESS', 'SUCCESS']);
      } finally {
        s.sim.routeNotificationsTo(undefined);
      }
    });

    it('rejects a cart notification that does not match the stored cart (假通知); a true one counts once', async () => {
      const created = await newCart(twoShops.slice(0, 2));
      const no = created.cart.cart_no;
      const resource = (lampTotal: number, tag: string): Record<string, unknown> => ({
        combine_appid: s.sim.credentials.spAppid,
        combine_mchid: s.sim.credentials.spMchid,
        combine_out_trade_no: no,
        combine_payer_info: { openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' },
        sub_orders: created.cart.sub_orders.map((o, i) => ({
          mchid: s.sim.credentials.spMchid,
          sub_mchid: o.sub_mchid,
          out_trade_no: o.out_trade_no,
          trade_state: 'SUCCESS',
          trade_type: 'NATIVE',
          bank_type: 'OTHERS',
          attach: `cart:${no}`,
          success_time: '2024-05-20T13:29:35+08:00',
          transaction_id: `42000000${tag}${i}${o.out_trade_no.replace(/\D/g, '').slice(-16)}`,
          amount: {
            total_amount: i === 1 ? lampTotal : o.total,
            payer_amount: i === 1 ? lampTotal : o.total,
            currency: 'CNY',
            payer_currency: 'CNY',
          },
        })),
      });
      const post = (body: Record<string, unknown>): Promise<Response> => {
        const signed = s.sim.signedNotification('TRANSACTION.SUCCESS', body);
        return fetch(`${s.url}/wechatpay/combine-notify`, {
          method: 'POST',
          headers: { ...signed.headers, 'Content-Type': 'application/json' },
          body: signed.body,
        });
      };
      expect((await post(resource(1, '1'))).status).toBe(400);
      expect((await cartView(no)).state).toBe('NOTPAY');
      // A single-order route never takes a cart.
      const signed = s.sim.signedNotification('TRANSACTION.SUCCESS', resource(12900, '2'));
      const single = await fetch(`${s.url}/wechatpay/notify`, {
        method: 'POST',
        headers: { ...signed.headers, 'Content-Type': 'application/json' },
        body: signed.body,
      });
      expect(single.status).toBe(400);

      const good = resource(12900, '3');
      const [first, second] = await Promise.all([post(good), post(good)]);
      expect([first.status, second.status].every((st) => st === 200 || st === 204)).toBe(true);
      const paid = await cartView(no);
      expect(paid.sub_orders.map((o) => o.state)).toEqual(['SUCCESS', 'SUCCESS']);
      const transactionIds = paid.sub_orders.map((o) => o.transaction_id);
      // Another delivery with other ids (not a duplicate) changes nothing: the cart row is not NOTPAY any more.
      expect((await post(resource(12900, '4'))).status).toBeLessThan(300);
      expect((await cartView(no)).sub_orders.map((o) => o.transaction_id)).toEqual(transactionIds);
    });

    it('takes prices from the catalog and rejects unknown input', async () => {
      expect((await call(s, 'POST', '/api/carts', { items: [] })).status).toBe(400);
      expect(
        (await call(s, 'POST', '/api/carts', { items: [{ productId: 'car', subMchid: '1900000109' }] }))
          .status,
      ).toBe(400);
      expect(
        (
          await call(s, 'POST', '/api/carts', {
            items: [{ productId: 'tea', subMchid: '1900000109', total: 1 }],
          })
        ).status,
      ).toBe(400);
      expect(
        (await call(s, 'POST', '/api/carts', { items: [{ productId: 'tea', subMchid: '1234' }] })).status,
      ).toBe(400);
      expect((await call(s, 'GET', '/api/carts/nope')).status).toBe(400);
      expect((await call(s, 'GET', '/api/carts/C2024052000000000000000')).status).toBe(404);
    });
  },
);

describe('sample shop: live credentials', () => {
  const live = {
    WECHATPAY_SP_MCHID: '1230000109',
    WECHATPAY_SP_APPID: 'wx8888888888888888',
    WECHATPAY_SERIAL_NO: '5157F09EFDC096DE15EBE81A47057A7232F1B8E1',
    WECHATPAY_API_V3_KEY: 'a'.repeat(32),
    WECHATPAY_PUBLIC_KEY_ID: 'PUB_KEY_ID_0112345678',
    WECHATPAY_PRIVATE_KEY: 'private key PEM',
    WECHATPAY_PUBLIC_KEY: 'public key PEM',
  };

  it('takes the product from WECHATPAY_PRODUCT, and names it when it is missing or wrong', () => {
    expect(liveWechatPayOptions(new ConfigService({ ...live, WECHATPAY_PRODUCT: 'partner' })).product).toBe(
      'partner',
    );
    expect(
      liveWechatPayOptions(new ConfigService({ ...live, WECHATPAY_PRODUCT: ' ecommerce ' })).product,
    ).toBe('ecommerce');
    expect(() => liveWechatPayOptions(new ConfigService(live))).toThrow(
      /Missing: WECHATPAY_PRODUCT \('ecommerce' for 电商平台 \/ 平台收付通, 'partner' for 普通服务商\)$/,
    );
    expect(() => liveWechatPayOptions(new ConfigService({ ...live, WECHATPAY_PRODUCT: 'shop' }))).toThrow(
      `WECHATPAY_PRODUCT is "shop": set 'ecommerce' (电商平台 / 平台收付通) or 'partner' (普通服务商)`,
    );
  });
});

describe.each<SampleAdapter>(['express', 'fastify'])('sample shop on %s: commission by profit sharing', (adapter) => {
  let s: RunningSample;

  beforeAll(async () => {
    // Settlement only when the test says so (sim.profitSharing.settle), never by the clock during the test.
    s = await startSample(adapter, { simulator: { profitSharing: { settlementDelayMs: 86_400_000 } } });
  });
  afterAll(() => s?.close());

  async function paidOrder(subMchid: string): Promise<OrderView> {
    const created = await buy(s, 'native', 'mug', subMchid);
    await s.sim.pay(created.order.out_trade_no);
    return waitFor(
      () => call<OrderView>(s, 'GET', `/api/orders/${created.order.out_trade_no}`).then((r) => r.body),
      (o) => o.state === 'SUCCESS',
    );
  }

  const balanceOf = async (subMchid: string) => {
    const res = await call<BalancesView>(s, 'GET', '/api/balances');
    expect(res.status).toBe(200);
    if (!res.body.available) throw new Error('balances not available in simulator mode');
    return res.body.balances.find((b) => b.sub_mchid === subMchid);
  };

  it('is refused before settlement as "try later", then taken after it: the rest is unfrozen to the sub-merchant', async () => {
    const config = await call<{ commission_percent: number }>(s, 'GET', '/api/config');
    expect(config.body.commission_percent).toBe(5);
    const sub = '1900000109';
    const paid = await paidOrder(sub);
    expect(paid.commission).toBeNull();
    // 39.00 less the simulator's 0.6 % fee (0.23), all frozen for profit sharing.
    expect(await balanceOf(sub)).toMatchObject({ frozen: 3877, available: 0 });

    const early = await call<OrderView>(s, 'POST', `/api/orders/${paid.out_trade_no}/commission`);
    expect(early.status).toBe(201);
    expect(early.body.commission).toMatchObject({ state: 'WAITING', amount: 195, out_order_no: `PS${paid.out_trade_no}` });
    expect(early.body.commission?.message).toContain('稍后');
    const again = await call<OrderView>(s, 'POST', `/api/orders/${paid.out_trade_no}/commission`);
    expect(again.body.commission).toMatchObject({ state: 'WAITING', amount: 195 });
    expect(s.sim.profitSharing.splits()).toHaveLength(0);
    expect(await balanceOf(sub)).toMatchObject({ frozen: 3877, available: 0 });

    s.sim.profitSharing.settle(paid.transaction_id as string);
    const taken = await call<OrderView>(s, 'POST', `/api/orders/${paid.out_trade_no}/commission`);
    expect(taken.status).toBe(201);
    expect(taken.body.commission).toMatchObject({ state: 'FINISHED', result: 'SUCCESS', amount: 195 });
    const spMchid = s.sim.moduleOptions().spMchid;
    expect(s.sim.profitSharing.splits()).toEqual([
      expect.objectContaining({
        kind: 'split',
        subMchid: sub,
        transactionId: paid.transaction_id,
        outOrderNo: `PS${paid.out_trade_no}`,
        lines: [expect.objectContaining({ type: 'MERCHANT_ID', account: spMchid, amount: 195, result: 'SUCCESS' })],
      }),
    ]);
    expect(await balanceOf(sub)).toMatchObject({ frozen: 0, available: 3877 - 195 });
    expect((await call<OrderView>(s, 'GET', `/api/orders/${paid.out_trade_no}`)).body.commission).toMatchObject({ state: 'FINISHED' });

    // Taken once: pressing again asks WeChat Pay nothing.
    const requests = s.sim.requests.length;
    const once = await call<OrderView>(s, 'POST', `/api/orders/${paid.out_trade_no}/commission`);
    expect(once.body.commission).toMatchObject({ state: 'FINISHED', amount: 195 });
    expect(s.sim.requests.length).toBe(requests);
  });

  it('refuses the commission of an unpaid order before asking WeChat Pay', async () => {
    const created = await buy(s, 'native');
    const requests = s.sim.requests.length;
    const res = await call<{ message: string }>(s, 'POST', `/api/orders/${created.order.out_trade_no}/commission`);
    expect(res.status).toBe(409);
    expect(s.sim.requests.length).toBe(requests);
  });
});

describe('sample shop: commission setting', () => {
  it('takes SAMPLE_COMMISSION_PERCENT (default 5) and refuses a rate WeChat Pay would refuse at boot', () => {
    const resolve = (env: Record<string, string>) => SampleSettings.resolve(new ConfigService(env), {});
    expect(resolve({}).commissionPercent).toBe(5);
    expect(resolve({ SAMPLE_COMMISSION_PERCENT: '' }).commissionPercent).toBe(5);
    expect(resolve({ SAMPLE_COMMISSION_PERCENT: '2.5' }).commissionPercent).toBe(2.5);
    for (const bad of ['0', '31', 'five', '-1'])
      expect(() => resolve({ SAMPLE_COMMISSION_PERCENT: bad })).toThrow(/SAMPLE_COMMISSION_PERCENT/);
  });
});
