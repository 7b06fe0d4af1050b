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

/** Options of the BullMQ scheduler. */
export interface BullMqSchedulerOptions {
  connection: LifecycleRedisConnection;
  /** Key prefix of the queue (BullMQ `prefix`). Default `wechatpay`. */
  prefix?: string;
  /** Queue name. Default `wechatpay-lifecycle`. */
  queueName?: string;
  /** Steps one instance runs at once. Default 20. */
  concurrency?: number;
  /** How long a running step's lock holds without renewal (BullMQ `lockDuration`). Default 30 s. */
  lockDurationMs?: number;
  /** How often workers look for the jobs of dead workers (BullMQ `stalledInterval`). Default 30 s. */
  stalledIntervalMs?: number;
}

const WATCH = 'watch';
const RECONCILE = 'reconcile';
const RECONCILE_SCHEDULER_ID = 'wechatpay-daily-reconciliation';
// A job that keeps failing is retried for ever: the backoff cap bounds the rate, and losing a payment is worse.
const ATTEMPTS = Number.MAX_SAFE_INTEGER;
const MAX_STALLED = 1_000_000;

/** The lifecycle jobs on BullMQ: survive restarts, shared by every instance on the same Redis and prefix. */
export class BullMqLifecycleScheduler implements LifecycleScheduler {
  private readonly logger = new Logger('WechatPayLifecycle');
  private queue?: Queue;
  private worker?: Worker;
  private readonly name: string;
  private readonly prefix: string;

  constructor(
    private readonly options: BullMqSchedulerOptions,
    private readonly retry: LifecycleRetryPolicy,
  ) {
    this.name = options.queueName ?? 'wechatpay-lifecycle';
    this.prefix = options.prefix ?? 'wechatpay';
  }

  async start(processors: LifecycleProcessors): Promise<void> {
    const { Queue, Worker, DelayedError } = await import('bullmq');
    const connection = this.options.connection as unknown as ConnectionOptions;
    this.queue = new Queue(this.name, { connection, prefix: this.prefix });
    this.worker = new Worker(
      this.name,
      async (job: Job, token?: string) => {
        if (job.name === RECONCILE) return processors.reconcile();
        const outcome = await processors.watch(job.data as OrderWatchJobData);
        if (outcome.done) return;
        await job.updateData(outcome.data);
        await job.moveToDelayed(Date.now() + outcome.delayMs, token);
        throw new DelayedError();
      },
      {
        connection,
        prefix: this.prefix,
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
    this.worker.on('error', (err) => this.logger.error(`lifecycle worker: ${err.message.slice(0, 200)}`));
    await this.worker.waitUntilReady();
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
    await this.requireQueue().upsertJobScheduler(
      RECONCILE_SCHEDULER_ID,
      { pattern: `${minute} ${hour} * * *`, tz: 'Asia/Shanghai' },
      { name: RECONCILE, opts: { attempts: 50, backoff: { type: 'custom' }, removeOnComplete: 30, removeOnFail: 30 } },
    );
  }

  async pendingWatches(): Promise<number> {
    const q = this.requireQueue();
    const counts = await q.getJobCounts('waiting', 'delayed', 'active', 'prioritized', 'waiting-children');
    return Object.values(counts).reduce((a, b) => a + b, 0);
  }

  async stop(force = false): Promise<void> {
    await this.worker?.close(force);
    await this.queue?.close();
  }

  private requireQueue(): Queue {
    if (!this.queue) throw new Error('the lifecycle scheduler is not started yet (it starts at application bootstrap)');
    return this.queue;
  }
}
