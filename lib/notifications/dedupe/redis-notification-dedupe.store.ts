import { createHash, randomUUID } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import type {
  DedupeClaim,
  NotificationDedupeStore,
} from '../../interfaces/notification-dedupe-store.interface';

/** Options of `RedisNotificationDedupeStore`. */
export interface RedisNotificationDedupeStoreOptions {
  /** Prefix of every key. Default `wechatpay:notification:`. */
  keyPrefix?: string;
}

/** The commands used, typed loosely so that `Redis` and `Cluster` both fit. */
interface RedisCommands {
  set(key: string, value: string, px: 'PX', ms: number, nx: 'NX'): Promise<'OK' | null>;
  get(key: string): Promise<string | null>;
  evalsha(sha: string, numKeys: number, ...args: Array<string | number>): Promise<unknown>;
  eval(script: string, numKeys: number, ...args: Array<string | number>): Promise<unknown>;
}

const DONE = 'done';
const CLAIM = 'claim:';

// Owner-checked transitions: only the holder of the token may complete or release a claim.
const COMPLETE_SCRIPT = `if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('SET', KEYS[1], '${DONE}', 'PX', ARGV[2]) return 1 end return 0`;
const RELEASE_SCRIPT = `if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) return 1 end return 0`;

const SHA1 = new Map(
  [COMPLETE_SCRIPT, RELEASE_SCRIPT].map((s) => [s, createHash('sha1').update(s).digest('hex')]),
);

/**
 * Exactly-once across instances on Redis (ioredis 5+, a client you create and own). `claim` is an atomic
 * `SET key claim:<token> NX PX lockMs`; `complete` and `release` are Lua scripts that check the token first.
 */
export class RedisNotificationDedupeStore implements NotificationDedupeStore {
  private readonly redis: RedisCommands;
  private readonly prefix: string;

  constructor(client: Redis | Cluster, options: RedisNotificationDedupeStoreOptions = {}) {
    this.redis = client as unknown as RedisCommands;
    this.prefix = options.keyPrefix ?? 'wechatpay:notification:';
  }

  async claim(key: string, lockMs: number): Promise<DedupeClaim> {
    const k = this.prefix + key;
    const token = randomUUID();
    // A claim that expires between SET and GET frees the key: try again once more.
    for (let attempt = 0; attempt < 3; attempt++) {
      if ((await this.redis.set(k, CLAIM + token, 'PX', lockMs, 'NX')) === 'OK')
        return { status: 'claimed', token };
      const current = await this.redis.get(k);
      if (current === DONE) return { status: 'completed' };
      if (current !== null) return { status: 'in-progress' };
    }
    return { status: 'in-progress' };
  }

  async complete(key: string, token: string, ttlMs: number): Promise<boolean> {
    return (await this.script(COMPLETE_SCRIPT, this.prefix + key, CLAIM + token, ttlMs)) === 1;
  }

  async release(key: string, token: string): Promise<boolean> {
    return (await this.script(RELEASE_SCRIPT, this.prefix + key, CLAIM + token)) === 1;
  }

  private async script(script: string, key: string, ...args: Array<string | number>): Promise<unknown> {
    try {
      return await this.redis.evalsha(SHA1.get(script)!, 1, key, ...args);
    } catch (e) {
      if (!String((e as Error)?.message).includes('NOSCRIPT')) throw e;
      return this.redis.eval(script, 1, key, ...args);
    }
  }
}
