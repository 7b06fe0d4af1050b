/** Result of `claim()`. */
export type DedupeClaim =
  /**
   * This caller owns the key until it calls `complete` or `release` with the token, or the lease runs out. `fence`
   * (when the store gives one) grows with every claim of the key: a handler can pass it to its own writes so that a
   * late write of an older claim is refused (a fencing token).
   */
  | { status: 'claimed'; token: string; fence?: number }
  /** The notification was already processed: reply success without calling the handler. */
  | { status: 'completed' }
  /** Another delivery is processing it right now: reply 5xx so WeChat Pay retries later. */
  | { status: 'in-progress' };

/**
 * Exactly-once bookkeeping for notifications. Keys are remembered longer than WeChat Pay's 24 h retry window.
 * Implementations must be atomic across processes when the app runs on several instances (use Redis).
 */
export interface NotificationDedupeStore {
  /** Atomically claims `key` for `lockMs`, unless it is completed or claimed by someone else. */
  claim(key: string, lockMs: number): Promise<DedupeClaim>;
  /** Marks `key` completed for `ttlMs`, only if `token` still owns it. Returns whether it did. */
  complete(key: string, token: string, ttlMs: number): Promise<boolean>;
  /** Releases the claim (handler failed), only if `token` still owns it, so that a retry reprocesses. */
  release(key: string, token: string): Promise<boolean>;
  /**
   * Extends the claim to `lockMs` from now, only if `token` still owns it; returns whether it did. Called while a
   * handler runs so that a handler slower than the lock keeps its claim. Stores without it cannot renew: a handler
   * slower than `notifications.dedupeLockMs` then loses its claim.
   */
  renew?(key: string, token: string, lockMs: number): Promise<boolean>;
}
