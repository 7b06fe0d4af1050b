/**
 * The daily reconciliation firing on its schedule, without waiting a day. In-process: the module's `clock` puts
 * "now" 1.5 s before the configured Beijing time; the run reconciles yesterday (by that clock) against a bill the
 * simulator made of that day, runs once, and is rearmed for the next day — also with a clock that stands still,
 * which would fire again and again if the next run were counted from "now". BullMQ (real Redis, two instances):
 * one job scheduler, its next run at the expected instant; the delayed job promoted runs one reconciliation over
 * both instances, and the next one is the following day. BullMQ's schedule follows real time, not `clock`.
 */
import { randomUUID } from 'node:crypto';
import { Test, type TestingModule } from '@nestjs/testing';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { WechatPartnerPayModule, WechatPayOrdersService } from 'nestjs-wechat-partner-pay';
import {
  type LocalOrderRecord,
  type LifecycleScheduler,
  type ReconciliationReport,
  WechatPayLifecycleMetrics,
  WechatPayLifecycleModule,
  WechatPayReconciliationService,
} from 'nestjs-wechat-partner-pay/lifecycle';
import { WechatPaySimulator } from 'nestjs-wechat-partner-pay/testing';
import { beijingDate } from '../lib/core/time';
import { LIFECYCLE_SCHEDULER } from '../lib/lifecycle/lifecycle.constants';
import { nextBeijingTime } from '../lib/lifecycle/lifecycle-time';
import { billClock, DAY } from './helpers/bill-clock';
import { deleteKeys, type LifecycleInstance, startLifecycleInstance } from './helpers/lifecycle-instance';
import { describeWithRedis } from './helpers/redis-up';
import { sleep, until as waitUntil } from './helpers/wait';

jest.setTimeout(60_000);
const until = (what: string, done: () => Promise<boolean> | boolean, ms = 20_000): Promise<void> => waitUntil(what, done, ms);
const SUB = '1900000109';

describe('the daily reconciliation on the in-process scheduler', () => {
  const bill = billClock(); // today 12:00 Beijing; the simulator and the requests follow it
  const AT = Date.parse(`${beijingDate(new Date(bill.noon))}T10:30:00+08:00`); // today 10:30 Beijing
  let sim: WechatPaySimulator;
  const books: LocalOrderRecord[] = [];

  beforeAll(async () => {
    sim = await WechatPaySimulator.start({ clock: bill.now, notificationMode: 'once' });
    // Yesterday's trades, made through the module at yesterday 14:00 by the clock: the bill of that day.
    const seed = await Test.createTestingModule({
      imports: [WechatPartnerPayModule.forRoot({ ...sim.moduleOptions({ clock: bill.now, notifyUrl: 'http://127.0.0.1:9/notify' }) })],
    }).compile();
    await seed.init();
    bill.setNow(bill.noon - DAY + 2 * 3600_000);
    const run = randomUUID().replace(/-/g, '').slice(0, 10);
    for (const total of [100, 250, 390]) {
      const no = `DY${run}${total}`;
      await seed.get(WechatPayOrdersService).nativePrepay({ sub_mchid: SUB, description: '日结', out_trade_no: no, amount: { total } });
      await sim.pay(no, { sub_mchid: SUB });
      books.push({ sub_mchid: SUB, out_trade_no: no, total, trade_state: 'SUCCESS' });
    }
    await seed.close();
    bill.setNow(bill.noon);
  });
  afterAll(async () => {
    await sim?.close();
  });

  async function boot(clock: () => number, reports: ReconciliationReport[], days: string[]): Promise<TestingModule> {
    const ref = await Test.createTestingModule({
      imports: [
        WechatPartnerPayModule.forRoot({ isGlobal: true, ...sim.moduleOptions({ clock: bill.now, notifyUrl: 'http://127.0.0.1:9/notify', retry: { attempts: 1 } }) }),
        WechatPayLifecycleModule.forRoot({
          scheduler: { type: 'in-process' },
          clock,
          retry: { initialMs: 50, maxMs: 200 },
          reconciliation: { at: '10:30', source: { ordersOfDay: (day) => (days.push(day), day === bill.yesterday ? books : []) } },
        }),
      ],
    }).compile();
    ref.get(WechatPayReconciliationService).onReport((r) => void reports.push(r));
    await ref.init();
    return ref;
  }

  it('fires at the configured Beijing time by the clock, reconciles yesterday once, and is rearmed for tomorrow', async () => {
    bill.setNow(AT - 1500); // the simulator's clock and the lifecycle's agree: 10:29:58.5 today
    const reports: ReconciliationReport[] = [];
    const days: string[] = [];
    const ref = await boot(bill.now, reports, days);
    try {
      const scheduler = ref.get<LifecycleScheduler>(LIFECYCLE_SCHEDULER);
      expect(await scheduler.nextDailyRun()).toBe(AT);
      expect(reports).toEqual([]);
      await until('the daily report', () => reports.length > 0);
      expect(reports[0]).toMatchObject({ bill_date: bill.yesterday, noStatement: false, billRows: 3, totalDifferences: 0 });
      expect(await scheduler.nextDailyRun()).toBe(AT + DAY);
      await sleep(2000); // had it been rearmed for today, it would have run again by now
      expect(reports).toHaveLength(1);
      expect(ref.get(WechatPayLifecycleMetrics).snapshot().reconciliations).toBe(1);
    } finally {
      await ref.close();
    }
  });

  it('a clock that stands still 1.5 s before the time still runs the day once, and next at the same time tomorrow', async () => {
    bill.setNow(bill.noon);
    const frozen = AT - 1500;
    const reports: ReconciliationReport[] = [];
    const ref = await boot(() => frozen, reports, []);
    try {
      await until('the daily report', () => reports.length > 0);
      expect(reports[0].bill_date).toBe(bill.yesterday);
      expect(await ref.get<LifecycleScheduler>(LIFECYCLE_SCHEDULER).nextDailyRun()).toBe(AT + DAY);
      await sleep(3500); // more than two of the 1.5 s waits a rearm from "now" would make
      expect(reports).toHaveLength(1);
    } finally {
      await ref.close();
    }
  });
});

describeWithRedis()('the daily reconciliation on BullMQ', () => {
  const prefix = `wechatpay-test:daily:${process.pid}:${randomUUID()}:`;
  let admin: Redis;
  let sim: WechatPaySimulator;
  const running: LifecycleInstance[] = [];
  const bill = billClock();

  beforeAll(async () => {
    admin = new Redis({ host: '127.0.0.1', port: 6379, maxRetriesPerRequest: 1 });
    // The simulator at today 12:00 Beijing, so that yesterday's bill (empty: NO_STATEMENT_EXIST) is ready whatever
    // the real time; the lifecycle's clock the same.
    sim = await WechatPaySimulator.start({ clock: bill.now });
  });
  afterAll(async () => {
    for (const i of running.splice(0)) await i.close();
    await deleteKeys(admin, prefix);
    admin.disconnect();
    await sim?.close();
  });

  it('one job scheduler over two instances; promoted, it runs one reconciliation and the next is the following day', async () => {
    // A Beijing time two hours from now (real time): the scheduled run is later today or early tomorrow.
    const beijing = new Date(Date.now() + 8 * 3600_000 + 2 * 3600_000);
    const [hour, minute] = [beijing.getUTCHours(), beijing.getUTCMinutes()];
    const at = `${String(hour).padStart(2, '0')}:${String(minute).padStart(2, '0')}`;
    const offset = bill.now() - Date.now();
    for (const name of ['a', 'b'])
      running.push(
        await startLifecycleInstance({
          name,
          prefix,
          moduleOptions: sim.moduleOptions({ clock: bill.now, notifyUrl: 'http://127.0.0.1:9/notify' }),
          scheduleMs: [1000],
          expiryGraceMs: 100,
          reconcileAt: at,
          clockOffsetMs: offset,
        }),
      );
    const queue = new Queue('wechatpay-lifecycle', { connection: { host: '127.0.0.1', port: 6379 }, prefix: `${prefix}bull` });
    try {
      const expected = nextBeijingTime(Date.now(), hour, minute);
      const schedulers = await queue.getJobSchedulers();
      expect(schedulers.map((s) => [s.key, s.pattern, s.tz])).toEqual([['wechatpay-daily-reconciliation', `${minute} ${hour} * * *`, 'Asia/Shanghai']]);
      expect(schedulers[0].next).toBe(expected);
      for (const i of running) expect(await i.app.get<LifecycleScheduler>(LIFECYCLE_SCHEDULER).nextDailyRun()).toBe(expected);
      const delayed = (await queue.getDelayed()).filter((j) => j.name === 'reconcile');
      expect(delayed).toHaveLength(1);
      expect(delayed[0].timestamp + delayed[0].delay).toBe(expected);

      await delayed[0].promote();
      const total = () => running.reduce((n, i) => n + i.app.get(WechatPayLifecycleMetrics).snapshot().reconciliations, 0);
      await until('one reconciliation', () => total() > 0);
      const nextRun = async () => (await queue.getJobSchedulers(0, -1, true)).find((j) => j.key === 'wechatpay-daily-reconciliation')?.next;
      await until('the next run to be scheduled', async () => ((await nextRun()) ?? 0) > expected);
      expect(await nextRun()).toBe(expected + DAY);
      const next = (await queue.getDelayed()).filter((j) => j.name === 'reconcile');
      expect(next.map((j) => j.timestamp + j.delay)).toEqual([expected + DAY]);
      await sleep(1500); // a second run would have been taken by one of the two workers by now
      expect(total()).toBe(1);
      const done = (await queue.getCompleted()).filter((j) => j.name === 'reconcile');
      expect(done).toHaveLength(1);
    } finally {
      await queue.close();
    }
  });
});
