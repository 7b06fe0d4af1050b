/**
 * The job engine behind the order watch and the daily reconciliation, as one small interface: BullMQ in
 * production (`BullMqLifecycleScheduler`), timers in this process for a single instance without Redis
 * (`InProcessLifecycleScheduler`). Neither the services nor their tests know which one runs them.
 */

/** One watched order, as stored in its job (JSON: it crosses Redis). */
export interface OrderWatchJobData {
  /** `order`: a single order; `combine`: a combine order (合单) as a whole. */
  type: 'order' | 'combine';
  /** The sub-merchant of a single order; absent for a combine order. */
  sub_mchid?: string;
  /** `out_trade_no` of a single order, `combine_out_trade_no` of a combine order. */
  out_trade_no: string;
  /** When the order stops being payable (ms since the epoch): the watch closes it from then on. */
  expireAt: number;
  /** When the watch started (ms since the epoch): the schedule counts from here. */
  watchedAt: number;
  /** Queries made so far by the schedule (0 before the first). */
  step: number;
}

/** What a watch step asks of the scheduler: run again later (with new data), or the watch is over. */
export type WatchStepOutcome = { done: true } | { done: false; delayMs: number; data: OrderWatchJobData };

/** The work a scheduler runs; a thrown error is retried with the scheduler's backoff, never dropped. */
export interface LifecycleProcessors {
  watch(data: OrderWatchJobData): Promise<WatchStepOutcome>;
  /** The daily reconciliation (of yesterday, Beijing time). */
  reconcile(): Promise<void>;
}

/** Retry policy of failed steps (network errors, 5xx, a handler that threw). */
export interface LifecycleRetryPolicy {
  /** First retry after this many ms; each next one waits twice as long. */
  initialMs: number;
  /** Longest wait between two retries. */
  maxMs: number;
}

/** A job engine for the lifecycle services. */
export interface LifecycleScheduler {
  /** Starts running jobs (in BullMQ: the worker of this instance). */
  start(processors: LifecycleProcessors): Promise<void>;
  /** Adds a watch under a unique id, first run after `delayMs`; an id already watched is left as it is. */
  addWatch(id: string, data: OrderWatchJobData, delayMs: number): Promise<void>;
  /** Ends a watch that is waiting for its next run (a running step finishes and finds the order handled). */
  cancelWatch(id: string): Promise<void>;
  /** Runs `reconcile` every day at this Beijing time (one run per day over all instances with BullMQ). */
  scheduleDaily(hour: number, minute: number): Promise<void>;
  /** When the daily reconciliation runs next (ms since the epoch), or undefined when none is scheduled. */
  nextDailyRun(): Promise<number | undefined>;
  /** Watches not finished yet (waiting, delayed or running), over all instances that share the scheduler. */
  pendingWatches(): Promise<number>;
  /** Stops taking jobs; `force` drops running steps at once (their jobs are retried by another instance). */
  stop(force?: boolean): Promise<void>;
}

/** The wait before retry number `attempt` (1-based) under `policy`. */
export function retryDelay(policy: LifecycleRetryPolicy, attempt: number): number {
  return Math.min(policy.maxMs, policy.initialMs * 2 ** Math.max(0, Math.min(attempt - 1, 30)));
}
