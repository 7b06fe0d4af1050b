/**
 * The order watch on BullMQ and the real Redis (a unique prefix per run), against the simulator: with notifications
 * off every paid order is handled exactly once by query; with notifications racing the queries each is handled
 * once; unpaid orders are closed at expiry; and with two instances, one a child process killed (SIGKILL) in the
 * middle, nothing is lost or done twice. Short schedules (ms); waits have deadlines, no timing is asserted.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { WechatPayOrdersService } from 'nestjs-wechat-partner-pay';
import { WechatPayLifecycleMetrics } from 'nestjs-wechat-partner-pay/lifecycle';
import { WechatPaySimulator } from 'nestjs-wechat-partner-pay/testing';
import { deleteKeys, type LifecycleInstance, type LifecycleInstanceConfig, records, startLifecycleInstance } from './helpers/lifecycle-instance';
import { describeWithRedis } from './helpers/redis-up';
import { sleep, until as waitUntil } from './helpers/wait';

const describeRedis = describeWithRedis();

jest.setTimeout(120_000);
const until = (what: string, done: () => Promise<boolean> | boolean, ms = 60_000): Promise<void> => waitUntil(what, done, ms);
const SUB = '1900000109';
const SCHEDULE = [30, 100, 250, 600];

/** Per out_trade_no, how many entries of a record list name it (entries are `no|…`). */
function tally(entries: string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const e of entries) {
    const no = e.split('|')[0];
    m.set(no, (m.get(no) ?? 0) + 1);
  }
  return m;
}

describeRedis('order watch on BullMQ', () => {
  const prefixes: string[] = [];
  let admin: Redis;
  const running: LifecycleInstance[] = [];

  beforeAll(() => {
    admin = new Redis({ host: '127.0.0.1', port: 6379, maxRetriesPerRequest: 1 });
  });
  afterEach(async () => {
    for (const i of running.splice(0)) await i.close();
  });
  afterAll(async () => {
    for (const p of prefixes) await deleteKeys(admin, p);
    admin.disconnect();
  });

  function newPrefix(): string {
    const p = `wechatpay-test:lifecycle:${process.pid}:${randomUUID()}:`;
    prefixes.push(p);
    return p;
  }

  /** Creates `n` orders through the module, watches them, pays those `pay(i)` selects (now or a bit later). */
  async function orderBatch(
    sim: WechatPaySimulator,
    inst: LifecycleInstance,
    n: number,
    pay: (i: number) => 'now' | 'later' | 'never',
    expiresInMs = 4000,
  ): Promise<{ paid: string[]; unpaid: string[] }> {
    const orders = inst.app.get(WechatPayOrdersService);
    const paid: string[] = [];
    const unpaid: string[] = [];
    const later: string[] = [];
    const run = randomUUID().replace(/-/g, '').slice(0, 10);
    for (let i = 0; i < n; i++) {
      const no = `LC${run}${String(i).padStart(4, '0')}`;
      // WeChat's time_expire has whole seconds: round up so that the order lives at least expiresInMs.
      const time_expire = new Date(Math.ceil((Date.now() + expiresInMs) / 1000) * 1000);
      await orders.nativePrepay({ sub_mchid: SUB, description: '看护', out_trade_no: no, amount: { total: 100 + i }, time_expire });
      await inst.watch.watchOrder({ sub_mchid: SUB, out_trade_no: no, time_expire });
      const when = pay(i);
      if (when === 'now') await sim.pay(no, { sub_mchid: SUB });
      if (when === 'later') later.push(no);
      (when === 'never' ? unpaid : paid).push(no);
    }
    for (const no of later) {
      await sleep(20);
      await sim.pay(no, { sub_mchid: SUB });
    }
    return { paid, unpaid };
  }

  function config(sim: WechatPaySimulator, prefix: string, name: string, extra: Partial<LifecycleInstanceConfig> = {}): LifecycleInstanceConfig {
    return {
      name,
      prefix,
      moduleOptions: sim.moduleOptions({ notifyUrl: 'https://shop.example.com/wechatpay/notify', timeoutMs: 3000 }),
      scheduleMs: SCHEDULE,
      expiryGraceMs: 100,
      ...extra,
    };
  }

  async function expectExactlyOnce(prefix: string, paid: string[], unpaid: string[]): Promise<string[]> {
    const rec = records(prefix);
    const effects = await admin.lrange(rec.effects, 0, -1);
    expect([...effects].sort()).toEqual([...paid].sort()); // 0 lost, 0 twice
    const closed = await admin.lrange(rec.closed, 0, -1);
    expect([...tally(closed).keys()].sort()).toEqual([...unpaid].sort());
    expect(closed.every((c) => c.split('|')[1] === 'CLOSED')).toBe(true);
    return admin.lrange(rec.calls, 0, -1);
  }

  it('notifications off: every paid order is handled exactly once by query, unpaid ones are closed at expiry', async () => {
    // Nobody answers the notify URL, and 'once' gives up after one attempt: WeChat's "no guarantee" made certain.
    const sim = await WechatPaySimulator.start({ notificationMode: 'once' });
    try {
      const prefix = newPrefix();
      const a = await startLifecycleInstance({ ...config(sim, prefix, 'a'), moduleOptions: sim.moduleOptions({ notifyUrl: 'http://127.0.0.1:9/wechatpay/notify', timeoutMs: 3000 }) });
      running.push(a);
      const b = await startLifecycleInstance({ ...config(sim, prefix, 'b'), moduleOptions: sim.moduleOptions({ notifyUrl: 'http://127.0.0.1:9/wechatpay/notify', timeoutMs: 3000 }) });
      running.push(b);
      const { paid, unpaid } = await orderBatch(sim, a, 30, (i) => (i % 3 === 0 ? 'never' : i % 3 === 1 ? 'now' : 'later'));
      await until('every watch to end', async () => (await a.watch.pendingWatches()) === 0);
      const calls = await expectExactlyOnce(prefix, paid, unpaid);
      expect([...tally(calls).values()].every((n) => n === 1)).toBe(true);
      expect(calls.every((c) => c.split('|')[1] === 'query')).toBe(true);
      for (const no of unpaid) expect(sim.getOrder(SUB, no)?.tradeState).toBe('CLOSED');
      const closes = sim.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/close'));
      expect(new Set(closes.map((r) => r.path.split('/').at(-2))).size).toBe(unpaid.length);
      const m = [a, b].map((i) => i.app.get(WechatPayLifecycleMetrics).snapshot());
      expect(m[0].watched + m[1].watched).toBe(30);
      expect(m[0].rescuedByQuery + m[1].rescuedByQuery).toBe(paid.length);
      expect(m[0].closedAtExpiry + m[1].closedAtExpiry).toBe(unpaid.length);
    } finally {
      await sim.close();
    }
  });

  it.each(['express', 'fastify'] as const)('notifications racing the queries (%s route): each paid order is handled once', async (adapter) => {
    const sim = await WechatPaySimulator.start({ notificationTimeScale: 0.001 });
    try {
      const prefix = newPrefix();
      // The watch queries almost at once, and the handler is slow: the notification and the query overlap.
      const a = await startLifecycleInstance(config(sim, prefix, 'a', { http: adapter, handlerDelayMs: 30, scheduleMs: [0, 20, 60, 200] }));
      running.push(a);
      const b = await startLifecycleInstance(config(sim, prefix, 'b', { handlerDelayMs: 30, scheduleMs: [0, 20, 60, 200] }));
      running.push(b);
      sim.routeNotificationsTo(await a.app.getUrl());
      const { paid, unpaid } = await orderBatch(sim, a, 24, (i) => (i % 4 === 3 ? 'never' : 'now'));
      await until('every watch to end', async () => (await a.watch.pendingWatches()) === 0);
      await sim.notifications.flush();
      const calls = await expectExactlyOnce(prefix, paid, unpaid);
      expect([...tally(calls)].filter(([, n]) => n !== 1)).toEqual([]);
      expect([...tally(calls).keys()].sort()).toEqual([...paid].sort());
      const m = [a, b].map((i) => i.app.get(WechatPayLifecycleMetrics).snapshot());
      expect(m[0].rescuedByQuery + m[1].rescuedByQuery + m[0].handledByNotification + m[1].handledByNotification).toBe(paid.length);
    } finally {
      await sim.close();
    }
  });

  it('the daily reconciliation is one BullMQ job scheduler at the Beijing time, however many instances start', async () => {
    const sim = await WechatPaySimulator.start();
    try {
      const prefix = newPrefix();
      for (const name of ['a', 'b']) running.push(await startLifecycleInstance(config(sim, prefix, name, { reconcileAt: '10:45' })));
      const queue = new Queue('wechatpay-lifecycle', { connection: { host: '127.0.0.1', port: 6379 }, prefix: `${prefix}bull` });
      try {
        const schedulers = await queue.getJobSchedulers();
        expect(schedulers.map((s) => [s.key, s.pattern, s.tz])).toEqual([['wechatpay-daily-reconciliation', '45 10 * * *', 'Asia/Shanghai']]);
        const next = schedulers[0].next ?? 0;
        expect(new Date(next + 8 * 3600_000).toISOString().slice(11, 16)).toBe('10:45');
      } finally {
        await queue.close();
      }
    } finally {
      await sim.close();
    }
  });

  it('two instances, one killed (SIGKILL) in the middle: 0 lost, 0 done twice', async () => {
    const sim = await WechatPaySimulator.start({ notificationMode: 'once' });
    let child: ChildProcess | undefined;
    try {
      const prefix = newPrefix();
      const off = { notifyUrl: 'http://127.0.0.1:9/wechatpay/notify', timeoutMs: 3000 };
      const childConfig = { ...config(sim, prefix, 'child', { handlerDelayMs: 40, concurrency: 5 }), moduleOptions: sim.moduleOptions(off) };
      child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', join(__dirname, 'fixtures/lifecycle/instance-main.ts')], {
        env: { ...process.env, LIFECYCLE_INSTANCE: JSON.stringify(childConfig), TS_NODE_PROJECT: join(__dirname, '..', 'tsconfig.json') },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const proc = child;
      await new Promise<void>((resolve, reject) => {
        proc.stdout?.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
        proc.once('exit', (code) => reject(new Error(`instance exited (${code}) before it was ready`)));
      });
      const parent = await startLifecycleInstance({ ...config(sim, prefix, 'parent', { handlerDelayMs: 40, concurrency: 5 }), moduleOptions: sim.moduleOptions(off) });
      running.push(parent);
      const { paid, unpaid } = await orderBatch(sim, parent, 40, (i) => (i % 4 === 0 ? 'never' : i % 2 ? 'now' : 'later'), 5000);
      const rec = records(prefix);
      await until('the child to have handled some orders', async () => (await admin.lrange(rec.calls, 0, -1)).some((c) => c.endsWith('|child')));
      proc.kill('SIGKILL');
      await new Promise((r) => proc.once('exit', r));
      await until('every watch to end', async () => (await parent.watch.pendingWatches()) === 0);
      const calls = await expectExactlyOnce(prefix, paid, unpaid);
      expect([...tally(calls).keys()].sort()).toEqual([...paid].sort());
      // A handler the kill interrupted after its effect, before its completion was recorded, runs again on the
      // other instance (the documented at-least-once window); its own state check kept the effect single above.
      const repeated = [...tally(calls)].filter(([, n]) => n > 1);
      expect(repeated.length).toBeLessThanOrEqual(5);
      expect(calls.some((c) => c.endsWith('|parent'))).toBe(true);
    } finally {
      if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await sim.close();
    }
  });
});
