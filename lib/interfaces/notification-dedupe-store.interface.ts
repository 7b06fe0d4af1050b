/** Result of `claim()`. */
export type DedupeClaim =
  /** This caller owns the key until it calls `complete` or `release` with the token. */
  | { status: 'claimed'; token: string }
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
}
