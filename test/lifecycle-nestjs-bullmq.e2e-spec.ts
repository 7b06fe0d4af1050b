/**
 * The lifecycle module on a queue registered with `@nestjs/bullmq`: the app's `BullModule.forRoot({ connection,
 * prefix })` is shared (our keys are under its prefix), its own `@InjectQueue()` sees the watch jobs, the watches
 * work (notifications off: every paid order handled once by query, unpaid ones closed), and shutting the lifecycle
 * down closes its worker but not a queue it was given. Also the boot errors of `connection` / `queue` together or
 * neither. Real Redis at 127.0.0.1:6379 under a unique prefix, the simulator over HTTP.
 */
import { randomUUID } from 'node:crypto';
import { Injectable, Module } from '@nestjs/common';
import { BullModule, getQueueToken, InjectQueue } from '@nestjs/bullmq';
import { Test, type TestingModule } from '@nestjs/testing';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { RedisNotificationDedupeStore, WechatPartnerPayModule, WechatPayOrdersService } from 'nestjs-wechat-partner-pay';
import {
  WechatPayLifecycleConfigError,
  WechatPayLifecycleMetrics,
  WechatPayLifecycleModule,
  type WechatPayLifecycleModuleOptions,
  WechatPayOrderWatchService,
  watchId,
} from 'nestjs-wechat-partner-pay/lifecycle';
import { WechatPaySimulator } from 'nestjs-wechat-partner-pay/testing';
import { resolveLifecycleOptions } from '../lib/lifecycle/lifecycle.options';
import { deleteKeys } from './helpers/lifecycle-instance';
import { describeWithRedis } from './helpers/redis-up';
import { until } from './helpers/wait';

const describeRedis = describeWithRedis();

jest.setTimeout(60_000);
const SUB = '1900000109';
const QUEUE = 'wechatpay-lifecycle';
const CONNECTION = { host: '127.0.0.1', port: 6379 };
const OFF = { notifyUrl: 'http://127.0.0.1:9/wechatpay/notify', timeoutMs: 3000 };

/** The app's own code that uses the same queue through @nestjs/bullmq. */
@Injectable()
class ShopJobs {
  constructor(@InjectQueue(QUEUE) readonly queue: Queue) {}
}

@Module({ imports: [BullModule.registerQueue({ name: QUEUE })], providers: [ShopJobs], exports: [ShopJobs] })
class ShopModule {}

describeRedis('lifecycle on a @nestjs/bullmq queue', () => {
  let admin: Redis;
  let dedupe: Redis;
  const prefixes: string[] = [];

  beforeAll(() => {
    admin = new Redis({ ...CONNECTION, maxRetriesPerRequest: 1 });
    dedupe = new Redis({ ...CONNECTION, maxRetriesPerRequest: 1 });
  });
  afterAll(async () => {
    for (const p of prefixes) await deleteKeys(admin, p);
    admin.disconnect();
    dedupe.disconnect();
  });

  function newPrefix(): string {
    const p = `wechatpay-test:nestjs-bullmq:${process.pid}:${randomUUID()}`;
    prefixes.push(p);
    return p;
  }

  async function shopApp(sim: WechatPaySimulator, prefix: string): Promise<TestingModule> {
    return Test.createTestingModule({
      imports: [
        BullModule.forRoot({ connection: CONNECTION, prefix }),
        WechatPartnerPayModule.forRoot({
          isGlobal: true,
          ...sim.moduleOptions(OFF),
          notifications: { dedupeStore: new RedisNotificationDedupeStore(dedupe, { keyPrefix: `${prefix}:dedupe:` }) },
        }),
        WechatPayLifecycleModule.forRootAsync({
          imports: [BullModule.registerQueue({ name: QUEUE })],
          inject: [getQueueToken(QUEUE)],
          useFactory: (queue: Queue): WechatPayLifecycleModuleOptions => ({
            scheduler: { type: 'bullmq', queue, lockDurationMs: 2000, stalledIntervalMs: 500 },
            watch: { scheduleMs: [30, 100, 250, 600], expiryGraceMs: 100 },
            retry: { initialMs: 50, maxMs: 400 },
          }),
        }),
        ShopModule,
      ],
    }).compile();
  }

  it("runs the watches on the app's queue: same prefix, visible to @InjectQueue, each paid order handled once", async () => {
    const sim = await WechatPaySimulator.start({ notificationMode: 'once' });
    const prefix = newPrefix();
    const ref = await shopApp(sim, prefix);
    try {
      const watch = ref.get(WechatPayOrderWatchService);
      const handled: string[] = [];
      const closed: string[] = [];
      watch.onPaid((p) => void handled.push(`${p.type === 'order' ? p.transaction.out_trade_no : ''}|${p.source}`));
      watch.onClosed((e) => void closed.push(`${e.out_trade_no}|${e.trade_state}`));
      await ref.init();
      const shop = ref.get(ShopJobs).queue;
      expect(await shop.getWorkersCount()).toBe(1); // our worker, on the app's queue

      // One order watched far ahead: the app's own queue handle sees its job, under the app's prefix.
      const orders = ref.get(WechatPayOrdersService);
      const run = randomUUID().replace(/-/g, '').slice(0, 10);
      const far = `NB${run}FAR`;
      await orders.nativePrepay({ sub_mchid: SUB, description: '远期', out_trade_no: far, amount: { total: 1 } });
      const parked = { type: 'order' as const, sub_mchid: SUB, out_trade_no: far };
      await watch.watchOrder({ ...parked, time_expire: new Date(Date.now() + 3600_000) });
      const job = await shop.getJob(watchId(parked));
      expect(job?.name).toBe('watch');
      expect(job?.data).toMatchObject({ type: 'order', sub_mchid: SUB, out_trade_no: far, step: 1 });
      expect(await job?.getState()).toBe('delayed');
      expect(await admin.exists(`${prefix}:${QUEUE}:${watchId(parked)}`)).toBe(1);
      await shop.remove(watchId(parked)); // the app may manage our jobs with its own tools
      expect(await watch.pendingWatches()).toBe(0);
      // The marker job that tells a Redis that lost its data: promoted by hand, it goes back to sleep.
      const marker = await shop.getJob('wechatpay-lifecycle-marker');
      expect(await marker?.getState()).toBe('delayed');
      await marker?.promote();
      await until('the marker to be delayed again', async () => (await shop.getJobState('wechatpay-lifecycle-marker')) === 'delayed');
      expect(await watch.pendingWatches()).toBe(0);

      // A batch with notifications off: found by query, once each; the unpaid ones closed at expiry.
      const paid: string[] = [];
      const unpaid: string[] = [];
      for (let i = 0; i < 12; i++) {
        const no = `NB${run}${String(i).padStart(3, '0')}`;
        const time_expire = new Date(Math.ceil((Date.now() + 3000) / 1000) * 1000);
        await orders.nativePrepay({ sub_mchid: SUB, description: '看护', out_trade_no: no, amount: { total: 100 + i }, time_expire });
        await watch.watchOrder({ sub_mchid: SUB, out_trade_no: no, time_expire });
        if (i % 3 === 0) unpaid.push(no);
        else {
          await sim.pay(no, { sub_mchid: SUB });
          paid.push(no);
        }
      }
      expect(await shop.getJobCounts('delayed', 'waiting', 'active').then((c) => c.delayed + c.waiting + c.active)).toBeGreaterThan(0);
      await until('every watch to end', async () => (await watch.pendingWatches()) === 0);
      expect([...handled].sort()).toEqual(paid.map((no) => `${no}|query`).sort());
      expect([...closed].sort()).toEqual(unpaid.map((no) => `${no}|CLOSED`).sort());
      expect(ref.get(WechatPayLifecycleMetrics).snapshot().rescuedByQuery).toBe(paid.length);
    } finally {
      await ref.close(); // @nestjs/bullmq closes its queues, we close our worker: no error either way
      await sim.close();
    }
  });

  it("closes its worker on shutdown and leaves a queue it was given open for its owner", async () => {
    const sim = await WechatPaySimulator.start({ notificationMode: 'once' });
    const prefix = newPrefix();
    const queue = new Queue(QUEUE, { connection: CONNECTION, prefix });
    try {
      const ref = await Test.createTestingModule({
        imports: [
          WechatPartnerPayModule.forRoot({ isGlobal: true, ...sim.moduleOptions(OFF) }),
          WechatPayLifecycleModule.forRoot({ scheduler: { type: 'bullmq', queue, stalledIntervalMs: 500 } }),
        ],
      }).compile();
      await ref.init();
      expect(await queue.getWorkersCount()).toBe(1);
      await ref.close();
      expect(await queue.getWorkersCount()).toBe(0);
      // Still the owner's to use: a job added now waits, since no worker takes it any more.
      await queue.add('shop-job', { n: 1 }, { jobId: 'after-shutdown' });
      expect(await queue.getJobState('after-shutdown')).toBe('waiting');
    } finally {
      await queue.close();
      await sim.close();
    }
  });

  it('works on a queue whose connection is an ioredis client (shared, maxRetriesPerRequest: null), and leaves it open', async () => {
    const sim = await WechatPaySimulator.start({ notificationMode: 'once' });
    const prefix = newPrefix();
    const client = new Redis({ ...CONNECTION, maxRetriesPerRequest: null });
    const queue = new Queue(QUEUE, { connection: client, prefix });
    try {
      const ref = await Test.createTestingModule({
        imports: [
          WechatPartnerPayModule.forRoot({ isGlobal: true, ...sim.moduleOptions(OFF) }),
          WechatPayLifecycleModule.forRoot({ scheduler: { type: 'bullmq', queue, stalledIntervalMs: 500 }, watch: { scheduleMs: [30, 100] }, retry: { initialMs: 50, maxMs: 400 } }),
        ],
      }).compile();
      const handled: string[] = [];
      const watch = ref.get(WechatPayOrderWatchService);
      watch.onPaid((p) => void handled.push(p.type === 'order' ? p.transaction.out_trade_no : ''));
      await ref.init();
      try {
        const no = `NB${randomUUID().replace(/-/g, '').slice(0, 10)}SH`;
        await ref.get(WechatPayOrdersService).nativePrepay({ sub_mchid: SUB, description: '共享', out_trade_no: no, amount: { total: 1 } });
        await watch.watchOrder({ sub_mchid: SUB, out_trade_no: no });
        await sim.pay(no, { sub_mchid: SUB });
        await until('the watch to end', async () => (await watch.pendingWatches()) === 0);
        expect(handled).toEqual([no]);
      } finally {
        await ref.close();
      }
      expect(await client.ping()).toBe('PONG'); // the app's client is still its own
    } finally {
      await queue.close();
      client.disconnect();
      await sim.close();
    }
  });

  it('a job on the queue that is not a lifecycle job fails without retries, with a message that says why', async () => {
    const sim = await WechatPaySimulator.start({ notificationMode: 'once' });
    const prefix = newPrefix();
    const queue = new Queue(QUEUE, { connection: CONNECTION, prefix });
    try {
      const ref = await Test.createTestingModule({
        imports: [
          WechatPartnerPayModule.forRoot({ isGlobal: true, ...sim.moduleOptions(OFF) }),
          WechatPayLifecycleModule.forRoot({ scheduler: { type: 'bullmq', queue, stalledIntervalMs: 500 } }),
        ],
      }).compile();
      await ref.init();
      try {
        await queue.add('send-email', { to: 'x' }, { jobId: 'foreign', attempts: 5 });
        await until('the foreign job to fail', async () => (await queue.getJobState('foreign')) === 'failed');
        const job = await queue.getJob('foreign');
        expect(job?.attemptsMade).toBe(1);
        expect(job?.failedReason).toMatch(/send-email is not a lifecycle job: queue wechatpay-lifecycle belongs to WechatPayLifecycleModule/);
      } finally {
        await ref.close();
      }
    } finally {
      await queue.close();
      await sim.close();
    }
  });

  it('connection and queue: both or neither is a boot error that says what to change', async () => {
    const queue = new Queue(QUEUE, { connection: CONNECTION, prefix: newPrefix() });
    try {
      const problems = (o: WechatPayLifecycleModuleOptions): readonly string[] => {
        try {
          resolveLifecycleOptions(o);
          return [];
        } catch (e) {
          expect(e).toBeInstanceOf(WechatPayLifecycleConfigError);
          return (e as WechatPayLifecycleConfigError).problems;
        }
      };
      expect(problems({ scheduler: { type: 'bullmq', queue, connection: CONNECTION } as never })).toEqual([
        expect.stringMatching(/either connection .* or queue .*, not both: remove one of them/),
      ]);
      expect(problems({ scheduler: { type: 'bullmq' } as never })).toEqual([expect.stringMatching(/needs connection .* or queue .*getQueueToken/)]);
      expect(problems({ scheduler: { type: 'bullmq', queue, prefix: 'x', queueName: 'y' } as never })).toEqual([
        expect.stringMatching(/prefix cannot be set with queue: the queue's own opts.prefix is used/),
        expect.stringMatching(/queueName cannot be set with queue: the queue's own name is used/),
      ]);
      const notAQueue = new Redis({ lazyConnect: true });
      expect(problems({ scheduler: { type: 'bullmq', queue: notAQueue } as never })).toEqual([expect.stringMatching(/must be a BullMQ Queue/)]);
      notAQueue.disconnect();
      expect(problems({ scheduler: { type: 'bullmq', queue } })).toEqual([]);
      expect(problems({ scheduler: { type: 'bullmq', connection: CONNECTION } })).toEqual([]);

      // Through Nest: the module fails at boot with the same error.
      const sim = await WechatPaySimulator.start();
      try {
        const boot = Test.createTestingModule({
          imports: [
            WechatPartnerPayModule.forRoot({ isGlobal: true, ...sim.moduleOptions(OFF) }),
            WechatPayLifecycleModule.forRootAsync({ useFactory: () => ({ scheduler: { type: 'bullmq', queue, connection: CONNECTION } as never }) }),
          ],
        }).compile();
        await expect(boot).rejects.toThrow(WechatPayLifecycleConfigError);
        await expect(boot).rejects.toThrow(/not both/);
      } finally {
        await sim.close();
      }
    } finally {
      await queue.close();
    }
  });
});
