import { createHash, randomUUID } from 'node:crypto';
import type {
  DedupeClaim,
  NotificationDedupeStore,
} from '../../interfaces/notification-dedupe-store.interface';

/** Options of `RedisNotificationDedupeStore`. */
export interface RedisNotificationDedupeStoreOptions {
  /** Prefix of every key. Default `wechatpay:notification:`. */
  keyPrefix?: string;
}

/**
 * The two commands the store uses: an ioredis `Redis` or `Cluster` (5+) fits, and so does any client with the same
 * `evalsha`/`eval` signatures. Declared here so that the package's types need no `ioredis` (an optional peer).
 */
export interface RedisScriptClient {
  evalsha(sha: string, numKeys: number, ...args: Array<string | number>): Promise<unknown>;
  eval(script: string, numKeys: number, ...args: Array<string | number>): Promise<unknown>;
}

const DONE = 'done';
const CLAIM = 'claim:';

/*
 * One key per notification, whose value is the state: `claim:<token>:<fence>` while a handler runs (expires with the
 * lease), `done` once completed (expires after the TTL). Every transition is one Lua script, so it is atomic, and the
 * owner-checked ones compare the token first. The fence is the Redis server's clock in microseconds at claim time:
 * it grows with every claim of a key without a second key (which a Cluster might place in another slot) and survives
 * a lease that expired, which a counter stored in the claim itself would not.
 */
const CLAIM_SCRIPT = `
local v = redis.call('GET', KEYS[1])
if v == '${DONE}' then return {1, 0} end
if v then return {2, 0} end
local t = redis.call('TIME')
local fence = tonumber(t[1]) * 1000000 + tonumber(t[2])
redis.call('SET', KEYS[1], ARGV[1] .. ':' .. fence, 'PX', ARGV[2])
return {0, fence}`;
const OWNED = `local v = redis.call('GET', KEYS[1]) if not v or string.sub(v, 1, string.len(ARGV[1]) + 1) ~= ARGV[1] .. ':' then return 0 end`;
const COMPLETE_SCRIPT = `${OWNED} redis.call('SET', KEYS[1], '${DONE}', 'PX', ARGV[2]) return 1`;
const RELEASE_SCRIPT = `${OWNED} redis.call('DEL', KEYS[1]) return 1`;
const RENEW_SCRIPT = `${OWNED} redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1`;

const SHA1 = new Map(
  [CLAIM_SCRIPT, COMPLETE_SCRIPT, RELEASE_SCRIPT, RENEW_SCRIPT].map((s) => [s, createHash('sha1').update(s).digest('hex')]),
);

/**
 * Exactly-once across instances on Redis (ioredis 5+, a client you create and own). `claim`, `complete`, `release`
 * and `renew` are Lua scripts: atomic, and owner-checked where a token is given. Pair it with
 * `notifications.storeTimeoutMs` (the module puts that deadline on every call, whatever the client's own retry
 * settings) so that a Redis outage answers WeChat Pay within its 5 s.
 */
export class RedisNotificationDedupeStore implements NotificationDedupeStore {
  private readonly redis: RedisScriptClient;
  private readonly prefix: string;

  constructor(client: RedisScriptClient, options: RedisNotificationDedupeStoreOptions = {}) {
    if (!client || typeof client.evalsha !== 'function' || typeof client.eval !== 'function') {
      throw new TypeError('RedisNotificationDedupeStore needs an ioredis Redis or Cluster client (new Redis(url))');
    }
    this.redis = client;
    this.prefix = options.keyPrefix ?? 'wechatpay:notification:';
  }

  async claim(key: string, lockMs: number): Promise<DedupeClaim> {
    const token = randomUUID();
    const [state, fence] = (await this.script(CLAIM_SCRIPT, this.prefix + key, CLAIM + token, lockMs)) as [number, number];
    if (state === 0) return { status: 'claimed', token, fence: Number(fence) };
    return state === 1 ? { status: 'completed' } : { status: 'in-progress' };
  }

  async complete(key: string, token: string, ttlMs: number): Promise<boolean> {
    return (await this.script(COMPLETE_SCRIPT, this.prefix + key, CLAIM + token, ttlMs)) === 1;
  }

  async release(key: string, token: string): Promise<boolean> {
    return (await this.script(RELEASE_SCRIPT, this.prefix + key, CLAIM + token)) === 1;
  }

  async renew(key: string, token: string, lockMs: number): Promise<boolean> {
    return (await this.script(RENEW_SCRIPT, this.prefix + key, CLAIM + token, lockMs)) === 1;
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
