import type { KeyObject } from 'node:crypto';
import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { WECHAT_PAY_CONFIG, WECHAT_PAY_KEY_STORE } from '../wechat-partner-pay.constants';
import type { ResolvedWechatPayConfig } from '../core/config/resolve-config';
import { aesGcmDecrypt, type AesGcmEncrypted } from '../core/crypto/aes-gcm';
import { parseCertificate } from '../core/crypto/keys';
import { type VerificationKey, WechatPayKeyStore } from '../core/crypto/key-store';
import { rsaOaepEncrypt } from '../core/crypto/rsa-oaep';
import { WechatPayVerifier } from '../core/crypto/verifier';
import { WechatPayApiError, WechatPayConfigError, WechatPayDecryptionError, WechatPayError, WechatPaySignatureError } from '../core/errors/wechat-pay.errors';
import { WechatPayClient } from '../client/wechat-pay.client';
import { CERTIFICATE_ENDPOINTS } from './certificates.endpoints';

/** One entry of `GET /v3/certificates`. */
export interface PlatformCertificateWire {
  serial_no: string;
  effective_time: string;
  expire_time: string;
  encrypt_certificate: AesGcmEncrypted;
}

/** What the module knows of a verification key. */
export interface WechatPayKeyInfo {
  /** Certificate serial or `PUB_KEY_ID_…`. */
  serial: string;
  kind: 'publicKey' | 'platformCertificate';
  effectiveTime?: Date;
  expireTime?: Date;
}

/**
 * Platform certificates and the WeChat Pay public key: downloads, decrypts and verifies `/v3/certificates`, keeps
 * every unexpired certificate, refreshes periodically and on an unknown serial, and encrypts sensitive fields with
 * the newest key. In public key mode nothing is downloaded.
 */
@Injectable()
export class WechatPayCertificatesService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('WechatPayCertificates');
  private timer?: NodeJS.Timeout;
  /** The download in flight, shared by every caller (timer, unknown serial, encryption, `refresh()`). */
  private inflight?: Promise<WechatPayKeyInfo[]>;
  /** When the last forced download started (`-Infinity`: none yet); forced downloads are rate limited from it. */
  private lastForcedAt = -Infinity;
  /** Why the last download failed, for the error of a rate-limited forced refresh. */
  private lastFailure?: string;

  constructor(
    private readonly client: WechatPayClient,
    @Inject(WECHAT_PAY_CONFIG) private readonly config: ResolvedWechatPayConfig,
    @Inject(WECHAT_PAY_KEY_STORE) private readonly keys: WechatPayKeyStore,
  ) {
    if (this.usesCertificates) keys.setRefresher(async () => void (await this.forcedRefresh()));
  }

  private get usesCertificates(): boolean {
    return this.config.verification.mode !== 'publicKey';
  }

  /** Downloads certificates at boot (platform certificate modes) and starts the refresh timer. */
  async onModuleInit(): Promise<void> {
    if (!this.usesCertificates) return;
    try {
      await this.refresh();
    } catch (e) {
      if (e instanceof WechatPayConfigError) throw e;
      // WeChat Pay unreachable at boot: keep booting; an unknown serial or the timer will download again.
      this.logger.warn(`Initial platform certificate download failed: ${(e as Error).message}`);
    }
    this.timer = setInterval(() => {
      this.refresh().catch((e: Error) => this.logger.warn(`Platform certificate refresh failed: ${e.message}`));
    }, this.config.verification.refreshIntervalMs);
    this.timer.unref();
  }

  /** Stops the refresh timer. */
  onModuleDestroy(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * Downloads `/v3/certificates`, decrypts each certificate with the APIv3 key, verifies the download, and keeps every
   * unexpired certificate. Once a platform certificate is trusted (configured, or from an earlier download) the
   * answer must be signed by a key already trusted: a download cannot vouch for the certificates it introduces.
   * Before that (bootstrap) it is verified with the certificates it carries. A call while a download is in flight
   * joins it. No-op in public key mode.
   */
  refresh(): Promise<WechatPayKeyInfo[]> {
    if (!this.usesCertificates) return Promise.resolve(this.list());
    this.inflight ??= this.download().then(
      (keys) => {
        this.lastFailure = undefined;
        return keys;
      },
      (e: unknown) => {
        this.lastFailure = e instanceof Error ? e.message : String(e);
        throw e;
      },
    ).finally(() => (this.inflight = undefined));
    return this.inflight;
  }

  /**
   * A download not due by the timer (an unknown serial, no certificate to encrypt with): joins the one in flight, and
   * starts one at most once per `minForcedRefreshIntervalMs`, so that a burst of unknown serials cannot make the
   * module hammer WeChat Pay.
   */
  private forcedRefresh(): Promise<WechatPayKeyInfo[]> {
    if (this.inflight) return this.inflight;
    const now = this.config.clock();
    const interval = this.config.verification.minForcedRefreshIntervalMs;
    if (now - this.lastForcedAt < interval) {
      return Promise.reject(
        new WechatPayError(
          `Platform certificates were downloaded less than ${interval} ms ago (verification.minForcedRefreshIntervalMs); ` +
            `not downloading again yet${this.lastFailure ? `. The last download failed: ${this.lastFailure}` : ''}`,
        ),
      );
    }
    this.lastForcedAt = now;
    return this.refresh();
  }

  private async download(): Promise<WechatPayKeyInfo[]> {
    let res;
    try {
      res = await this.client.call<{ data?: PlatformCertificateWire[] }>(CERTIFICATE_ENDPOINTS.list, { verify: false });
    } catch (e) {
      if (e instanceof WechatPayApiError && e.code === 'RESOURCE_NOT_EXISTS') {
        throw new WechatPayConfigError([
          'This merchant has no platform certificate (/v3/certificates answered RESOURCE_NOT_EXISTS): it uses the WeChat Pay ' +
            "public key. Set verification to { mode: 'publicKey', publicKeyId: 'PUB_KEY_ID_…', publicKey: <pub_key.pem> }",
        ]);
      }
      throw e;
    }
    const downloaded: VerificationKey[] = [];
    for (const item of res.data?.data ?? []) {
      const pem = this.decryptCertificate(item).toString('utf8');
      const cert = parseCertificate(pem, `platform certificate ${String(item.serial_no).slice(0, 40)}`);
      if (cert.serialNo !== String(item.serial_no).toUpperCase()) {
        throw new WechatPayError(`Platform certificate serial mismatch: listed as ${String(item.serial_no).slice(0, 40)}, certificate says ${cert.serialNo}`);
      }
      downloaded.push({
        serial: cert.serialNo,
        key: cert.publicKey,
        kind: 'platformCertificate',
        effectiveTime: new Date(item.effective_time ?? cert.validFrom),
        expireTime: new Date(item.expire_time ?? cert.validTo),
      });
    }
    if (downloaded.length === 0) throw new WechatPayError('/v3/certificates returned no certificate');
    const trust = new WechatPayKeyStore(this.config.clock);
    const trusted = this.keys.list();
    // Bootstrap only, while no certificate is trusted: the download is signed by one of the certificates it carries.
    // After that a key we already trust must sign it, as wechatpay-go's downloader does; WeChat Pay lists a new
    // certificate before it signs with it, so the refresh that introduces it is signed by the old one.
    const bootstrap = !trusted.some((k) => k.kind === 'platformCertificate');
    trust.add(...trusted, ...(bootstrap ? downloaded : []));
    try {
      await new WechatPayVerifier(trust, { clockSkewSeconds: this.config.clockSkewSeconds, clock: this.config.clock }).verify(
        res.headers,
        res.rawBody,
      );
    } catch (e) {
      if (!(e instanceof WechatPaySignatureError) || bootstrap) throw e;
      throw new WechatPaySignatureError(
        e.reason,
        `/v3/certificates answer not accepted, certificates kept as they were: it must be signed by a key already ` +
          `trusted (${trusted.map((k) => k.serial).join(', ')}), not only by a certificate it introduces: ${e.message}`,
      );
    }
    const now = this.config.clock();
    const merged = new Map<string, VerificationKey>();
    for (const k of [...this.keys.list(), ...downloaded]) {
      if (k.kind !== 'platformCertificate') continue;
      if (k.expireTime && k.expireTime.getTime() <= now) continue;
      merged.set(k.serial, k);
    }
    this.keys.replaceCertificates([...merged.values()]);
    this.logger.log(`Platform certificates: ${[...merged.keys()].join(', ')}`);
    return this.list();
  }

  /**
   * A certificate that does not decrypt means the APIv3 key is wrong: a configuration error, so that the boot fails
   * here rather than every later verification failing with an unknown serial that points at the public-key settings.
   */
  private decryptCertificate(item: PlatformCertificateWire): Buffer {
    try {
      return aesGcmDecrypt(this.config.apiV3Key, item.encrypt_certificate);
    } catch (e) {
      if (!(e instanceof WechatPayDecryptionError)) throw e;
      throw new WechatPayConfigError([
        `apiV3Key cannot decrypt the platform certificate ${String(item.serial_no).slice(0, 40)} downloaded from /v3/certificates (${e.message}): ` +
          "apiV3Key must be the merchant's current APIv3 key (APIv3密钥, 商户平台 > 账户中心 > API安全), exactly as last set there",
      ]);
    }
  }

  /** Every key the module verifies with: the public key and the unexpired platform certificates, newest first. */
  list(): WechatPayKeyInfo[] {
    return this.keys.list().map(({ serial, kind, effectiveTime, expireTime }) => ({ serial, kind, effectiveTime, expireTime }));
  }

  /** The platform certificate with the latest effective time, if any. */
  newest(): WechatPayKeyInfo | undefined {
    const k = this.keys.newestCertificate();
    return k && { serial: k.serial, kind: k.kind, effectiveTime: k.effectiveTime, expireTime: k.expireTime };
  }

  /**
   * Encrypts a sensitive field (RSA-OAEP-SHA1) with the WeChat Pay public key or the newest platform certificate.
   * Send `serial` as the `Wechatpay-Serial` header of the request that carries the ciphertext.
   */
  encryptSensitive(plaintext: string): { ciphertext: string; serial: string } {
    const target = this.encryptionKey();
    if (!target) {
      throw new WechatPayError('No platform certificate is known yet: call refresh() first, or configure the WeChat Pay public key');
    }
    return { ciphertext: rsaOaepEncrypt(plaintext, target.key), serial: target.serial };
  }

  /**
   * `encryptSensitive()`, first downloading the platform certificates when none is known yet (platform certificate
   * modes, before the first refresh). Concurrent calls share one download; a failed one is not repeated within
   * `verification.minForcedRefreshIntervalMs`.
   */
  async encryptSensitiveWithRefresh(plaintext: string): Promise<{ ciphertext: string; serial: string }> {
    if (!this.encryptionKey() && this.config.verification.mode !== 'publicKey') await this.forcedRefresh();
    return this.encryptSensitive(plaintext);
  }

  /** The key sensitive fields are encrypted for: the public key or the newest platform certificate, per `verification`. */
  private encryptionKey(): { key: KeyObject; serial: string } | undefined {
    const v = this.config.verification;
    const pub = this.keys.publicKey();
    return (v.mode === 'publicKey' || (v.mode === 'both' && v.prefer === 'publicKey')) && pub ? pub : (this.keys.newestCertificate() ?? pub);
  }
}
