import { InProcessLifecycleScheduler } from './in-process.scheduler';
import type { OrderWatchJobData } from './lifecycle-scheduler';

const data = (no: string): OrderWatchJobData => ({ type: 'order', sub_mchid: '1900000109', out_trade_no: no, expireAt: 0, watchedAt: 0, step: 1 });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('InProcessLifecycleScheduler', () => {
  it('a watch added before start() keeps its delay; one that is due runs at start', async () => {
    let now = 1_000_000;
    const scheduler = new InProcessLifecycleScheduler({ initialMs: 10, maxMs: 10 }, () => now);
    const ran: string[] = [];
    await scheduler.addWatch('later', data('later'), 60_000);
    await scheduler.addWatch('due', data('due'), 5);
    now += 10; // 'due' is due by the clock; 'later' has 59,990 ms to go
    await scheduler.start({ watch: async (d) => (ran.push(d.out_trade_no), { done: true }), reconcile: async () => undefined });
    await sleep(100);
    expect(ran).toEqual(['due']);
    expect(await scheduler.pendingWatches()).toBe(1);
    await scheduler.stop(true);
  });
});
