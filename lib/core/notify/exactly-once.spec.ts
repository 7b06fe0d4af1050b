import Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import type { DedupeClaim, NotificationDedupeStore } from '../../interfaces/notification-dedupe-store.interface';
import { InMemoryNotificationDedupeStore } from '../../notifications/dedupe/in-memory-notification-dedupe.store';
import { RedisNotificationDedupeStore } from '../../notifications/dedupe/redis-notification-dedupe.store';
import { runExactlyOnce, WechatPayExactlyOnceError, type ExactlyOnceOptions, type WechatPayNotificationLease } from './exactly-once';

interface Made {
  store: NotificationDedupeStore;
  close: () => Promise<void>;
}

const base: ExactlyOnceOptions = { lockMs: 300, ttlMs: 60_000, storeTimeoutMs: 200, replyBudgetMs: 4000 };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A store whose calls can be made to hang or fail, in front of a real one. */
class FaultyStore implements NotificationDedupeStore {
  hang = new Set<string>();
  fail = new Set<string>();
  calls: string[] = [];
  constructor(private readonly inner: NotificationDedupeStore & { renew?: NotificationDedupeStore['renew'] }) {}
  private gate<T>(name: string, run: () => Promise<T>): Promise<T> {
    this.calls.push(name);
    if (this.hang.has(name)) return new Promise<T>(() => undefined);
    if (this.fail.has(name)) return Promise.reject(new Error(`${name} refused`));
    return run();
  }
  claim(key: string, lockMs: number): Promise<DedupeClaim> {
    return this.gate('claim', () => this.inner.claim(key, lockMs));
  }
  complete(key: string, token: string, ttlMs: number): Promise<boolean> {
    return this.gate('complete', () => this.inner.complete(key, token, ttlMs));
  }
  release(key: string, token: string): Promise<boolean> {
    return this.gate('release', () => this.inner.release(key, token));
  }
  renew(key: string, token: string, lockMs: number): Promise<boolean> {
    return this.gate('renew', () => this.inner.renew!(key, token, lockMs));
  }
}

describe.each([
  ['memory', (): Made => ({ store: new InMemoryNotificationDedupeStore(), close: async () => undefined })],
  [
    'redis',
    (): Made => {
      const redis = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: false, maxRetriesPerRequest: 1 });
      return { store: new RedisNotificationDedupeStore(redis, { keyPrefix: `wechatpay-test:${randomUUID()}:` }), close: async () => void (await redis.quit()) };
    },
  ],
] as const)('runExactlyOnce on the %s store', (_name, make) => {
  let store: NotificationDedupeStore;
  let close: () => Promise<void>;
  beforeEach(() => {
    ({ store, close } = make());
  });
  afterEach(() => close());

  it('runs once, then reports duplicates', async () => {
    let runs = 0;
    const first = await runExactlyOnce(store, 'k1', () => ++runs, base);
    const second = await runExactlyOnce(store, 'k1', () => ++runs, base);
    expect(first).toEqual({ status: 'processed', result: 1, recorded: true });
    expect(second).toEqual({ status: 'duplicate' });
    expect(runs).toBe(1);
  });

  it('keeps the claim of a handler slower than the lock: a delivery meanwhile is IN_PROGRESS, one after is a duplicate', async () => {
    let runs = 0;
    let during: unknown;
    const slow = runExactlyOnce(
      store,
      'k2',
      async () => {
        runs++;
        await sleep(base.lockMs * 3);
        during = await runExactlyOnce(store, 'k2', () => ++runs, base).catch((e: unknown) => e);
        await sleep(base.lockMs);
        return 'done';
      },
      base,
    );
    await expect(slow).resolves.toEqual({ status: 'processed', result: 'done', recorded: true });
    expect(during).toBeInstanceOf(WechatPayExactlyOnceError);
    expect((during as WechatPayExactlyOnceError).reason).toBe('IN_PROGRESS');
    await expect(runExactlyOnce(store, 'k2', () => ++runs, base)).resolves.toEqual({ status: 'duplicate' });
    expect(runs).toBe(1);
  });

  it('gives fencing tokens that grow with each claim of a key', async () => {
    const fences: Array<number | undefined> = [];
    await runExactlyOnce(store, 'k3', (l: WechatPayNotificationLease) => { fences.push(l.fencingToken); throw new Error('fail once'); }, base).catch(() => undefined);
    await runExactlyOnce(store, 'k3', (l: WechatPayNotificationLease) => fences.push(l.fencingToken), base);
    expect(fences).toHaveLength(2);
    expect(fences[1]!).toBeGreaterThan(fences[0]!);
  });

  it('releases the claim when the handler fails, so that the retry processes', async () => {
    await expect(runExactlyOnce(store, 'k4', () => Promise.reject(new Error('boom')), base)).rejects.toThrow('boom');
    await expect(runExactlyOnce(store, 'k4', () => 'ok', base)).resolves.toMatchObject({ status: 'processed', result: 'ok' });
  });

  it('answers STORE_FAILED within the deadline when the store hangs on claim, without running the handler', async () => {
    const faulty = new FaultyStore(store);
    faulty.hang.add('claim');
    let runs = 0;
    const err = await runExactlyOnce(faulty, 'k5', () => ++runs, base).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WechatPayExactlyOnceError);
    expect((err as WechatPayExactlyOnceError).reason).toBe('STORE_FAILED');
    expect(runs).toBe(0);
  });

  it('retries complete within the reply budget, and keeps the claim (not released) when it cannot be written', async () => {
    const faulty = new FaultyStore(store);
    faulty.fail.add('complete');
    const result = await runExactlyOnce(faulty, 'k6', () => 'effect', { ...base, lockMs: 5000, replyBudgetMs: 1000 });
    expect(result).toEqual({ status: 'processed', result: 'effect', recorded: false });
    expect(faulty.calls.filter((c) => c === 'complete').length).toBeGreaterThan(1);
    expect(faulty.calls).not.toContain('release');
    // A retry inside the lease is refused rather than run a second time.
    const retry = await runExactlyOnce(store, 'k6', () => 'again', base).catch((e: unknown) => e);
    expect((retry as WechatPayExactlyOnceError).reason).toBe('IN_PROGRESS');
  });

  it('aborts the handler signal when the lease cannot be renewed before it expires', async () => {
    const faulty = new FaultyStore(store);
    let aborted: unknown;
    await runExactlyOnce(
      faulty,
      'k7',
      async (lease) => {
        faulty.fail.add('renew');
        await new Promise<void>((resolve) => lease.signal.addEventListener('abort', () => resolve(), { once: true }));
        aborted = lease.signal.reason;
      },
      { ...base, lockMs: 200 },
    );
    expect(aborted).toBeInstanceOf(WechatPayExactlyOnceError);
  });
});

describe('runExactlyOnce with a store that cannot renew', () => {
  it('loses the claim of a handler slower than the lock (why stores should implement renew)', async () => {
    const inner = new InMemoryNotificationDedupeStore();
    const store: NotificationDedupeStore = { claim: (k, l) => inner.claim(k, l), complete: (k, t, ttl) => inner.complete(k, t, ttl), release: (k, t) => inner.release(k, t) };
    let runs = 0;
    await runExactlyOnce(
      store,
      'k',
      async () => {
        runs++;
        await sleep(300);
        await runExactlyOnce(store, 'k', () => runs++, { ...base, lockMs: 100 });
      },
      { ...base, lockMs: 100 },
    );
    expect(runs).toBe(2);
  });
});
