/**
 * The exactly-once runner behind `handleOnce()`: claim → handler (with the lease renewed while it runs) → complete,
 * every store call under a deadline, so that a slow or dead store answers within WeChat Pay's 5 s instead of piling
 * up deliveries. Framework-free.
 *
 * What it guarantees: at most one handler run at a time per key (while the store works), and no run after a
 * completion was recorded. What it cannot: a handler whose completion could not be written (the store died after the
 * handler) may run again once its lease has expired; the handler's own business-state check closes that window.
 */
import type { DedupeClaim, NotificationDedupeStore } from '../../interfaces/notification-dedupe-store.interface';
import { WechatPayError } from '../errors/wechat-pay.errors';
import { WechatPayExactlyOnceError } from './notification.errors';

export { WechatPayExactlyOnceError, type ExactlyOnceFailure } from './notification.errors';

/** What the handler gets: a signal that fires when its claim is lost, and the claim's fencing token. */
export interface WechatPayNotificationLease {
  /** The dedupe key claimed. */
  readonly key: string;
  /** Aborted when the claim is lost (the lease could not be renewed in time, or another holder took the key). */
  readonly signal: AbortSignal;
  /** Grows with every claim of the key (when the store gives one): pass it to your own writes to refuse stale ones. */
  readonly fencingToken: number | undefined;
}

/** Settings of one run. */
export interface ExactlyOnceOptions {
  /** How long a claim holds without renewal. */
  lockMs: number;
  /** How long a completion is remembered. */
  ttlMs: number;
  /** Deadline of each store call. */
  storeTimeoutMs: number;
  /** Time from the start of the run within which the reply must go out (WeChat Pay waits 5 s): bounds the completion retries. */
  replyBudgetMs: number;
  /** Monotonic milliseconds; injectable for tests. Default `performance.now`. */
  now?: () => number;
  logger?: { warn(message: string): void; error(message: string): void };
  /** Names the notification in log lines (its id): never the resource. */
  label?: string;
}

/** Outcome of a run. */
export type ExactlyOnceResult<T> =
  /** The handler ran now; `recorded` says whether its completion was written (else a late retry may run it again). */
  | { status: 'processed'; result: T; recorded: boolean }
  | { status: 'duplicate' };

/** Rejects after `ms` unless `promise` settles first; the timer never keeps the process alive. */
export function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new WechatPayError(`${what} did not answer within ${ms} ms`)), ms);
    timer.unref?.();
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

function reasonText(e: unknown): string {
  return e instanceof Error ? e.message.slice(0, 200) : String(e).slice(0, 200);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms).unref?.());

/** Runs `handler` at most once per `key`: see the file comment for the exact guarantee. */
export async function runExactlyOnce<T>(
  store: NotificationDedupeStore,
  key: string,
  handler: (lease: WechatPayNotificationLease) => T | Promise<T>,
  options: ExactlyOnceOptions,
): Promise<ExactlyOnceResult<T>> {
  const now = options.now ?? (() => performance.now());
  const started = now();
  const label = options.label ? `notification ${options.label}` : `key ${key.slice(0, 80)}`;
  let claim: DedupeClaim;
  try {
    claim = await withDeadline(store.claim(key, options.lockMs), options.storeTimeoutMs, 'dedupe store claim()');
  } catch (e) {
    throw new WechatPayExactlyOnceError('STORE_FAILED', `claim: ${reasonText(e)}`, { cause: e });
  }
  if (claim.status === 'completed') return { status: 'duplicate' };
  if (claim.status === 'in-progress') throw new WechatPayExactlyOnceError('IN_PROGRESS', `${label} is being processed by another delivery`);
  const { token } = claim;

  const controller = new AbortController();
  const lease = new LeaseKeeper(store, key, token, options, now, controller, label);
  lease.start();
  let result: T;
  try {
    result = await handler({ key, signal: controller.signal, fencingToken: claim.fence });
  } catch (e) {
    lease.stop();
    // The retry must be able to process again: give the key back (best effort; else it frees itself with the lease).
    await withDeadline(store.release(key, token), options.storeTimeoutMs, 'dedupe store release()').catch((err: unknown) =>
      options.logger?.error(`Dedupe release failed for ${label}: ${reasonText(err)}`),
    );
    throw e;
  }
  lease.stop();

  // The handler's effect has happened: record it, retrying within the reply budget. If it cannot be written the
  // claim is NOT released: a retry inside the lease gets IN_PROGRESS (5xx), not a second run.
  for (let attempt = 1; ; attempt++) {
    try {
      const done = await withDeadline(store.complete(key, token, options.ttlMs), options.storeTimeoutMs, 'dedupe store complete()');
      if (!done) {
        options.logger?.warn(
          `${label} completed after its claim was lost (lease not renewed in time, lockMs = ${options.lockMs} ms): a ` +
            'concurrent delivery may have processed it too; the business-state check of the handler decides',
        );
      }
      return { status: 'processed', result, recorded: done };
    } catch (e) {
      const backoff = Math.min(50 * 2 ** (attempt - 1), 400);
      if (now() - started + backoff + options.storeTimeoutMs > options.replyBudgetMs) {
        options.logger?.error(
          `Dedupe complete failed for ${label} (${attempt} attempt${attempt === 1 ? '' : 's'}): ${reasonText(e)}. The claim stays ` +
            'until its lease expires; a later delivery may run the handler again, which its business-state check must absorb',
        );
        return { status: 'processed', result, recorded: false };
      }
      await sleep(backoff);
    }
  }
}

/** Renews a claim while its handler runs, and aborts the handler's signal once the claim is lost. */
class LeaseKeeper {
  private timer?: NodeJS.Timeout;
  private lastRenewed: number;
  private stopped = false;

  constructor(
    private readonly store: NotificationDedupeStore,
    private readonly key: string,
    private readonly token: string,
    private readonly options: ExactlyOnceOptions,
    private readonly now: () => number,
    private readonly controller: AbortController,
    private readonly label: string,
  ) {
    this.lastRenewed = now();
  }

  start(): void {
    if (!this.store.renew) return;
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private schedule(): void {
    const every = Math.max(50, Math.floor(this.options.lockMs / 3));
    this.timer = setTimeout(() => void this.renew(), every);
    this.timer.unref?.();
  }

  private async renew(): Promise<void> {
    if (this.stopped) return;
    const budget = Math.max(1, Math.min(this.options.storeTimeoutMs, this.options.lockMs - (this.now() - this.lastRenewed)));
    try {
      const ok = await withDeadline(this.store.renew!(this.key, this.token, this.options.lockMs), budget, 'dedupe store renew()');
      if (this.stopped) return;
      if (!ok) return this.lose('another delivery holds the key now');
      this.lastRenewed = this.now();
    } catch (e) {
      if (this.stopped) return;
      if (this.now() - this.lastRenewed >= this.options.lockMs) return this.lose(`the lease expired while the store failed: ${reasonText(e)}`);
    }
    this.schedule();
  }

  private lose(why: string): void {
    this.options.logger?.warn(`Claim of ${this.label} lost: ${why}`);
    this.controller.abort(new WechatPayExactlyOnceError('IN_PROGRESS', `claim lost: ${why}`));
  }
}
