/**
 * `watch.auto`: every order created through the orders services (the four scenes, with or without pay params, and
 * combine orders) is watched without a `watchOrder()` call, with the order's own `time_expire`; and when the watch
 * cannot be stored (the scheduler's Redis is gone) the prepay call rejects with a typed error within
 * `watch.storeTimeoutMs` instead of handing out pay parameters for an unwatched order. Against the simulator, with
 * the notifications sent to a dead URL so that only the watch can find the payments.
 */
import { Test, type TestingModule } from '@nestjs/testing';
import { Queue } from 'bullmq';
import { type PartnerTransactionResource, WechatPartnerPayModule, WechatPayCombineOrdersService, WechatPayOrdersService } from 'nestjs-wechat-partner-pay';
import {
  type WechatPayOrderClosedEvent,
  type WechatPayPaidOrder,
  WechatPayLifecycleMetrics,
  WechatPayLifecycleError,
  WechatPayLifecycleModule,
  WechatPayOrderNotWatchedError,
  WechatPayOrderWatchService,
  watchId,
} from 'nestjs-wechat-partner-pay/lifecycle';
import { WechatPaySimulator } from 'nestjs-wechat-partner-pay/testing';
import { freePort, HAVE_REDIS_SERVER, OwnRedis } from './helpers/own-redis';
import { sleep, until } from './helpers/wait';

jest.setTimeout(60_000);
const SUB = '1900000109';
const SUB2 = '1900000110';
let seq = 0;
const no = (p: string) => `${p}${Date.now()}${seq++}`;

/** A `time_expire` `ms` from now, on a whole second (RFC 3339 has no fraction). */
function deadline(ms: number): Date {
  return new Date(Math.ceil((Date.now() + ms) / 1000) * 1000);
}

const order = (p: string) => ({ sub_mchid: SUB, out_trade_no: no(p), description: '自动看护', amount: { total: 100 } });

describe('watch.auto on the in-process scheduler', () => {
  let sim: WechatPaySimulator;
  let ref: TestingModule;
  let watch: WechatPayOrderWatchService;
  const paid: WechatPayPaidOrder[] = [];
  const closed: WechatPayOrderClosedEvent[] = [];

  beforeAll(async () => {
    sim = await WechatPaySimulator.start({ notificationMode: 'once' });
    ref = await Test.createTestingModule({
      imports: [
        WechatPartnerPayModule.forRoot({ isGlobal: true, ...sim.moduleOptions({ notifyUrl: 'http://127.0.0.1:9/notify' }) }),
        WechatPayLifecycleModule.forRoot({
          scheduler: { type: 'in-process' },
          watch: { auto: true, scheduleMs: [50, 150, 400], expiryGraceMs: 50 },
          retry: { initialMs: 20, maxMs: 100 },
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

  it('watches the orders of every scene and combine orders: paid ones are found by query once, an unpaid one is closed at its time_expire', async () => {
    const orders = ref.get(WechatPayOrdersService);
    const combine = ref.get(WechatPayCombineOrdersService);
    const metrics = ref.get(WechatPayLifecycleMetrics);
    const before = metrics.snapshot().watched;

    const jsapi = order('J');
    await orders.jsapiPrepayWithPayParams({ ...jsapi, payer: { sp_openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' } });
    const app = order('A');
    await orders.appPrepay(app);
    const h5 = order('H');
    await orders.h5Prepay({ ...h5, scene_info: { payer_client_ip: '127.0.0.1', h5_info: { type: 'Wap' } } });
    const unpaid = { ...order('N'), time_expire: deadline(2500) };
    await orders.nativePrepay(unpaid);
    const cartNo = no('C');
    await combine.nativePrepay({
      combine_out_trade_no: cartNo,
      sub_orders: [
        { sub_mchid: SUB, out_trade_no: no('S'), description: '合单一', attach: 'a1', amount: { total_amount: 100 } },
        { sub_mchid: SUB2, out_trade_no: no('S'), description: '合单二', attach: 'a2', amount: { total_amount: 200 } },
      ],
    });
    expect(metrics.snapshot().watched - before).toBe(5);
    expect(await watch.pendingWatches()).toBe(5);

    // Watching one again by hand changes nothing: one watch per order.
    await watch.watchOrder({ sub_mchid: SUB, out_trade_no: jsapi.out_trade_no });
    expect(await watch.pendingWatches()).toBe(5);

    await sim.pay(jsapi.out_trade_no, { sub_mchid: SUB });
    await sim.pay(app.out_trade_no, { sub_mchid: SUB });
    await sim.pay(h5.out_trade_no, { sub_mchid: SUB });
    await sim.payCombine(cartNo);

    await until('4 payments and 1 close', () => paid.length === 4 && closed.length === 1);
    await until('every watch over', async () => (await watch.pendingWatches()) === 0);
    await sleep(300); // a second run of any handler would land here
    expect(paid.map((p) => p.source)).toEqual(['query', 'query', 'query', 'query']);
    const paidNos = paid.map((p) => (p.type === 'order' ? p.transaction.out_trade_no : p.transaction.combine_out_trade_no)).sort();
    expect(paidNos).toEqual([app.out_trade_no, cartNo, h5.out_trade_no, jsapi.out_trade_no].sort());
    expect(closed).toEqual([expect.objectContaining({ type: 'order', out_trade_no: unpaid.out_trade_no, trade_state: 'CLOSED' })]);
    // The watch used the order's own time_expire, not the 2 h default.
    expect(Date.parse(closed[0].time_expire)).toBe(unpaid.time_expire.getTime());
    expect(sim.getOrder(SUB, unpaid.out_trade_no)?.tradeState).toBe('CLOSED');
    // Every step queries once at least (the closing step twice): steps are counted apart from queries.
    const m = metrics.snapshot();
    expect(m.steps).toBeGreaterThanOrEqual(5);
    expect(m.queries).toBeGreaterThan(m.steps);
  });

  it('a prepay WeChat Pay refuses is not watched', async () => {
    const orders = ref.get(WechatPayOrdersService);
    const metrics = ref.get(WechatPayLifecycleMetrics);
    const before = metrics.snapshot().watched;
    const o = order('R');
    await orders.nativePrepay(o);
    // The same out_trade_no with another amount: OUT_TRADE_NO_USED, and no second watch.
    await expect(orders.nativePrepay({ ...o, amount: { total: 999 } })).rejects.toMatchObject({ code: 'OUT_TRADE_NO_USED' });
    expect(metrics.snapshot().watched - before).toBe(1);
  });
});

const describeWithRedisServer = HAVE_REDIS_SERVER || process.env.CI === 'true' ? describe : describe.skip;

describeWithRedisServer('watch.auto on BullMQ when Redis is gone', () => {
  it('at boot: the app does not start, with a WechatPayLifecycleError after scheduler.bootTimeoutMs instead of a silent hang', async () => {
    const sim = await WechatPaySimulator.start();
    const port = await freePort(); // nothing listens there
    const ref = await Test.createTestingModule({
      imports: [
        WechatPartnerPayModule.forRoot({ isGlobal: true, ...sim.moduleOptions() }),
        WechatPayLifecycleModule.forRoot({
          scheduler: { type: 'bullmq', connection: { host: '127.0.0.1', port, password: 'redis-secret-password' }, prefix: 'boot', bootTimeoutMs: 600 },
          watch: { auto: true },
        }),
      ],
    }).compile();
    try {
      const err = await ref.init().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(WechatPayLifecycleError);
      expect((err as Error).message).toMatch(/could not reach its Redis within 600 ms at boot \(BullMQ queue wechatpay-lifecycle, prefix boot\)/);
      expect((err as Error).message).not.toContain('redis-secret-password');
    } finally {
      await ref.close().catch(() => undefined);
      await sim.close();
    }
  });

  it('the prepay rejects with WechatPayOrderNotWatchedError within storeTimeoutMs; retried once Redis is back, the same call succeeds and the order is watched', async () => {
    const redis = await OwnRedis.create(true);
    const sim = await WechatPaySimulator.start({ notificationMode: 'once' });
    const options = sim.moduleOptions({ notifyUrl: 'http://127.0.0.1:9/notify' });
    const ref = await Test.createTestingModule({
      imports: [
        WechatPartnerPayModule.forRoot({ isGlobal: true, ...options }),
        WechatPayLifecycleModule.forRoot({
          scheduler: { type: 'bullmq', connection: { host: '127.0.0.1', port: redis.port }, prefix: 'auto-watch' },
          watch: { auto: true, storeTimeoutMs: 800 },
        }),
      ],
    }).compile();
    await ref.init();
    try {
      const orders = ref.get(WechatPayOrdersService);
      const watch = ref.get(WechatPayOrderWatchService);
      const o = { ...order('D'), payer: { sp_openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' } };
      watch.onPaid(() => undefined);
      const paidBefore = order('P');
      await orders.nativePrepay(paidBefore);
      await sim.pay(paidBefore.out_trade_no, { sub_mchid: SUB });
      await redis.kill();

      // The notification route still answers: its watch cannot be ended now (within storeTimeoutMs, logged), the
      // handler ran; the watch's next step will find the payment handled.
      const resource = sim.transaction(SUB, paidBefore.out_trade_no) as unknown as PartnerTransactionResource;
      await expect(watch.handleNotificationResource(resource)).resolves.toEqual({ status: 'processed' });

      const err = await orders.jsapiPrepayWithPayParams(o).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(WechatPayOrderNotWatchedError);
      const e = err as WechatPayOrderNotWatchedError;
      expect(e.order).toEqual({ type: 'order', sub_mchid: SUB, out_trade_no: o.out_trade_no });
      expect(e.message).toContain(o.out_trade_no);
      expect(e.message).toMatch(/did not answer within 800 ms/);
      expect(e.message).toMatch(/Retry the same call/);
      for (const secret of [options.apiV3Key, options.privateKey]) expect(e.message).not.toContain(String(secret).slice(0, 40));
      // The order exists at WeChat Pay: only the pay parameters were withheld.
      const created = sim.getOrder(SUB, o.out_trade_no);
      expect(created?.tradeState).toBe('NOTPAY');

      await redis.start();
      const again = await orders.jsapiPrepayWithPayParams(o);
      expect(sim.getOrder(SUB, o.out_trade_no)?.prepayIds).toContain(again.prepay_id);
      // That order's own watch is stored, waiting for its first query.
      const queue = new Queue('wechatpay-lifecycle', { connection: { host: '127.0.0.1', port: redis.port }, prefix: 'auto-watch' });
      try {
        expect(await queue.getJobState(watchId({ type: 'order', sub_mchid: SUB, out_trade_no: o.out_trade_no }))).toBe('delayed');
      } finally {
        await queue.close();
      }
    } finally {
      await ref.close();
      await sim.close();
      await redis.destroy();
    }
  });
});
