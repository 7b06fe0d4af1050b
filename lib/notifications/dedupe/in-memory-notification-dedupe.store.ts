import { randomUUID } from 'node:crypto';
import type {
  DedupeClaim,
  NotificationDedupeStore,
} from '../../interfaces/notification-dedupe-store.interface';

interface Entry {
  /** The owner's token while claimed; undefined once completed. */
  token?: string;
  expiresAt: number;
}

const SWEEP_INTERVAL_MS = 60_000;
const COMPLETED: DedupeClaim = Object.freeze({ status: 'completed' });
const IN_PROGRESS: DedupeClaim = Object.freeze({ status: 'in-progress' });

/**
 * The default dedupe store: a Map in this process. Exactly-once holds only while the app runs as one process and
 * is not restarted; use `RedisNotificationDedupeStore` for several instances.
 */
export class InMemoryNotificationDedupeStore implements NotificationDedupeStore {
  private readonly entries = new Map<string, Entry>();
  private lastSweep: number;
  private fence = 0;

  /** `clock` returns milliseconds since the epoch (injectable for tests). */
  constructor(private readonly clock: () => number = Date.now) {
    this.lastSweep = clock();
  }

  /** Number of remembered keys (claimed or completed, unexpired or not yet swept). */
  get size(): number {
    return this.entries.size;
  }

  async claim(key: string, lockMs: number): Promise<DedupeClaim> {
    const now = this.clock();
    this.sweep(now);
    const entry = this.entries.get(key);
    if (entry && entry.expiresAt > now) return entry.token === undefined ? COMPLETED : IN_PROGRESS;
    const token = randomUUID();
    this.entries.set(key, { token, expiresAt: now + lockMs });
    return { status: 'claimed', token, fence: ++this.fence };
  }

  async renew(key: string, token: string, lockMs: number): Promise<boolean> {
    if (!this.owns(key, token)) return false;
    this.entries.set(key, { token, expiresAt: this.clock() + lockMs });
    return true;
  }

  async complete(key: string, token: string, ttlMs: number): Promise<boolean> {
    if (!this.owns(key, token)) return false;
    this.entries.set(key, { expiresAt: this.clock() + ttlMs });
    return true;
  }

  async release(key: string, token: string): Promise<boolean> {
    if (!this.owns(key, token)) return false;
    this.entries.delete(key);
    return true;
  }

  private owns(key: string, token: string): boolean {
    const entry = this.entries.get(key);
    return entry !== undefined && entry.token === token && entry.expiresAt > this.clock();
  }

  /** Drops expired entries at most once a minute, so that memory stays bounded by a day of notifications. */
  private sweep(now: number): void {
    if (now - this.lastSweep < SWEEP_INTERVAL_MS) return;
    this.lastSweep = now;
    for (const [key, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(key);
  }
}
