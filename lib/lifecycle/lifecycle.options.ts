import { closestKey } from '../core/config/option-keys';
import { WechatPayLifecycleConfigError } from './lifecycle.errors';
import { type BullMqSchedulerOptions, type BullMqWorkerOptions, bullMqSchedulerProblems } from './bullmq.scheduler';
import { parseTimeOfDay } from './lifecycle-time';
import type { WechatPayLocalOrderSource } from './reconciliation/local-order-source';

const MINUTE = 60_000;

/** Where the lifecycle jobs run. */
export type LifecycleSchedulerOptions =
  /** BullMQ on your Redis: jobs survive restarts, every instance works, a dead instance's jobs are taken over. */
  | ({ type: 'bullmq' } & BullMqSchedulerOptions)
  /** Timers in this process: single instance only, watches are lost on restart (development, the sample). */
  | { type: 'in-process' };

/** Options of `WechatPayLifecycleModule`. */
export interface WechatPayLifecycleModuleOptions {
  scheduler: LifecycleSchedulerOptions;
  /** Milliseconds since the epoch, to compare with `time_expire` (use the module's clock). Default `Date.now`. */
  clock?: () => number;
  watch?: {
    /**
     * Watch every order created through `WechatPayOrdersService` (JSAPI / App / H5 / Native prepay, with or without
     * pay params) and every combine order created through `WechatPayCombineOrdersService`, as if `watchOrder()` /
     * `watchCombineOrder()` were called right after the prepay (with its `time_expire`). If the watch cannot be
     * stored (the scheduler's Redis is down), the prepay call rejects with `WechatPayOrderNotWatchedError`: the order
     * exists at WeChat Pay, but nobody would notice a lost notification, so the buyer is not sent to pay it.
     * Default false (watch per call).
     */
    auto?: boolean;
    /**
     * When the watch queries an order, in ms after the watch started. Default +1, +3, +10, +30 min; after the last
     * one (or as soon as the next would fall after it) the order is queried at its `time_expire` and closed if unpaid.
     */
    scheduleMs?: number[];
    /** Extra wait after `time_expire` before the closing query, for clock skew. Default 5 s. */
    expiryGraceMs?: number;
    /** `time_expire` assumed when a watch is given none (WeChat Pay's default payment window is 2 h). Default 2 h. */
    defaultExpiryMs?: number;
    /** Close unpaid orders at expiry (§3.2.8). Default true. */
    closeAtExpiry?: boolean;
    /**
     * Longest wait for the scheduler to store a new watch (BullMQ: Redis; ioredis queues commands while it
     * reconnects, for ever). After it `watchOrder()` rejects (with `watch.auto`: the prepay call). Default 5 s.
     */
    storeTimeoutMs?: number;
  };
  /** Retries of failed steps: first after `initialMs` (default 1 s), doubling up to `maxMs` (default 5 min). */
  retry?: { initialMs?: number; maxMs?: number };
  reconciliation?: {
    /** Your orders of one Beijing day; without it there is no daily job (`reconcile()` still needs one). */
    source?: WechatPayLocalOrderSource;
    /** Beijing time `HH:mm` of the daily run. Default `10:30` (bills of the day before are ready from 10:00). */
    at?: string;
    /** Run the daily job. Default true when a source is given. */
    daily?: boolean;
    /** Differences kept in a report's `differences` list (all are counted and passed to `onDifference`). Default 1000. */
    maxDifferences?: number;
  };
}

/** The options checked, with their defaults. */
export interface ResolvedLifecycleOptions {
  scheduler: LifecycleSchedulerOptions;
  clock: () => number;
  autoWatch: boolean;
  scheduleMs: number[];
  expiryGraceMs: number;
  defaultExpiryMs: number;
  closeAtExpiry: boolean;
  storeTimeoutMs: number;
  retry: { initialMs: number; maxMs: number };
  source?: WechatPayLocalOrderSource;
  daily?: { hour: number; minute: number };
  maxDifferences: number;
}

type Keys<T> = Record<keyof T, true>;
const KNOWN = {
  '': { scheduler: true, clock: true, watch: true, retry: true, reconciliation: true } satisfies Keys<WechatPayLifecycleModuleOptions>,
  watch: { auto: true, scheduleMs: true, expiryGraceMs: true, defaultExpiryMs: true, closeAtExpiry: true, storeTimeoutMs: true } satisfies Keys<
    NonNullable<WechatPayLifecycleModuleOptions['watch']>
  >,
  retry: { initialMs: true, maxMs: true } satisfies Keys<NonNullable<WechatPayLifecycleModuleOptions['retry']>>,
  reconciliation: { source: true, at: true, daily: true, maxDifferences: true } satisfies Keys<NonNullable<WechatPayLifecycleModuleOptions['reconciliation']>>,
  scheduler: {
    type: true,
    connection: true,
    prefix: true,
    queueName: true,
    queue: true,
    concurrency: true,
    lockDurationMs: true,
    stalledIntervalMs: true,
    bootTimeoutMs: true,
  } satisfies Keys<{ type: string } & BullMqWorkerOptions & { connection: unknown; prefix: unknown; queueName: unknown; queue: unknown }>,
} as const;

/** A misspelt option would be ignored in silence: name it, with the closest known key. */
function unknownKeys(o: WechatPayLifecycleModuleOptions, problems: string[]): void {
  for (const [section, known] of Object.entries(KNOWN)) {
    const value: unknown = section === '' ? o : (o as unknown as Record<string, unknown>)[section];
    if (typeof value !== 'object' || value === null) continue;
    const names = Object.keys(known);
    for (const key of Object.keys(value)) {
      if (names.includes(key)) continue;
      const hint = closestKey(key, names);
      const path = section ? `${section}.${key}` : key;
      problems.push(`unknown lifecycle option ${path}${hint ? ` (did you mean ${section ? `${section}.` : ''}${hint}?)` : ''}`);
    }
  }
}

const nonNegative = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;

/** Checks the options once, at boot, and lists every problem in one `WechatPayLifecycleConfigError`. */
export function resolveLifecycleOptions(o: WechatPayLifecycleModuleOptions): ResolvedLifecycleOptions {
  const problems: string[] = [];
  if (o) unknownKeys(o, problems);
  const s = o?.scheduler;
  if (!s || (s.type !== 'bullmq' && s.type !== 'in-process'))
    problems.push("lifecycle scheduler must be { type: 'bullmq', connection, prefix? }, { type: 'bullmq', queue } or { type: 'in-process' }");
  else if (s.type === 'bullmq') problems.push(...bullMqSchedulerProblems(s));
  const w = o?.watch ?? {};
  const scheduleMs = w.scheduleMs ?? [1 * MINUTE, 3 * MINUTE, 10 * MINUTE, 30 * MINUTE];
  if (!Array.isArray(scheduleMs) || !scheduleMs.every(nonNegative) || scheduleMs.some((v, i) => i > 0 && v < scheduleMs[i - 1]))
    problems.push('lifecycle watch.scheduleMs must be increasing numbers of ms after the watch starts, e.g. [60000, 180000]');
  if (w.auto !== undefined && typeof w.auto !== 'boolean') problems.push('lifecycle watch.auto must be true or false');
  for (const k of ['expiryGraceMs', 'defaultExpiryMs', 'storeTimeoutMs'] as const)
    if (w[k] !== undefined && !nonNegative(w[k])) problems.push(`lifecycle watch.${k} must be a number of ms >= 0`);
  const retry = { initialMs: o?.retry?.initialMs ?? 1000, maxMs: o?.retry?.maxMs ?? 5 * MINUTE };
  if (!(retry.initialMs > 0) || !(retry.maxMs >= retry.initialMs))
    problems.push('lifecycle retry needs initialMs > 0 and maxMs >= initialMs');
  const r = o?.reconciliation ?? {};
  const at = parseTimeOfDay(r.at ?? '10:30');
  if (!at) problems.push(`lifecycle reconciliation.at must be a Beijing time HH:mm, e.g. '10:30' (got ${String(r.at)})`);
  if (r.source !== undefined && typeof r.source?.ordersOfDay !== 'function')
    problems.push('lifecycle reconciliation.source must have ordersOfDay(day) returning your orders of that Beijing day');
  if (r.maxDifferences !== undefined && !nonNegative(r.maxDifferences))
    problems.push('lifecycle reconciliation.maxDifferences must be a number >= 0');
  if (o?.clock !== undefined && typeof o.clock !== 'function') problems.push('lifecycle clock must be a function returning ms');
  if (problems.length) throw new WechatPayLifecycleConfigError(problems);
  return {
    scheduler: s,
    clock: o.clock ?? Date.now,
    autoWatch: w.auto ?? false,
    scheduleMs,
    expiryGraceMs: w.expiryGraceMs ?? 5000,
    defaultExpiryMs: w.defaultExpiryMs ?? 2 * 3600_000,
    closeAtExpiry: w.closeAtExpiry ?? true,
    storeTimeoutMs: w.storeTimeoutMs ?? 5000,
    retry,
    source: r.source,
    daily: r.source && (r.daily ?? true) ? at : undefined,
    maxDifferences: r.maxDifferences ?? 1000,
  };
}
