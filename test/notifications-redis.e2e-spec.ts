import { randomUUID } from 'node:crypto';
import { Controller, type INestApplication, Post } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { Redis } from 'ioredis';
import request from 'supertest';
import {
  NotificationResource,
  type PartnerTransactionResource,
  RedisNotificationDedupeStore,
  WechatPartnerPayModule,
  WechatPayNotification,
} from 'nestjs-wechat-partner-pay';
import { WechatPaySimulator } from 'nestjs-wechat-partner-pay/testing';
import { describeWithRedis, REDIS_PORT } from './helpers/redis-up';

const describeRedis = describeWithRedis();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const prefix = `wechatpay-test:${process.pid}:${randomUUID()}:`;

async function deleteTestKeys(redis: Redis): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    if (keys.length) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
}

describeRedis('RedisNotificationDedupeStore', () => {
  let redis: Redis;
  let store: RedisNotificationDedupeStore;

  beforeAll(() => {
    redis = new Redis({ host: '127.0.0.1', port: REDIS_PORT, lazyConnect: false, maxRetriesPerRequest: 1 });
    store = new RedisNotificationDedupeStore(redis, { keyPrefix: prefix });
  });
  afterAll(async () => {
    await deleteTestKeys(redis);
    redis.disconnect();
  });

  it('claims atomically, reports in-progress, and completes only with the owner token', async () => {
    const key = `unit:${randomUUID()}`;
    const first = await store.claim(key, 10_000);
    expect(first.status).toBe('claimed');
    expect(await store.claim(key, 10_000)).toEqual({ status: 'in-progress' });
    expect(await store.complete(key, 'someone-else', 90_000_000)).toBe(false);
    expect(await store.release(key, 'someone-else')).toBe(false);
    expect(await store.complete(key, (first as { token: string }).token, 90_000_000)).toBe(true);
    expect(await store.claim(key, 10_000)).toEqual({ status: 'completed' });
    const ttl = await redis.pttl(prefix + key);
    expect(ttl).toBeGreaterThan(89_000_000);
    expect(ttl).toBeLessThanOrEqual(90_000_000);
  });

  it('lets a retry reprocess after release, and takes over an expired claim whose owner can no longer complete it', async () => {
    const key = `unit:${randomUUID()}`;
    const a = (await store.claim(key, 10_000)) as { status: 'claimed'; token: string };
    expect(await store.release(key, a.token)).toBe(true);
    const b = (await store.claim(key, 50)) as { status: 'claimed'; token: string };
    expect(b.status).toBe('claimed');
    await sleep(80);
    const c = await store.claim(key, 10_000);
    expect(c.status).toBe('claimed');
    expect(await store.complete(key, b.token, 90_000_000)).toBe(false);
  });

  it('loads its Lua scripts again after SCRIPT FLUSH', async () => {
    await redis.script('FLUSH');
    const key = `unit:${randomUUID()}`;
    const a = (await store.claim(key, 10_000)) as { status: 'claimed'; token: string };
    expect(await store.complete(key, a.token, 90_000_000)).toBe(true);
  });
});

/** Effects of the handlers, shared by both apps (they run in this process), by transaction_id. */
const effects = new Map<string, number>();
let handlerCalls = 0;
let failFirstCallOf: string | undefined;

@Controller()
class NotifyController {
  @Post('notify')
  @WechatPayNotification('TRANSACTION.SUCCESS')
  async paid(@NotificationResource() tx: PartnerTransactionResource): Promise<void> {
    handlerCalls++;
    await sleep(50); // widens the window in which duplicates overlap
    if (failFirstCallOf === tx.transaction_id) {
      failFirstCallOf = undefined;
      throw new Error('transient failure');
    }
    effects.set(tx.transaction_id, (effects.get(tx.transaction_id) ?? 0) + 1);
  }
}

describeRedis('exactly-once across two Nest apps sharing Redis', () => {
  let sim: WechatPaySimulator;
  const apps: INestApplication[] = [];
  const clients: Redis[] = [];

  beforeAll(async () => {
    sim = await WechatPaySimulator.start();
    for (const adapter of ['express', 'fastify'] as const) {
      const redis = new Redis({ host: '127.0.0.1', port: REDIS_PORT, maxRetriesPerRequest: 1 });
      clients.push(redis);
      const ref = await Test.createTestingModule({
        imports: [
          WechatPartnerPayModule.forRoot(
            sim.moduleOptions({
              notifications: { dedupeStore: new RedisNotificationDedupeStore(redis, { keyPrefix: prefix }) },
            }),
          ),
        ],
        controllers: [NotifyController],
      }).compile();
      const app =
        adapter === 'express'
          ? ref.createNestApplication<NestExpressApplication>({ rawBody: true, logger: false })
          : ref.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), {
              rawBody: true,
              logger: false,
            });
      await app.listen(0, '127.0.0.1');
      apps.push(app);
    }
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
    if (clients[0]) await deleteTestKeys(clients[0]);
    for (const c of clients) c.disconnect();
    await sim?.close();
  });
  beforeEach(() => {
    effects.clear();
    handlerCalls = 0;
  });

  /** Delivers like WeChat Pay: a fresh signature per attempt, retried after a failure until a 2xx. */
  async function deliver(app: INestApplication, resource: object): Promise<number[]> {
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 50; attempt++) {
      const n = sim.signedNotification('TRANSACTION.SUCCESS', resource);
      const res = await request(app.getHttpServer()).post('/notify').set(n.headers).send(n.body);
      statuses.push(res.status);
      if (res.status === 204) return statuses;
      await sleep(10 + Math.random() * 20);
    }
    return statuses;
  }

  function transaction(transaction_id: string): Record<string, unknown> {
    return {
      sp_appid: sim.credentials.spAppid,
      sp_mchid: sim.credentials.spMchid,
      sub_mchid: '1900000109',
      out_trade_no: `X${transaction_id.slice(-20)}`,
      transaction_id,
      trade_type: 'NATIVE',
      trade_state: 'SUCCESS',
      success_time: '2024-05-20T13:29:35+08:00',
      amount: { total: 100, payer_total: 100, currency: 'CNY', payer_currency: 'CNY' },
    };
  }

  it('100 concurrent deliveries of 20 notifications over both apps: each effect happens exactly once', async () => {
    const ids = Array.from({ length: 20 }, (_, i) => `4200${Date.now()}${String(i).padStart(4, '0')}`);
    const deliveries = ids
      .flatMap((id) => Array.from({ length: 5 }, () => id))
      .sort(() => Math.random() - 0.5);
    const results = await Promise.all(deliveries.map((id, i) => deliver(apps[i % 2], transaction(id))));

    expect(results.every((statuses) => statuses.at(-1) === 204)).toBe(true);
    expect([...effects.keys()].sort()).toEqual([...ids].sort());
    expect([...effects.values()].every((n) => n === 1)).toBe(true);
    expect(handlerCalls).toBe(20);
    // 80 deliveries were answered without running the handler: 204 for a completed duplicate, or 503 (retried)
    // while the first delivery of the same notification was still running on either app.
    const turnedAway = results.flat().filter((s) => s === 503).length;
    expect(results.flat().length).toBe(100 + turnedAway);
  });

  it('a handler failure on one app releases the claim, and the retry on the other app processes it once', async () => {
    const id = `4200${Date.now()}fail`;
    failFirstCallOf = id;
    const n = sim.signedNotification('TRANSACTION.SUCCESS', transaction(id));
    await request(apps[0].getHttpServer()).post('/notify').set(n.headers).send(n.body).expect(500);
    expect(await deliver(apps[1], transaction(id))).toEqual([204]);
    expect(await deliver(apps[0], transaction(id))).toEqual([204]);
    expect(handlerCalls).toBe(2);
    expect(effects.get(id)).toBe(1);
  });
});
