/**
 * One app instance of the lifecycle suites and bench: WechatPartnerPayModule on the simulator, the lifecycle module
 * on BullMQ (or in-process), a Redis dedupe store, and a paid/closed handler that records every call and every
 * business effect in Redis — so that instances in this process and in child processes are counted alike.
 */
import { Controller, type INestApplication, Post } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { Redis } from 'ioredis';
import {
  NotificationResource,
  type PartnerTransactionResource,
  RedisNotificationDedupeStore,
  WechatPartnerPayModule,
  type WechatPartnerPayModuleOptions,
  WechatPayNotification,
} from '../../lib';
import { WechatPayLifecycleModule, type WechatPayLifecycleModuleOptions, WechatPayOrderWatchService } from '../../lib/lifecycle';

/** What an instance needs; JSON, so that a child process gets it through its environment. */
export interface LifecycleInstanceConfig {
  name: string;
  moduleOptions: WechatPartnerPayModuleOptions;
  /** Prefix of every Redis key of the run (BullMQ queue, dedupe store, records). */
  prefix: string;
  scheduleMs: number[];
  expiryGraceMs: number;
  /** Extra ms the paid handler takes, to widen race windows. */
  handlerDelayMs?: number;
  /** Serve the notification route on this adapter. */
  http?: 'express' | 'fastify';
  concurrency?: number;
  scheduler?: 'bullmq' | 'in-process';
  /** Schedule the daily reconciliation at this Beijing time (with an empty local source). */
  reconcileAt?: string;
}

export interface LifecycleInstance {
  app: INestApplication;
  watch: WechatPayOrderWatchService;
  redis: Redis;
  close(): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Redis keys of the records. */
export const records = (prefix: string) => ({
  calls: `${prefix}rec:calls`,
  effects: `${prefix}rec:effects`,
  effect: (no: string) => `${prefix}rec:effect:${no}`,
  closed: `${prefix}rec:closed`,
});

export async function startLifecycleInstance(c: LifecycleInstanceConfig): Promise<LifecycleInstance> {
  const redis = new Redis({ host: '127.0.0.1', port: 6379, maxRetriesPerRequest: 1 });
  const rec = records(c.prefix);

  @Controller()
  class NotifyController {
    constructor(private readonly watch: WechatPayOrderWatchService) {}

    @Post('wechatpay/notify')
    // The lifecycle claims the key itself (handleNotification*), so the route does not.
    @WechatPayNotification({ eventTypes: ['TRANSACTION.SUCCESS'], resources: ['partner-transaction', 'combine-transaction'], dedupe: false })
    async paid(@NotificationResource() tx: PartnerTransactionResource): Promise<void> {
      await this.watch.handleNotificationResource(tx);
    }
  }

  const lifecycle: WechatPayLifecycleModuleOptions = {
    scheduler:
      c.scheduler === 'in-process'
        ? { type: 'in-process' }
        : { type: 'bullmq', connection: { host: '127.0.0.1', port: 6379 }, prefix: `${c.prefix}bull`, concurrency: c.concurrency ?? 20, lockDurationMs: 2000, stalledIntervalMs: 500 },
    watch: { scheduleMs: c.scheduleMs, expiryGraceMs: c.expiryGraceMs },
    retry: { initialMs: 50, maxMs: 400 },
    ...(c.reconcileAt ? { reconciliation: { at: c.reconcileAt, source: { ordersOfDay: () => [] } } } : {}),
  };
  const ref = await Test.createTestingModule({
    imports: [
      WechatPartnerPayModule.forRoot({
        isGlobal: true,
        ...c.moduleOptions,
        // A short claim, so that the claims of a killed instance lapse within the suite (default 60 s).
        notifications: { dedupeStore: new RedisNotificationDedupeStore(redis, { keyPrefix: `${c.prefix}dedupe:` }), dedupeLockMs: 3000 },
      }),
      WechatPayLifecycleModule.forRoot(lifecycle),
    ],
    controllers: c.http ? [NotifyController] : [],
  }).compile();
  const app =
    c.http === 'fastify'
      ? ref.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { rawBody: true, logger: false })
      : ref.createNestApplication<NestExpressApplication>({ rawBody: true, logger: false });
  const w = app.get(WechatPayOrderWatchService);
  w.onPaid(async (paid) => {
    const no = paid.type === 'order' ? paid.transaction.out_trade_no : paid.transaction.combine_out_trade_no;
    await redis.rpush(rec.calls, `${no}|${paid.source}|${c.name}`);
    if (c.handlerDelayMs) await sleep(c.handlerDelayMs);
    // The business effect with its own state check (as §3.2.6 asks), counted apart from the calls; one script, so
    // that a Redis killed in between cannot keep the check and lose the record.
    await redis.eval(`if redis.call('SET', KEYS[1], ARGV[1], 'NX') then redis.call('RPUSH', KEYS[2], ARGV[2]) end`, 2, rec.effect(no), rec.effects, c.name, no);
  });
  w.onClosed(async (e) => {
    await redis.rpush(rec.closed, `${e.out_trade_no}|${e.trade_state}|${c.name}`);
  });
  if (c.http) await app.listen(0, '127.0.0.1');
  else await app.init();
  return {
    app,
    watch: w,
    redis,
    async close() {
      await app.close();
      redis.disconnect();
    },
  };
}

/** Deletes every key of a run (never FLUSHDB). */
export async function deleteKeys(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    if (keys.length) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
}
