/**
 * Exactly-once under store faults, with real parts: the simulator delivers real notifications (WeChat's retry schedule,
 * scaled) to a Nest app whose dedupe store is a redis-server this test starts on its own port, kills and restarts
 * (empty, and with AOF). The app's handler follows the documented business-state pattern (a conditional update of the
 * order row), so that whatever the store does, the business effect happens once. Also: a handler slower than the lock.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Controller, type INestApplication, Post } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import { Redis } from 'ioredis';
import {
  NotificationEnvelope,
  NotificationLease,
  NotificationResource,
  type PartnerTransactionResource,
  RedisNotificationDedupeStore,
  WechatPartnerPayModule,
  WechatPayNotification,
  type WechatPayNotificationEnvelope,
  type WechatPayNotificationLease,
  WechatPayOrdersService,
} from 'nestjs-wechat-partner-pay';
import { WechatPaySimulator } from 'nestjs-wechat-partner-pay/testing';
import { freePort, HAVE_REDIS_SERVER, OwnRedis } from './helpers/own-redis';

const describeWithRedisServer = HAVE_REDIS_SERVER || process.env.CI === 'true' ? describe : describe.skip;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The app's own order rows: the business state that the documented pattern checks. */
interface OrderRow {
  state: 'NOTPAY' | 'PAID';
  effects: number;
}

const rows = new Map<string, OrderRow>();
/** Notification ids whose handler completed (ran the effect, or found it done). */
const completed = new Set<string>();
let handlerRuns = 0;
let handlerDelayMs = 20;
/** The lease each handler run was given. */
const leases: Array<WechatPayNotificationLease | undefined> = [];
/** Notification ids in the order their handler runs started. */
const started: string[] = [];

@Controller()
class PaymentsController {
  @Post('wechatpay/notify')
  @WechatPayNotification('TRANSACTION.SUCCESS')
  async paid(
    @NotificationResource() tx: PartnerTransactionResource,
    @NotificationEnvelope() envelope: WechatPayNotificationEnvelope,
    @NotificationLease() lease: WechatPayNotificationLease | undefined,
  ): Promise<void> {
    handlerRuns++;
    leases.push(lease);
    started.push(envelope.id);
    const row = rows.get(tx.out_trade_no);
    if (!row) throw new Error('unknown order');
    await sleep(handlerDelayMs); // the work: a call to the warehouse, an e-mail, ...
    // The business-state check, as one conditional update (UPDATE orders SET state='PAID' WHERE no=? AND state='NOTPAY').
    if (row.state === 'NOTPAY') {
      row.state = 'PAID';
      row.effects++;
    }
    completed.add(envelope.id);
  }
}

interface Reply {
  id: string;
  status: number;
  ms: number;
}

async function startApp(sim: WechatPaySimulator, redis: Redis, lockMs: number): Promise<{ app: INestApplication; replies: Reply[]; url: string }> {
  const replies: Reply[] = [];
  const ref = await Test.createTestingModule({
    imports: [
      WechatPartnerPayModule.forRoot(
        sim.moduleOptions({
          notifyUrl: 'http://127.0.0.1/wechatpay/notify',
          notifications: {
            dedupeStore: new RedisNotificationDedupeStore(redis, { keyPrefix: `outage:${randomUUID()}:` }),
            storeTimeoutMs: 500,
            dedupeLockMs: lockMs,
          },
        }),
      ),
    ],
    controllers: [PaymentsController],
  }).compile();
  const app = ref.createNestApplication<NestExpressApplication>({ rawBody: true, logger: false });
  // Records every reply with the notification id it answered (the envelope id is plain text in the body).
  app.use((req: { rawBody?: Buffer; body?: { id?: string } }, res: { statusCode: number; on(e: 'finish', f: () => void): void }, next: () => void) => {
    const started = performance.now();
    res.on('finish', () => replies.push({ id: String(req.body?.id ?? ''), status: res.statusCode, ms: performance.now() - started }));
    next();
  });
  await app.listen(0, '127.0.0.1');
  return { app, replies, url: `${await app.getUrl()}/wechatpay/notify`.replace('[::1]', '127.0.0.1') };
}

describeWithRedisServer.each([
  ['restarted empty', false],
  ['restarted from its AOF', true],
] as const)('notifications while Redis is killed and %s', (_name, aof) => {
  let sim: WechatPaySimulator;
  let redis: OwnRedis;
  let client: Redis;
  let dir: string;
  let app: INestApplication;
  let replies: Reply[];
  let notifyUrl: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wechatpay-redis-'));
    redis = new OwnRedis(await freePort(), dir, aof);
    await redis.start();
    // ioredis with its defaults (20 retries per command, offline queue): the module's store deadline must bound it.
    client = new Redis({ host: '127.0.0.1', port: redis.port });
    sim = await WechatPaySimulator.start({ notificationTimeScale: 0.01 });
    ({ app, replies, url: notifyUrl } = await startApp(sim, client, 3000));
  });
  afterAll(async () => {
    await app?.close();
    client?.disconnect();
    await redis?.kill();
    await sim?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('loses nothing, has no double business effect, and answers every delivery within 5 s', async () => {
    rows.clear();
    completed.clear();
    handlerRuns = 0;
    handlerDelayMs = 20;
    const orders = app.get(WechatPayOrdersService);
    const numbers: string[] = [];
    for (let i = 0; i < 24; i++) {
      const out_trade_no = `OUT${Date.now()}${String(i).padStart(3, '0')}`;
      await orders.nativePrepay({ sub_mchid: '1900000109', description: '断电测试', out_trade_no, notify_url: notifyUrl, amount: { total: 100 + i } });
      rows.set(out_trade_no, { state: 'NOTPAY', effects: 0 });
      numbers.push(out_trade_no);
    }
    // Pay in three waves: before, during and after the outage; and redeliver some (WeChat does that after a 2xx too).
    const ids: string[] = [];
    const payWave = async (wave: string[]): Promise<void> => {
      for (const no of wave) {
        await sim.pay(no);
        await sleep(25);
      }
    };
    await payWave(numbers.slice(0, 8));
    await sleep(100);
    await redis.kill();
    await payWave(numbers.slice(8, 16));
    await sleep(1500);
    await redis.start();
    await payWave(numbers.slice(16));
    await sim.notifications.flush();
    for (const d of sim.deliveries) if (!ids.includes(d.notificationId)) ids.push(d.notificationId);
    for (const id of ids.slice(0, 12)) sim.redeliver(id);
    await sim.notifications.flush();

    // Nothing lost: every order paid once, every notification handled.
    expect([...rows.values()].map((r) => r.effects)).toEqual(numbers.map(() => 1));
    // No 2xx without a completed handler.
    const ok = replies.filter((r) => r.status >= 200 && r.status < 300);
    expect(ok.filter((r) => !completed.has(r.id))).toEqual([]);
    // The outage was seen (503s were answered) and every reply went out within WeChat Pay's 5 s.
    expect(replies.some((r) => r.status === 503)).toBe(true);
    expect(replies.filter((r) => r.ms >= 5000)).toEqual([]);
    expect(sim.deliveries.filter((d) => d.error === 'TIMEOUT')).toEqual([]);
    // With AOF the completions survive the restart: no redelivery runs a handler again.
    if (aof) expect(handlerRuns).toBeLessThanOrEqual(numbers.length + replies.filter((r) => r.status === 503).length);
  }, 60_000);
});

describeWithRedisServer('a handler slower than the lock', () => {
  let sim: WechatPaySimulator;
  let client: Redis;
  let app: INestApplication;
  let notifyUrl: string;

  beforeAll(async () => {
    client = new Redis({ host: '127.0.0.1', port: 6379 });
    sim = await WechatPaySimulator.start({ notificationTimeScale: 0.01 });
    ({ app, url: notifyUrl } = await startApp(sim, client, 1000));
  });
  afterAll(async () => {
    await app?.close();
    client?.disconnect();
    await sim?.close();
  });

  it('keeps its claim: deliveries one after another run it once (lock 1 s, handler 2.5 s)', async () => {
    rows.clear();
    completed.clear();
    handlerRuns = 0;
    started.length = 0;
    handlerDelayMs = 2500;
    const out_trade_no = `SLOW${Date.now()}`;
    await app.get(WechatPayOrdersService).nativePrepay({ sub_mchid: '1900000109', description: '慢处理', out_trade_no, notify_url: notifyUrl, amount: { total: 1 } });
    rows.set(out_trade_no, { state: 'NOTPAY', effects: 0 });
    await sim.pay(out_trade_no);
    await sleep(1200);
    // The first delivery is still running (2.5 s): its id is known from the handler, not yet from the deliveries.
    const id = started[0];
    expect(id).toBeDefined();
    sim.redeliver(id);
    await sleep(1200);
    sim.redeliver(id);
    await sim.notifications.flush();
    expect(handlerRuns).toBe(1);
    expect(rows.get(out_trade_no)).toEqual({ state: 'PAID', effects: 1 });
    // The handler held a live lease with a fencing token all along (renewed, never lost).
    expect(leases.at(-1)?.fencingToken).toEqual(expect.any(Number));
    expect(leases.at(-1)?.signal.aborted).toBe(false);
  }, 30_000);
});
