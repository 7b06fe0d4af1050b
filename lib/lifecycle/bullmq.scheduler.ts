/**
 * The BullMQ job engine: one queue on the user's Redis, a worker in every instance. A step that throws is retried
 * with the job's backoff (a custom exponential one, capped); a watch waits for its next query as a delayed job of
 * its own id (`moveToDelayed` + `DelayedError`), so one watch is one job whatever its length. A killed instance's
 * running jobs lose their lock and are taken by another worker's stalled check; `maxStalledCount` is high so that
 * such a job is never failed for having stalled.
 *
 * `bullmq` is an optional peer: it is loaded when the scheduler starts, and its types stay out of the
 * declarations (a consumer without it must still compile), hence the minimal shapes below.
 */
import { Logger } from '@nestjs/common';
import type { ConnectionOptions, Job, Queue, Worker } from 'bullmq';
import { withDeadline } from '../core/notify/exactly-once';
import { WechatPayLifecycleError } from './lifecycle.errors';
import {
  type LifecycleProcessors,
  type LifecycleRetryPolicy,
  type LifecycleScheduler,
  type OrderWatchJobData,
  retryDelay,
} from './lifecycle-scheduler';

/**
 * A Redis connection BullMQ accepts: ioredis options (`{ host, port, password, db, tls }`) or an ioredis client
 * created with `maxRetriesPerRequest: null`. Typed loosely so that the declarations need neither ioredis nor bullmq.
 */
export type LifecycleRedisConnection = { [option: string]: unknown };

/**
 * The part of a BullMQ `Queue` the scheduler uses, as a structural type (so that the declarations need no bullmq):
 * pass a real `Queue`, e.g. the one `@nestjs/bullmq` registers (`getQueueToken(name)`). Its worker is created
 * with the queue's `name`, `opts.connection` and `opts.prefix`.
 */
export interface LifecycleBullQueue {
  readonly name: string;
  readonly opts: { readonly connection?: unknown; readonly prefix?: string };
  add(...args: never[]): Promise<unknown>;
  remove(...args: never[]): Promise<unknown>;
  upsertJobScheduler(...args: never[]): Promise<unknown>;
  getJobCounts(...args: never[]): Promise<unknown>;
  waitUntilReady(): Promise<unknown>;
}

/** Options of the BullMQ scheduler that do not depend on who owns the queue. */
export interface BullMqWorkerOptions {
  /** Steps one instance runs at once. Default 20. */
  concurrency?: number;
  /** How long a running step's lock holds without renewal (BullMQ `lockDuration`). Default 30 s. */
  lockDurationMs?: number;
  /** How often workers look for the jobs of dead workers (BullMQ `stalledInterval`). Default 30 s. */
  stalledIntervalMs?: number;
  /**
   * Longest wait for Redis at application bootstrap; then the boot fails with a `WechatPayLifecycleError` (ioredis
   * would otherwise retry for ever and the app would hang, silent, before it listens). Default 15 s.
   */
  bootTimeoutMs?: number;
}

/**
 * Options of the BullMQ scheduler: either a `connection` (the scheduler creates its queue, and closes it), or a
 * `queue` you own (e.g. registered with `@nestjs/bullmq`; the scheduler uses it and never closes it).
 */
export type BullMqSchedulerOptions = BullMqWorkerOptions &
  (
    | {
        connection: LifecycleRedisConnection;
        /** Key prefix of the queue (BullMQ `prefix`). Default `wechatpay`. */
        prefix?: string;
        /** Queue name. Default `wechatpay-lifecycle`. */
        queueName?: string;
        queue?: never;
      }
    | {
        /** A BullMQ `Queue` dedicated to the lifecycle jobs; its name, connection and prefix are used. */
        queue: LifecycleBullQueue;
        connection?: never;
        prefix?: never;
        queueName?: never;
      }
  );

/** What is wrong with BullMQ scheduler options (empty when they are fine); checked at boot. */
export function bullMqSchedulerProblems(options: BullMqSchedulerOptions): string[] {
  const s = options as unknown as { [k: string]: unknown };
  const timing = (['concurrency', 'lockDurationMs', 'stalledIntervalMs', 'bootTimeoutMs'] as const).filter(
    (k) => s[k] !== undefined && !(typeof s[k] === 'number' && Number.isFinite(s[k]) && (s[k] as number) > 0),
  );
  if (timing.length) return timing.map((k) => `lifecycle scheduler.${k} must be a number > 0`);
  const hasConnection = s.connection !== undefined;
  const hasQueue = s.queue !== undefined;
  if (hasConnection && hasQueue)
    return [
      "lifecycle scheduler takes either connection (it creates its own queue) or queue (a BullMQ Queue you own, e.g. from @nestjs/bullmq), not both: remove one of them",
    ];
  if (!hasConnection && !hasQueue)
    return [
      "lifecycle scheduler { type: 'bullmq' } needs connection (ioredis options { host, port } or an ioredis client) or queue (a BullMQ Queue, e.g. inject getQueueToken(name) of @nestjs/bullmq)",
    ];
  if (hasConnection) {
    if (typeof s.connection !== 'object' || s.connection === null)
      return ['lifecycle scheduler.connection must be ioredis options ({ host, port }) or an ioredis client'];
    return [];
  }
  const q = s.queue as Partial<LifecycleBullQueue> | null;
  const problems: string[] = [];
  if (typeof q !== 'object' || q === null || typeof q.name !== 'string' || typeof q.add !== 'function' || typeof q.upsertJobScheduler !== 'function')
    problems.push('lifecycle scheduler.queue must be a BullMQ Queue (v5.30+), e.g. the one @nestjs/bullmq registers: inject getQueueToken(name)');
  else if (typeof q.opts?.connection !== 'object' || q.opts.connection === null)
    problems.push(`lifecycle scheduler.queue ${q.name} has no opts.connection: give the queue a connection (BullModule.forRoot({ connection }))`);
  for (const k of ['prefix', 'queueName'] as const)
    if (s[k] !== undefined) problems.push(`lifecycle scheduler.${k} cannot be set with queue: the queue's own ${k === 'prefix' ? 'opts.prefix' : 'name'} is used`);
  return problems;
}

const WATCH = 'watch';
const RECONCILE = 'reconcile';
const RECONCILE_SCHEDULER_ID = 'wechatpay-daily-reconciliation';
// A job that keeps failing is retried for ever: the backoff cap bounds the rate, and losing a payment is worse.
const ATTEMPTS = Number.MAX_SAFE_INTEGER;
const MAX_STALLED = 1_000_000;
const CONNECTION_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH']);
const MARKER = 'marker';
/** Id of the marker job that tells the scheduler its Redis kept its data (delayed for years, never run). */
export const MARKER_ID = 'wechatpay-lifecycle-marker';
// Years ahead, yet small enough for BullMQ's delayed score (timestamp * 4096) to stay an exact double.
const MARKER_DELAY_MS = 5 * 365 * 86_400_000;

/** The lifecycle jobs on BullMQ: survive restarts, shared by every instance on the same Redis and prefix. */
export class BullMqLifecycleScheduler implements LifecycleScheduler {
  private readonly logger = new Logger('WechatPayLifecycle');
  private queue?: Queue;
  private worker?: Worker;
  /** False for a queue given in the options: its owner closes it, not this scheduler. */
  private readonly ownsQueue: boolean;
  private daily?: { hour: number; minute: number };
  private health?: NodeJS.Timeout;
  private checking = false;
  private unreachable = false;

  constructor(
    private readonly options: BullMqSchedulerOptions,
    private readonly retry: LifecycleRetryPolicy,
  ) {
    this.ownsQueue = options.queue === undefined;
  }

  async start(processors: LifecycleProcessors): Promise<void> {
    const { Queue, Worker, DelayedError, UnrecoverableError } = await import('bullmq');
    const own = this.options.queue as unknown as Queue | undefined;
    const name = own ? own.name : (this.options.queueName ?? 'wechatpay-lifecycle');
    const connection = (own ? own.opts.connection : this.options.connection) as ConnectionOptions;
    const prefix = own ? own.opts.prefix : (this.options.prefix ?? 'wechatpay');
    this.queue = own ?? new Queue(name, { connection, prefix });
    this.worker = new Worker(
      name,
      async (job: Job, token?: string) => {
        if (job.name === RECONCILE) return processors.reconcile();
        if (job.name === MARKER) {
          // Promoted by hand: back to sleep, so that it keeps telling that the data is there.
          await job.moveToDelayed(Date.now() + MARKER_DELAY_MS, token);
          throw new DelayedError();
        }
        if (job.name !== WATCH)
          throw new UnrecoverableError(`job ${job.name} is not a lifecycle job: queue ${name} belongs to WechatPayLifecycleModule, put your jobs on another queue`);
        const outcome = await processors.watch(job.data as OrderWatchJobData);
        if (outcome.done) return;
        await job.updateData(outcome.data);
        await job.moveToDelayed(Date.now() + outcome.delayMs, token);
        throw new DelayedError();
      },
      {
        connection,
        prefix,
        concurrency: this.options.concurrency ?? 20,
        lockDuration: this.options.lockDurationMs ?? 30_000,
        stalledInterval: this.options.stalledIntervalMs ?? 30_000,
        maxStalledCount: MAX_STALLED,
        settings: { backoffStrategy: (attemptsMade: number) => retryDelay(this.retry, attemptsMade) },
      },
    );
    this.worker.on('failed', (job, err) => {
      this.logger.warn(`lifecycle job ${job?.id ?? '?'} failed (${err.name}), retry ${job?.attemptsMade ?? '?'}`);
    });
    // Connection errors come once per reconnect attempt while Redis is down: said once per outage (checkRedis says
    // when it answers again); other errors each time.
    this.worker.on('error', (err) => this.onError('worker', err));
    if (this.ownsQueue) this.queue.on('error', (err) => this.onError('queue', err));
    const bootTimeoutMs = this.options.bootTimeoutMs ?? 15_000;
    try {
      await withDeadline(
        (async () => {
          await this.worker?.waitUntilReady();
          await this.addMarker();
        })(),
        bootTimeoutMs,
        'Redis',
      );
    } catch (e) {
      void this.worker.close(true).catch(() => undefined);
      if (this.ownsQueue) void this.queue.close().catch(() => undefined);
      throw new WechatPayLifecycleError(
        `the lifecycle scheduler could not reach its Redis within ${bootTimeoutMs} ms at boot (BullMQ queue ${name}, ` +
          `prefix ${prefix ?? 'bull'}): start Redis, or fix scheduler.connection / the queue's connection. Without ` +
          `it no order watch could be stored. (${e instanceof Error ? e.message.slice(0, 200) : typeof e})`,
      );
    }
    this.health = setInterval(() => void this.checkRedis(), this.options.stalledIntervalMs ?? 30_000);
    this.health.unref();
  }

  async addWatch(id: string, data: OrderWatchJobData, delayMs: number): Promise<void> {
    await this.requireQueue().add(WATCH, data, {
      jobId: id,
      delay: Math.max(0, delayMs),
      attempts: ATTEMPTS,
      backoff: { type: 'custom' },
      removeOnComplete: true,
      removeOnFail: false,
    });
  }

  async cancelWatch(id: string): Promise<void> {
    try {
      await this.requireQueue().remove(id);
    } catch {
      // Locked by a running step: that step finds the order handled and ends the watch itself.
    }
  }

  async scheduleDaily(hour: number, minute: number): Promise<void> {
    this.daily = { hour, minute };
    await this.requireQueue().upsertJobScheduler(
      RECONCILE_SCHEDULER_ID,
      { pattern: `${minute} ${hour} * * *`, tz: 'Asia/Shanghai' },
      { name: RECONCILE, opts: { attempts: 50, backoff: { type: 'custom' }, removeOnComplete: 30, removeOnFail: 30 } },
    );
  }

  async nextDailyRun(): Promise<number | undefined> {
    // The list, not getJobScheduler(id): in some bullmq 5.x releases (5.30 seen) the single lookup has no `next`.
    const schedulers = await this.requireQueue().getJobSchedulers(0, -1, true);
    return schedulers.find((s) => s.key === RECONCILE_SCHEDULER_ID)?.next ?? undefined;
  }

  async pendingWatches(): Promise<number> {
    const q = this.requireQueue();
    const [counts, marker] = await Promise.all([q.getJobCounts('waiting', 'delayed', 'active', 'prioritized', 'waiting-children'), q.getJobState(MARKER_ID)]);
    return Object.values(counts).reduce((a, b) => a + b, 0) - (marker === 'delayed' ? 1 : 0);
  }

  async stop(force = false): Promise<void> {
    clearInterval(this.health);
    await this.worker?.close(force);
    if (this.ownsQueue) await this.queue?.close();
  }

  /**
   * Every `stalledIntervalMs`: says once when the queue's Redis stops answering and when it answers again, and
   * finds a Redis that came back empty (restarted without persistence, flushed): the marker job (delayed by years,
   * never run) is gone with the watches then. The watches cannot be rebuilt (this library does not know your open
   * orders), so it warns, and adds the marker and the daily job scheduler again.
   */
  private async checkRedis(): Promise<void> {
    const queue = this.queue;
    if (this.checking || !queue) return;
    this.checking = true;
    try {
      const state = await queue.getJobState(MARKER_ID);
      if (this.unreachable) this.logger.log(`the lifecycle queue's Redis answers again (queue ${queue.name})`);
      this.unreachable = false;
      if (state !== 'unknown') return;
      this.logger.warn(
        `the lifecycle queue's Redis came back without its data (queue ${queue.name}: restarted without persistence, or flushed): ` +
          'the order watches stored there are lost and will not run; watch your open orders again (watchOrder is idempotent); ' +
          "the daily reconciliation is registered again. Run the queue's Redis with AOF (appendonly yes) or another persistence.",
      );
      await this.addMarker();
      if (this.daily) await this.scheduleDaily(this.daily.hour, this.daily.minute);
    } catch (e) {
      if (!this.unreachable)
        this.logger.warn(`the lifecycle queue's Redis does not answer (queue ${queue.name}: ${e instanceof Error ? e.message.slice(0, 200) : typeof e}); the jobs wait until it is back`);
      this.unreachable = true;
    } finally {
      this.checking = false;
    }
  }

  private onError(source: 'worker' | 'queue', err: Error): void {
    const code = (err as Error & { code?: unknown }).code;
    const connection = typeof code === 'string' ? CONNECTION_ERRORS.has(code) : /Connection is closed|connect ETIMEDOUT/.test(err.message);
    if (!connection) return void this.logger.error(`lifecycle ${source}: ${err.message.slice(0, 200)}`);
    if (this.unreachable) return;
    this.unreachable = true;
    this.logger.warn(`the lifecycle queue's Redis does not answer (${err.message.slice(0, 200)}); the jobs wait until it is back`);
  }

  /** The marker job: its absence tells a Redis that lost its data (adding it again when present is a no-op). */
  private async addMarker(): Promise<void> {
    await this.requireQueue().add(MARKER, { purpose: 'tells the lifecycle scheduler that this Redis kept its data; never runs' }, { jobId: MARKER_ID, delay: MARKER_DELAY_MS, removeOnComplete: true });
  }

  private requireQueue(): Queue {
    if (!this.queue) throw new Error('the lifecycle scheduler is not started yet (it starts at application bootstrap)');
    return this.queue;
  }
}
