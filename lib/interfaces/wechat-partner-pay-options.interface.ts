import type { KeyObject } from 'node:crypto';
import type { NotificationDedupeKeyFn } from '../notifications/wechat-pay-notification.service';
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
  /** Default `notify_url` for orders: https, no query string. */
  notifyUrl?: string;
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
}

/** Options of `@WechatPayNotification()` handling. */
export interface WechatPayNotificationOptions {
  /** Largest accepted notification body. Default 64 KiB. */
  maxBodyBytes?: number;
  /** Exactly-once store. Default: an in-memory store (one process only). */
  dedupeStore?: NotificationDedupeStore;
  /** How long a completed notification is remembered. Default 25 h (WeChat retries for about 24 h). */
  dedupeTtlMs?: number;
  /** How long a claim may stay in progress before another delivery may take it over. Default 60 s. */
  dedupeLockMs?: number;
  /**
   * The exactly-once key of every notification route and `handleOnce()` call of this module, unless a route or call
   * sets its own. Default `event_type:sp_mchid:sub_mchid:transaction_id` (refunds: `out_refund_no`). Must return a
   * non-empty string; the same notification must always give the same key.
   */
  dedupeKey?: NotificationDedupeKeyFn;
}
