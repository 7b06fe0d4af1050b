import type { KeyObject } from 'node:crypto';
import type { NotificationDedupeKeyFn, NotificationEventEntry } from '../core/notify/notification.types';
import type { NotificationDedupeStore } from './notification-dedupe-store.interface';

/** Verify with the static WeChat Pay public key (微信支付公钥), downloaded once from the merchant platform. */
export interface PublicKeyVerification {
  mode: 'publicKey';
  /** `PUB_KEY_ID_…` as shown in the merchant platform. */
  publicKeyId: string;
  /** Content of `pub_key.pem` (SPKI PEM) or a parsed KeyObject. */
  publicKey: string | Buffer | KeyObject;
}

/** Verify with platform certificates (平台证书), downloaded from `/v3/certificates` and refreshed automatically. */
export interface PlatformCertificateVerification {
  mode: 'platformCertificate';
  /** How often to download certificates again. Default 12 h (WeChat Pay asks for less than 12 h: we use 12 h minus 5 min). */
  refreshIntervalMs?: number;
  /** Certificates to trust before the first download (PEM). Optional. */
  certificates?: Array<string | Buffer>;
}

/** Migration from platform certificates to the public key: both verify; the public key id is sent as `Wechatpay-Serial`. */
export interface BothVerification {
  mode: 'both';
  publicKeyId: string;
  publicKey: string | Buffer | KeyObject;
  refreshIntervalMs?: number;
  certificates?: Array<string | Buffer>;
  /** Which key to ask WeChat Pay to sign responses with. Default 'publicKey'. */
  prefer?: 'publicKey' | 'platformCertificate';
}

/** How responses and notifications are verified. */
export type WechatPayVerificationOptions = PublicKeyVerification | PlatformCertificateVerification | BothVerification;

/** Retry policy for idempotent calls (GETs, order creation and close with the identical body). */
export interface WechatPayRetryOptions {
  /** Total attempts including the first. Default 3. 1 disables retries. */
  attempts?: number;
  /** First backoff delay; doubles each attempt, with full jitter. Default 200 ms. */
  baseDelayMs?: number;
  /** Cap of one backoff delay. Default 2000 ms. */
  maxDelayMs?: number;
  /** On network errors, retry against `backupBaseUrl`. Default false. */
  failover?: boolean;
}

/** Options of `WechatPartnerPayModule.forRoot()` / `forRootAsync()`. */
export interface WechatPartnerPayModuleOptions {
  /** Service provider merchant id (服务商商户号). */
  spMchid: string;
  /** Service provider AppID bound to spMchid. */
  spAppid: string;
  /** Serial of the provider's API certificate (商户API证书序列号). Optional when `merchantCertificate` is given. */
  merchantSerialNo?: string;
  /** Provider's API private key: content of `apiclient_key.pem`. */
  privateKey: string | Buffer | KeyObject;
  /** Provider's API certificate `apiclient_cert.pem`: the serial is derived from it and checked against the key. */
  merchantCertificate?: string | Buffer;
  /** APIv3 key (APIv3密钥): exactly 32 ASCII characters. */
  apiV3Key: string;
  /** How to verify WeChat Pay's signatures. */
  verification: WechatPayVerificationOptions;
  /**
   * Default `notify_url` for orders: https, no query string. At application bootstrap the module warns when no
   * `@WechatPayNotification()` route of the app serves its path (global prefix and URI versioning included).
   */
  notifyUrl?: string;
  /**
   * Default `notify_url` for refunds created without one: https, no query string. Default: `notifyUrl`. Give it when
   * the route at `notifyUrl` accepts only `TRANSACTION.*` events, or refund notifications (`REFUND.*`) are refused.
   */
  refundNotifyUrl?: string;
  /** API host. Default `https://api.mch.weixin.qq.com`; the simulator gives its own. */
  baseUrl?: string;
  /** Backup host used when `retry.failover` is on. Default `https://api2.mch.weixin.qq.com`. */
  backupBaseUrl?: string;
  /** Timeout of one HTTP attempt. Default 10 000 ms. */
  timeoutMs?: number;
  /** Retries of idempotent calls. */
  retry?: WechatPayRetryOptions;
  /** Accepted distance of response/notification timestamps from local time. Default 300 s. */
  clockSkewSeconds?: number;
  /** Compute request signatures on libuv's threadpool (better throughput under concurrency). Default false. */
  threadpoolSigning?: boolean;
  /** Milliseconds since the epoch. Injectable for tests. Default `Date.now`. */
  clock?: () => number;
  /** Notification handling. */
  notifications?: WechatPayNotificationOptions;
  /**
   * Make one cheap signed call at application bootstrap, a query of an order that does not exist, and fail the boot
   * with a `WechatPayConfigError` when WeChat Pay refuses the request signature (401: wrong `merchantSerialNo`,
   * `privateKey` or `spMchid`), when the answer's signature does not verify (wrong `verification` settings), or when
   * WeChat Pay cannot be reached. Any answer but 401 proves the request signature; its signature proves the
   * verification keys. `{ subMchid }` queries under that sub-merchant (the answer is 404 ORDER_NOT_EXIST) and is
   * the recommended form; `true` queries under `spMchid` itself, which WeChat Pay refuses with a 4xx that proves the
   * same as long as it is signed (when it is not, a warning says that the verification settings went unchecked).
   * Default false.
   */
  verifyOnBoot?: boolean | WechatPayBootCheckOptions;
}

/** Options of the boot check `verifyOnBoot`. */
export interface WechatPayBootCheckOptions {
  /** A sub-merchant (特约商户) of `spMchid` to query the non-existent order under. */
  subMchid?: string;
}

/** Options of `@WechatPayNotification()` handling. */
export interface WechatPayNotificationOptions {
  /** Largest accepted notification body. Default 64 KiB. */
  maxBodyBytes?: number;
  /** Exactly-once store. Default: an in-memory store (one process only). */
  dedupeStore?: NotificationDedupeStore;
  /** How long a completed notification is remembered. Default 25 h (WeChat retries for about 24 h). */
  dedupeTtlMs?: number;
  /**
   * How long a claim holds without renewal. While the handler runs the claim is renewed every third of this (stores
   * with `renew()`, as both shipped stores), so a slower handler keeps it; after a crash another delivery may take it
   * over once this has passed. Default 60 s.
   */
  dedupeLockMs?: number;
  /**
   * Deadline of every dedupe store call (claim, renew, complete, release), whatever the store client's own retry
   * settings: a store that does not answer in time is treated as down (503, WeChat Pay retries). Default 1000 ms.
   */
  storeTimeoutMs?: number;
  /**
   * Time from the start of handling within which the reply must go out (WeChat Pay waits 5 s): bounds the retries of
   * a failed completion write. Default 4000 ms.
   */
  replyBudgetMs?: number;
  /**
   * The exactly-once key of every notification route and `handleOnce()` call of this module, unless a route or call
   * sets its own. Default `event_type:sp_mchid:sub_mchid:transaction_id` (refunds: `out_refund_no`). Must return a
   * non-empty string; the same notification must always give the same key.
   */
  dedupeKey?: NotificationDedupeKeyFn;
  /**
   * At application bootstrap, warn when no `@WechatPayNotification()` route serves the path of `notifyUrl` or
   * `refundNotifyUrl`, or when the route there refuses the events sent to that URL. Turn it off when a reverse proxy
   * rewrites the path. Default true.
   */
  routeCheck?: boolean;
  /**
   * Your own notification kinds (e.g. combine payments, profit sharing, withdrawals), tried before the built-in
   * ones; an entry named like a built-in one (`partner-transaction`, `partner-refund`) replaces it. A resource that
   * no entry recognises is rejected with 400 `UNKNOWN_RESOURCE_SHAPE`. Routes get a kind only when they list it in
   * `@WechatPayNotification({ resources })` (or when the entry has `acceptedByDefault`).
   */
  events?: NotificationEventEntry[];
}
