import type { KeyObject } from 'node:crypto';
import { WechatPayConfigError, WechatPayError } from '../errors/wechat-pay.errors';
import { PUBLIC_KEY_ID_PREFIX } from '../crypto/key-store';
import { notificationEventProblems } from '../notify/notification-event-registry';
import type { NotificationDedupeKeyFn, NotificationEventEntry } from '../notify/notification.types';
import { keysMatch, loadPrivateKey, loadPublicKey, parseCertificate, type ParsedCertificate } from '../crypto/keys';
import { publicKeyInputProblem, rsaKeySizeProblem } from './key-checks';
import { unknownOptionProblems } from './option-keys';
import type {
  NotificationDedupeStore,
  WechatPartnerPayModuleOptions,
} from '../../interfaces';

/** Default API host. */
export const DEFAULT_BASE_URL = 'https://api.mch.weixin.qq.com';
/** Backup API host. */
export const DEFAULT_BACKUP_BASE_URL = 'https://api2.mch.weixin.qq.com';

/** Options after validation: keys parsed once into KeyObjects, defaults applied. */
export interface ResolvedWechatPayConfig {
  /** Settings that work but deserve a word at boot; the module logs them once. */
  warnings: readonly string[];
  spMchid: string;
  spAppid: string;
  merchantSerialNo: string;
  privateKey: KeyObject;
  apiV3Key: Buffer;
  verification: {
    mode: 'publicKey' | 'platformCertificate' | 'both';
    publicKeyId?: string;
    publicKey?: KeyObject;
    refreshIntervalMs: number;
    certificates: ParsedCertificate[];
    prefer: 'publicKey' | 'platformCertificate';
  };
  notifyUrl?: string;
  /** `refundNotifyUrl`, else `notifyUrl`. */
  refundNotifyUrl?: string;
  baseUrl: string;
  backupBaseUrl: string;
  timeoutMs: number;
  retry: { attempts: number; baseDelayMs: number; maxDelayMs: number; failover: boolean };
  clockSkewSeconds: number;
  threadpoolSigning: boolean;
  clock: () => number;
  notifications: {
    maxBodyBytes: number;
    dedupeStore?: NotificationDedupeStore;
    dedupeTtlMs: number;
    dedupeLockMs: number;
    storeTimeoutMs: number;
    replyBudgetMs: number;
    dedupeKey?: NotificationDedupeKeyFn;
    routeCheck: boolean;
    /** `notifications.events`, checked; empty when not given. */
    events: NotificationEventEntry[];
  };
  /** The boot check, when `verifyOnBoot` is on: the sub-merchant to query under (the provider itself by default). */
  verifyOnBoot?: { subMchid: string };
}

/** Every notify URL option that is set, with the event types WeChat Pay sends to it (for the boot route check). */
export function notifyUrlOptions(config: ResolvedWechatPayConfig): Array<{ option: string; url: string; eventPrefix: string }> {
  const out: Array<{ option: string; url: string; eventPrefix: string }> = [];
  if (config.notifyUrl) out.push({ option: 'notifyUrl', url: config.notifyUrl, eventPrefix: 'TRANSACTION.' });
  if (config.refundNotifyUrl) {
    out.push({ option: config.refundNotifyUrl === config.notifyUrl ? 'refundNotifyUrl (default: notifyUrl)' : 'refundNotifyUrl', url: config.refundNotifyUrl, eventPrefix: 'REFUND.' });
  }
  return out;
}

const TWELVE_HOURS = 12 * 3600_000;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

function positiveInt(problems: string[], name: string, v: unknown, def: number, min = 1): number {
  if (v === undefined) return def;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    problems.push(`${name} must be an integer ≥ ${min}, got ${typeof v === 'number' ? v : typeof v}`);
    return def;
  }
  return v;
}

function checkUrl(problems: string[], name: string, v: unknown): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string') {
    problems.push(`${name} must be a string URL`);
    return undefined;
  }
  try {
    const u = new URL(v);
    if (u.protocol !== 'https:' && u.protocol !== 'http:') problems.push(`${name} must be an http(s) URL, got ${u.protocol}`);
  } catch {
    problems.push(`${name} is not a valid absolute URL`);
  }
  return v.replace(/\/+$/, '');
}

/**
 * Whether a notify URL is acceptable: absolute http(s), no query string, at most 256 characters. Plain http is
 * accepted because WeChat Pay calls back over http on private dedicated lines (专线); `notifyUrlWarning()` says so.
 */
export function notifyUrlProblem(v: string): string | undefined {
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    return 'must be an absolute https:// URL';
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return `must use https://, got ${u.protocol}`;
  if (u.search || v.includes('?')) return 'must not contain a query string (WeChat Pay rejects it); put identifiers in the path';
  if (u.hash) return 'must not contain a #fragment';
  if (v.length > 256) return `must be at most 256 characters, got ${v.length}`;
  return undefined;
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** A warning for a notify URL that works but should not be used on the Internet: plain http to a non-loopback host. */
export function notifyUrlWarning(v: string): string | undefined {
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    return undefined;
  }
  if (u.protocol !== 'http:' || LOOPBACK_HOSTS.has(u.hostname)) return undefined;
  return (
    `uses http:// (${u.host}): WeChat Pay accepts plain HTTP callbacks only over a private dedicated line; on the ` +
    'Internet use https://, so that nobody on the way can read or replay the (signed) notifications'
  );
}

function checkNotifyUrl(problems: string[], warnings: string[], name: string, v: unknown): string | undefined {
  if (v === undefined) return undefined;
  const p = typeof v === 'string' ? notifyUrlProblem(v) : 'must be a string';
  if (p) problems.push(`${name} ${p}`);
  const w = p ? undefined : notifyUrlWarning(v as string);
  if (w) warnings.push(`${name} ${w}`);
  return p ? undefined : (v as string);
}

function bootCheck(problems: string[], v: unknown, spMchid: unknown): ResolvedWechatPayConfig['verifyOnBoot'] {
  if (v === undefined || v === false) return undefined;
  if (v === true) return { subMchid: String(spMchid) };
  if (!isObject(v)) {
    problems.push('verifyOnBoot must be true, false or { subMchid }');
    return undefined;
  }
  if (v.subMchid === undefined) return { subMchid: String(spMchid) };
  if (typeof v.subMchid !== 'string' || !/^\d{1,32}$/.test(v.subMchid)) {
    problems.push('verifyOnBoot.subMchid must be a sub-merchant id (特约商户号): 1–32 digits');
    return undefined;
  }
  return { subMchid: v.subMchid };
}

/**
 * Validates module options once at boot and normalises them. Throws one `WechatPayConfigError` listing every
 * problem; no key material ever appears in the text.
 */
export function resolveWechatPayConfig(options: WechatPartnerPayModuleOptions): ResolvedWechatPayConfig {
  if (!isObject(options)) throw new WechatPayConfigError(['options must be an object']);
  const o = options;
  const problems: string[] = unknownOptionProblems(o as unknown as Record<string, unknown>);
  /** Settings that work but deserve a word at boot (logged by the module). */
  const warnings: string[] = [];

  if (typeof o.spMchid !== 'string' || !/^\d{1,32}$/.test(o.spMchid)) {
    problems.push('spMchid must be the service provider merchant id: 1–32 digits');
  }
  if (typeof o.spAppid !== 'string' || o.spAppid.length < 1 || o.spAppid.length > 32) {
    problems.push('spAppid must be the AppID bound to spMchid: 1–32 characters');
  }

  let apiV3Key = Buffer.alloc(0);
  if (typeof o.apiV3Key !== 'string') problems.push('apiV3Key must be a string of exactly 32 characters');
  else {
    apiV3Key = Buffer.from(o.apiV3Key, 'utf8');
    if (apiV3Key.length !== 32) {
      problems.push(
        `apiV3Key must be exactly 32 bytes, got ${apiV3Key.length}` +
          (o.apiV3Key.trim().length !== o.apiV3Key.length ? ' (it has leading or trailing whitespace)' : ''),
      );
    }
  }

  let privateKey: KeyObject | undefined;
  if (o.privateKey === undefined || o.privateKey === null) problems.push('privateKey is required: the content of apiclient_key.pem');
  else {
    try {
      privateKey = loadPrivateKey(o.privateKey, 'privateKey');
      const short = rsaKeySizeProblem(privateKey, 'privateKey');
      if (short) problems.push(short);
    } catch (e) {
      problems.push((e as Error).message);
    }
  }

  let merchantSerialNo = typeof o.merchantSerialNo === 'string' ? o.merchantSerialNo.trim().toUpperCase() : undefined;
  if (o.merchantSerialNo !== undefined && (typeof o.merchantSerialNo !== 'string' || !/^[0-9A-Fa-f]{1,64}$/.test(o.merchantSerialNo.trim()))) {
    problems.push('merchantSerialNo must be the hex serial of apiclient_cert.pem (as shown in the merchant platform)');
    merchantSerialNo = undefined;
  }
  if (o.merchantCertificate !== undefined) {
    try {
      const cert = parseCertificate(o.merchantCertificate, 'merchantCertificate');
      const short = rsaKeySizeProblem(cert.publicKey, 'merchantCertificate');
      if (short) problems.push(short);
      if (merchantSerialNo && merchantSerialNo !== cert.serialNo) {
        problems.push(
          `merchantSerialNo ${merchantSerialNo} does not match the serial of merchantCertificate (${cert.serialNo}); ` +
            'a wrong serial is the most common cause of 401 SIGN_ERROR',
        );
      }
      merchantSerialNo = cert.serialNo;
      if (privateKey && !keysMatch(cert.publicKey, privateKey)) {
        problems.push('merchantCertificate does not belong to privateKey: use the apiclient_cert.pem issued with this apiclient_key.pem');
      }
    } catch (e) {
      problems.push((e as Error).message);
    }
  } else if (!merchantSerialNo && o.merchantSerialNo === undefined) {
    problems.push('merchantSerialNo is required (or give merchantCertificate, from which it is derived)');
  }

  const v = o.verification as unknown;
  const verification: ResolvedWechatPayConfig['verification'] = {
    mode: 'publicKey',
    refreshIntervalMs: TWELVE_HOURS - 5 * 60_000,
    certificates: [],
    prefer: 'publicKey',
  };
  if (v === undefined || v === null) {
    problems.push(
      'verification is required: it says how WeChat Pay signatures are verified. verification.mode must be ' +
        "'publicKey' ({ mode: 'publicKey', publicKeyId: 'PUB_KEY_ID_…', publicKey: <pub_key.pem> }, the WeChat Pay public key), " +
        "'platformCertificate' ({ mode: 'platformCertificate' }: certificates downloaded from /v3/certificates) or " +
        "'both' (public key and platform certificates, during a migration)",
    );
  } else if (!isObject(v) || !['publicKey', 'platformCertificate', 'both'].includes(v.mode as string)) {
    problems.push("verification.mode must be 'publicKey', 'platformCertificate' or 'both'");
  } else {
    verification.mode = v.mode as 'publicKey' | 'platformCertificate' | 'both';
    if (v.mode === 'publicKey' || v.mode === 'both') {
      if (typeof v.publicKeyId !== 'string' || !v.publicKeyId.startsWith(PUBLIC_KEY_ID_PREFIX)) {
        problems.push(`verification.publicKeyId must start with ${PUBLIC_KEY_ID_PREFIX} (the id shown next to the WeChat Pay public key)`);
      } else verification.publicKeyId = v.publicKeyId;
      const wrongKind = publicKeyInputProblem(v.publicKey, privateKey);
      if (v.publicKey === undefined) problems.push('verification.publicKey is required: the content of pub_key.pem');
      else if (wrongKind) problems.push(wrongKind);
      else {
        try {
          verification.publicKey = loadPublicKey(v.publicKey as string, 'verification.publicKey');
          if (verification.publicKey.type !== 'public') throw new WechatPayError('verification.publicKey must be a public key');
          const short = rsaKeySizeProblem(verification.publicKey, 'verification.publicKey');
          if (short) problems.push(short);
        } catch (e) {
          problems.push((e as Error).message);
        }
      }
    }
    if (v.mode === 'platformCertificate' || v.mode === 'both') {
      verification.refreshIntervalMs = positiveInt(problems, 'verification.refreshIntervalMs', v.refreshIntervalMs, verification.refreshIntervalMs, 1000);
      if (verification.refreshIntervalMs > TWELVE_HOURS) {
        problems.push('verification.refreshIntervalMs must be at most 12 h: WeChat Pay rotates certificates with 24 h notice');
      }
      if (v.certificates !== undefined) {
        if (!Array.isArray(v.certificates)) problems.push('verification.certificates must be an array of PEM strings');
        else
          v.certificates.forEach((c, i) => {
            try {
              const cert = parseCertificate(c as string, `verification.certificates[${i}]`);
              const short = rsaKeySizeProblem(cert.publicKey, `verification.certificates[${i}]`);
              if (short) problems.push(short);
              verification.certificates.push(cert);
            } catch (e) {
              problems.push((e as Error).message);
            }
          });
      }
      verification.prefer = v.mode === 'both' && v.prefer === 'platformCertificate' ? 'platformCertificate' : v.mode === 'both' ? 'publicKey' : 'platformCertificate';
    }
  }

  const notifyUrl = checkNotifyUrl(problems, warnings, 'notifyUrl', o.notifyUrl);
  const refundNotifyUrl = checkNotifyUrl(problems, warnings, 'refundNotifyUrl', o.refundNotifyUrl) ?? notifyUrl;
  const baseUrl = checkUrl(problems, 'baseUrl', o.baseUrl) ?? DEFAULT_BASE_URL;
  const backupBaseUrl = checkUrl(problems, 'backupBaseUrl', o.backupBaseUrl) ?? DEFAULT_BACKUP_BASE_URL;
  const timeoutMs = positiveInt(problems, 'timeoutMs', o.timeoutMs, 10_000);
  const r = isObject(o.retry) ? o.retry : {};
  if (o.retry !== undefined && !isObject(o.retry)) problems.push('retry must be an object');
  const retry = {
    attempts: positiveInt(problems, 'retry.attempts', r.attempts, 3),
    baseDelayMs: positiveInt(problems, 'retry.baseDelayMs', r.baseDelayMs, 200, 0),
    maxDelayMs: positiveInt(problems, 'retry.maxDelayMs', r.maxDelayMs, 2000, 0),
    failover: r.failover === true,
  };
  const clockSkewSeconds = positiveInt(problems, 'clockSkewSeconds', o.clockSkewSeconds, 300);
  if (o.clock !== undefined && typeof o.clock !== 'function') problems.push('clock must be a function returning milliseconds');
  const n = isObject(o.notifications) ? o.notifications : {};
  const store = n.dedupeStore as NotificationDedupeStore | undefined;
  if (store !== undefined && (typeof store?.claim !== 'function' || typeof store.complete !== 'function' || typeof store.release !== 'function')) {
    problems.push('notifications.dedupeStore must implement claim(), complete() and release()');
  }
  const notifications = {
    maxBodyBytes: positiveInt(problems, 'notifications.maxBodyBytes', n.maxBodyBytes, 64 * 1024),
    dedupeStore: store,
    dedupeTtlMs: positiveInt(problems, 'notifications.dedupeTtlMs', n.dedupeTtlMs, 25 * 3600_000),
    dedupeLockMs: positiveInt(problems, 'notifications.dedupeLockMs', n.dedupeLockMs, 60_000),
    storeTimeoutMs: positiveInt(problems, 'notifications.storeTimeoutMs', n.storeTimeoutMs, 1000),
    replyBudgetMs: positiveInt(problems, 'notifications.replyBudgetMs', n.replyBudgetMs, 4000),
    dedupeKey: n.dedupeKey as NotificationDedupeKeyFn | undefined,
    routeCheck: n.routeCheck !== false,
    events: Array.isArray(n.events) ? [...(n.events as NotificationEventEntry[])] : [],
  };
  if (n.events !== undefined) problems.push(...notificationEventProblems(n.events, 'notifications.events'));
  if (n.routeCheck !== undefined && typeof n.routeCheck !== 'boolean') problems.push('notifications.routeCheck must be a boolean');
  const verifyOnBoot = bootCheck(problems, o.verifyOnBoot, o.spMchid);
  if (n.dedupeKey !== undefined && typeof n.dedupeKey !== 'function') {
    problems.push('notifications.dedupeKey must be a function (notification) => string');
  }
  if (notifications.replyBudgetMs >= 5000) {
    problems.push('notifications.replyBudgetMs must be under 5000 ms: WeChat Pay stops waiting for the reply after 5 s');
  }
  if (notifications.storeTimeoutMs >= notifications.replyBudgetMs) {
    problems.push('notifications.storeTimeoutMs must be shorter than notifications.replyBudgetMs (default 4000 ms)');
  }
  if (notifications.dedupeTtlMs < 25 * 3600_000) {
    problems.push('notifications.dedupeTtlMs must be at least 25 h: WeChat Pay retries a notification for about 24 h');
  }

  if (problems.length) throw new WechatPayConfigError(problems);
  return {
    warnings,
    spMchid: o.spMchid,
    spAppid: o.spAppid,
    merchantSerialNo: merchantSerialNo!,
    privateKey: privateKey!,
    apiV3Key,
    verification,
    notifyUrl,
    refundNotifyUrl,
    baseUrl,
    backupBaseUrl,
    timeoutMs,
    retry,
    clockSkewSeconds,
    threadpoolSigning: o.threadpoolSigning === true,
    clock: o.clock ?? Date.now,
    notifications,
    verifyOnBoot,
  };
}
