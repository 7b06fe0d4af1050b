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
  /**
   * Shortest time between two downloads that were not due by the timer (an unknown `Wechatpay-Serial`, or
   * `encryptSensitiveWithRefresh()` with no certificate known): a burst of unknown serials, forged or not, costs one
   * download per interval. Concurrent refreshes share one download whatever this says. Default 60 000 ms.
   */
  minForcedRefreshIntervalMs?: number;
}

/** Migration from platform certificates to the public key: both verify; the public key id is sent as `Wechatpay-Serial`. */
export interface BothVerification {
  mode: 'both';
  publicKeyId: string;
  publicKey: string | Buffer | KeyObject;
  refreshIntervalMs?: number;
  certificates?: Array<string | Buffer>;
  /**
   * Shortest time between two downloads that were not due by the timer (an unknown `Wechatpay-Serial`, or
   * `encryptSensitiveWithRefresh()` with no certificate known): a burst of unknown serials, forged or not, costs one
   * download per interval. Concurrent refreshes share one download whatever this says. Default 60 000 ms.
   */
  minForcedRefreshIntervalMs?: number;
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
  /**
   * Longest `Retry-After` (429, 503) waited for before retrying an idempotent call. A longer one, or one with no
   * attempt left, fails at once with a retryable `WechatPayApiError` whose `retryAfterMs` carries it. Default 5000 ms;
   * 0 never waits.
   */
  maxRetryAfterMs?: number;
}

/** Bill downloads. */
export interface WechatPayBillOptions {
  /**
   * Largest file of an encrypted sub-merchant fund-flow bill: each file is held (as ciphertext) while it is
   * authenticated, so this bounds memory. A larger file fails with `WechatPayResponseTooLargeError` while
   * receiving. Default 256 MiB.
   */
  maxEncryptedFileBytes?: number;
  /**
   * Directory of the temporary files the row helpers (`tradeBillRows()`, ...) spool a bill to, so that its SHA1 is
   * checked before the first row. Default `os.tmpdir()`. Each file is created with mode 0600 and deleted when the
   * rows have been read, on any error, and when the consumer stops early.
   */
  spoolDirectory?: string;
}

/**
 * The WeChat Pay product of the provider account: `'ecommerce'` for an 电商平台 / 平台收付通 platform,
 * `'partner'` for an ordinary 服务商. WeChat Pay treats them as different products with different endpoint
 * families (refunds under `/v3/ecommerce/refunds/...` vs `/v3/refund/domestic/refunds`; the same for profit sharing),
 * and rejects a caller of the other product.
 */
export type WechatPayProduct = 'ecommerce' | 'partner';

/** Options of `WechatPartnerPayModule.forRoot()` / `forRootAsync()`. */
export interface WechatPartnerPayModuleOptions {
  /**
   * Which WeChat Pay product the provider account is (电商平台 / 平台收付通 → `'ecommerce'`; 普通服务商 → `'partner'`).
   * It selects the endpoint family of refunds (and of profit sharing); there is no fallback from one family to the
   * other. Required: the module does not start without it (optional in the type only so that option objects built
   * before it existed still compile; they fail at boot with a message saying which value to choose).
   */
  product?: WechatPayProduct;
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
  /** Timeout of one HTTP attempt (JSON calls: until the whole answer is read; downloads: until the headers). Default 10 000 ms. */
  timeoutMs?: number;
  /**
   * Longest silence while a download body streams (bill files): no byte for this long fails the stream with a
   * `WechatPayNetworkError` (`timedOut: true`). Time the consumer spends not reading does not count. Default `timeoutMs`.
   */
  streamIdleTimeoutMs?: number;
  /**
   * Largest JSON answer (success or error) read from WeChat Pay; enforced while receiving, before the signature
   * check: a larger one fails with `WechatPayResponseTooLargeError` and the connection is closed. Default 4 MiB.
   */
  maxResponseBytes?: number;
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
  /** Bill downloads. */
  bills?: WechatPayBillOptions;
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
