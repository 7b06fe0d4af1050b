import { Logger } from '@nestjs/common';
import { nextBeijingTime } from './lifecycle-time';
import {
  type LifecycleProcessors,
  type LifecycleRetryPolicy,
  type LifecycleScheduler,
  type OrderWatchJobData,
  retryDelay,
} from './lifecycle-scheduler';

interface Entry {
  data: OrderWatchJobData;
  /** When the next step is due (`now` clock): a watch added before `start()` keeps its delay. */
  dueAt: number;
  timer?: NodeJS.Timeout;
  failures: number;
  running: boolean;
}

/**
 * Timers in this process, for running without Redis (the sample's one command, a single small instance). Single
 * instance only: its watches live in memory, so a restart forgets them, and two instances would each run every
 * watch and reconcile twice. Production runs BullMQ.
 */
export class InProcessLifecycleScheduler implements LifecycleScheduler {
  private readonly logger = new Logger('WechatPayLifecycle');
  private readonly watches = new Map<string, Entry>();
  private readonly running = new Set<Promise<void>>();
  private processors?: LifecycleProcessors;
  private dailyTimer?: NodeJS.Timeout;
  private nextDaily?: number;
  private stopped = false;

  constructor(
    private readonly retry: LifecycleRetryPolicy,
    private readonly now: () => number = Date.now,
  ) {}

  async start(processors: LifecycleProcessors): Promise<void> {
    this.processors = processors;
    this.stopped = false;
    for (const [id, e] of this.watches) if (!e.timer && !e.running) this.arm(id, e, e.dueAt - this.now());
  }

  async addWatch(id: string, data: OrderWatchJobData, delayMs: number): Promise<void> {
    if (this.watches.has(id)) return;
    const entry: Entry = { data, dueAt: this.now() + Math.max(0, delayMs), failures: 0, running: false };
    this.watches.set(id, entry);
    if (this.processors) this.arm(id, entry, delayMs);
  }

  async cancelWatch(id: string): Promise<void> {
    const e = this.watches.get(id);
    if (!e || e.running) return;
    clearTimeout(e.timer);
    this.watches.delete(id);
  }

  /**
   * The daily run at the Beijing time by the module's `clock` (timers wait real time, so a clock that jumps after
   * the timer is armed is seen at the next run only). The next run counts from the later of now and the run just
   * made, so that a timer firing a little early cannot run the same day twice.
   */
  async scheduleDaily(hour: number, minute: number): Promise<void> {
    clearTimeout(this.dailyTimer);
    const arm = (after: number): void => {
      if (this.stopped) return;
      const at = nextBeijingTime(Math.max(this.now(), after), hour, minute);
      this.nextDaily = at;
      this.dailyTimer = setTimeout(() => {
        void this.track(this.runDaily(0)).finally(() => arm(at));
      }, Math.max(0, at - this.now()));
      this.dailyTimer.unref();
    };
    arm(-Infinity);
  }

  async nextDailyRun(): Promise<number | undefined> {
    return this.nextDaily;
  }

  async pendingWatches(): Promise<number> {
    return this.watches.size;
  }

  async stop(force = false): Promise<void> {
    this.stopped = true;
    clearTimeout(this.dailyTimer);
    this.nextDaily = undefined;
    for (const e of this.watches.values()) clearTimeout(e.timer);
    if (!force) await Promise.allSettled([...this.running]);
  }

  private arm(id: string, entry: Entry, delayMs: number): void {
    if (this.stopped) return;
    entry.dueAt = this.now() + Math.max(0, delayMs);
    entry.timer = setTimeout(() => {
      entry.timer = undefined;
      void this.track(this.step(id, entry));
    }, Math.max(0, delayMs));
    entry.timer.unref();
  }

  private async step(id: string, entry: Entry): Promise<void> {
    if (!this.processors || this.stopped) return;
    entry.running = true;
    try {
      const outcome = await this.processors.watch(entry.data);
      entry.failures = 0;
      if (outcome.done) this.watches.delete(id);
      else {
        entry.data = outcome.data;
        this.arm(id, entry, outcome.delayMs);
      }
    } catch (e) {
      entry.failures++;
      this.logger.warn(`order watch ${id} failed (${e instanceof Error ? e.name : typeof e}), retry ${entry.failures}`);
      this.arm(id, entry, retryDelay(this.retry, entry.failures));
    } finally {
      entry.running = false;
    }
  }

  private async runDaily(failures: number): Promise<void> {
    if (!this.processors || this.stopped) return;
    try {
      await this.processors.reconcile();
    } catch (e) {
      this.logger.warn(`daily reconciliation failed (${e instanceof Error ? e.message.slice(0, 200) : typeof e}), retrying`);
      await new Promise((r) => setTimeout(r, retryDelay(this.retry, failures + 1)).unref());
      return this.runDaily(failures + 1);
    }
  }

  private track(p: Promise<void>): Promise<void> {
    this.running.add(p);
    return p.finally(() => this.running.delete(p));
  }
}
