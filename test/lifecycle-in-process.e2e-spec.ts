/**
 * The order watch on the in-process scheduler (no Redis), against the simulator: combine orders (paid as a cart,
 * closed as a cart), 5xx answers and dropped connections on the queries retried until they pass, and a handled
 * notification that ends its watch before any query.
 */
import { Test, type TestingModule } from '@nestjs/testing';
import {
  type CombineSubOrderRequest,
  type PartnerTransactionResource,
  WechatPartnerPayModule,
  WechatPayCombineOrdersService,
  WechatPayOrdersService,
} from 'nestjs-wechat-partner-pay';
import {
  type WechatPayOrderClosedEvent,
  type WechatPayPaidOrder,
  WechatPayLifecycleMetrics,
  WechatPayLifecycleModule,
  WechatPayOrderWatchService,
} from 'nestjs-wechat-partner-pay/lifecycle';
import { WechatPaySimulator } from 'nestjs-wechat-partner-pay/testing';
import { until } from './helpers/wait';

jest.setTimeout(60_000);
const SUB = '1900000109';
const SUB2 = '1900000110';
let seq = 0;
const no = (p: string) => `${p}${Date.now()}${seq++}`;

let sim: WechatPaySimulator;
let ref: TestingModule;
let watch: WechatPayOrderWatchService;
const paid: WechatPayPaidOrder[] = [];
const closed: WechatPayOrderClosedEvent[] = [];

function deadline(ms: number): Date {
  return new Date(Math.ceil((Date.now() + ms) / 1000) * 1000);
}

beforeAll(async () => {
  sim = await WechatPaySimulator.start({ notificationMode: 'once' });
  ref = await Test.createTestingModule({
    imports: [
      // One attempt per call: the faults below reach the watch, which must retry them itself.
      WechatPartnerPayModule.forRoot({ isGlobal: true, ...sim.moduleOptions({ notifyUrl: 'http://127.0.0.1:9/notify', retry: { attempts: 1 }, timeoutMs: 3000 }) }),
      WechatPayLifecycleModule.forRootAsync({
        useFactory: () => ({ scheduler: { type: 'in-process' as const }, watch: { scheduleMs: [20, 80, 200], expiryGraceMs: 50 }, retry: { initialMs: 20, maxMs: 100 } }),
      }),
    ],
  }).compile();
  watch = ref.get(WechatPayOrderWatchService);
  watch.onPaid((p) => void paid.push(p));
  watch.onClosed((e) => void closed.push(e));
  await ref.init();
});
afterAll(async () => {
  await ref?.close();
  await sim?.close();
});
beforeEach(() => {
  paid.length = 0;
  closed.length = 0;
});

function cart(): CombineSubOrderRequest[] {
  return [
    { sub_mchid: SUB, out_trade_no: no('S'), description: '合单一', attach: 'a1', amount: { total_amount: 100 } },
    { sub_mchid: SUB2, out_trade_no: no('S'), description: '合单二', attach: 'a2', amount: { total_amount: 250 } },
  ];
}

it('combine orders: a paid cart is handled once by query as a whole, an unpaid one is closed at expiry', async () => {
  const combine = ref.get(WechatPayCombineOrdersService);
  const payNo = no('CP');
  const leaveNo = no('CL');
  const time_expire = deadline(3000);
  for (const c of [payNo, leaveNo]) {
    await combine.nativePrepay({ combine_out_trade_no: c, sub_orders: cart(), time_expire, scene_info: { payer_client_ip: '14.23.150.211' } });
    await watch.watchCombineOrder({ combine_out_trade_no: c, time_expire });
  }
  await sim.payCombine(payNo);
  await until('both watches to end', async () => (await watch.pendingWatches()) === 0);
  expect(paid).toHaveLength(1);
  const p = paid[0];
  expect(p.type === 'combine' && p.source === 'query' && p.transaction.combine_out_trade_no === payNo).toBe(true);
  if (p.type === 'combine') expect(p.transaction.sub_orders.every((s) => s.trade_state === 'SUCCESS' && s.transaction_id)).toBe(true);
  expect(closed).toEqual([{ type: 'combine', out_trade_no: leaveNo, time_expire: time_expire.toISOString(), trade_state: 'CLOSED' }]);
  expect(sim.getCombineOrder(leaveNo)?.subOrders.every((s) => s.tradeState === 'CLOSED')).toBe(true);
});

it('5xx answers and dropped connections on the queries are retried, never dropped', async () => {
  const orders = ref.get(WechatPayOrdersService);
  const nos = [no('F'), no('F'), no('F')];
  for (const n of nos) {
    await orders.nativePrepay({ sub_mchid: SUB, description: '重试', out_trade_no: n, amount: { total: 10 }, time_expire: deadline(10_000) });
    await sim.pay(n, { sub_mchid: SUB });
  }
  const query = /\/v3\/pay\/partner\/transactions\/out-trade-no\//;
  sim.faults.next({ path: query, method: 'GET', status: 500, times: 4 });
  sim.faults.next({ path: query, method: 'GET', status: 503, times: 2 });
  sim.faults.next({ path: query, method: 'GET', resetConnection: true, times: 2 });
  const before = ref.get(WechatPayLifecycleMetrics).snapshot();
  for (const n of nos) await watch.watchOrder({ sub_mchid: SUB, out_trade_no: n, time_expire: deadline(10_000) });
  await until('the watches to end', async () => (await watch.pendingWatches()) === 0);
  expect(sim.faults.pending).toBe(0);
  expect(paid.map((p) => (p.type === 'order' ? p.transaction.out_trade_no : '')).sort()).toEqual([...nos].sort());
  const after = ref.get(WechatPayLifecycleMetrics).snapshot();
  expect(after.retries - before.retries).toBe(8);
  expect(after.rescuedByQuery - before.rescuedByQuery).toBe(3);
});

it('a notification handled by the route ends the watch before it queries; the query path then finds a duplicate', async () => {
  const orders = ref.get(WechatPayOrdersService);
  const n = no('N');
  await orders.nativePrepay({ sub_mchid: SUB, description: '通知', out_trade_no: n, amount: { total: 10 }, time_expire: deadline(600_000) });
  // A long schedule: had the watch lived on, it would not have queried yet.
  await sim.pay(n, { sub_mchid: SUB });
  await watch.watchOrder({ sub_mchid: SUB, out_trade_no: n, time_expire: deadline(600_000) });
  expect(await watch.pendingWatches()).toBe(1);
  const resource = sim.transaction(SUB, n) as unknown as PartnerTransactionResource;
  // The route runs it: processed; the watch is gone at once, no query was needed.
  const queriesBefore = sim.requests.filter((r) => r.method === 'GET' && r.path.includes(n)).length;
  expect(await watch.handleNotificationResource(resource)).toEqual({ status: 'processed' });
  expect(await watch.pendingWatches()).toBe(0);
  expect(await watch.handleNotificationResource(resource)).toEqual({ status: 'duplicate' });
  // Even a late watch of the same order runs into the same key: the handler is not run again.
  await watch.watchOrder({ sub_mchid: SUB, out_trade_no: n, time_expire: deadline(1000) });
  await until('the late watch to end', async () => (await watch.pendingWatches()) === 0);
  expect(paid.map((p) => p.source)).toEqual(['notification']);
  expect(sim.requests.filter((r) => r.method === 'GET' && r.path.includes(n)).length).toBe(queriesBefore + 1);
  const notPaid = { ...resource, trade_state: 'NOTPAY' } as PartnerTransactionResource;
  expect(await watch.handleNotificationResource(notPaid)).toEqual({ status: 'ignored', trade_state: 'NOTPAY' });
});
