import type { KeyObject } from 'node:crypto';
import { WechatPaySignatureError } from '../errors/wechat-pay.errors';

/** A key that verifies WeChat Pay signatures, with what identifies it in `Wechatpay-Serial`. */
export interface VerificationKey {
  /** Platform certificate serial (upper-case hex) or `PUB_KEY_ID_…`. */
  serial: string;
  key: KeyObject;
  kind: 'publicKey' | 'platformCertificate';
  /** Certificates only. */
  effectiveTime?: Date;
  expireTime?: Date;
}

/** Prefix of WeChat Pay public key ids. */
export const PUBLIC_KEY_ID_PREFIX = 'PUB_KEY_ID_';

/**
 * The map `{ serial or public key id → key }` that chooses the verifying key of each message. Holds the WeChat Pay
 * public key (if configured) and every unexpired platform certificate. One per module instance: never a
 * process-wide singleton.
 */
export class WechatPayKeyStore {
  private keys = new Map<string, VerificationKey>();
  private refresher?: () => Promise<void>;
  private inflight?: Promise<void>;
  private lastRefreshAt = -Infinity;

  constructor(
    private readonly clock: () => number = Date.now,
    private readonly minRefreshIntervalMs = 60_000,
  ) {}

  /** Adds or replaces keys. */
  add(...keys: VerificationKey[]): void {
    for (const k of keys) this.keys.set(k.serial, k);
  }

  /** Replaces every platform certificate with `certs`, keeping the public key. */
  replaceCertificates(certs: VerificationKey[]): void {
    for (const [serial, k] of this.keys) if (k.kind === 'platformCertificate') this.keys.delete(serial);
    this.add(...certs);
  }

  /** The key for a serial, if known. */
  get(serial: string): KeyObject | undefined {
    return this.keys.get(serial)?.key;
  }

  /** Every key, newest certificate first. */
  list(): VerificationKey[] {
    return [...this.keys.values()].sort((a, b) => (b.effectiveTime?.getTime() ?? 0) - (a.effectiveTime?.getTime() ?? 0));
  }

  /** The public key entry, if configured. */
  publicKey(): VerificationKey | undefined {
    for (const k of this.keys.values()) if (k.kind === 'publicKey') return k;
    return undefined;
  }

  /** The certificate with the latest effective time that is valid now. */
  newestCertificate(): VerificationKey | undefined {
    const now = this.clock();
    let best: VerificationKey | undefined;
    for (const k of this.keys.values()) {
      if (k.kind !== 'platformCertificate') continue;
      if (k.expireTime && k.expireTime.getTime() <= now) continue;
      if (k.effectiveTime && k.effectiveTime.getTime() > now) continue;
      if (!best || (k.effectiveTime?.getTime() ?? 0) > (best.effectiveTime?.getTime() ?? 0)) best = k;
    }
    return best;
  }

  /** Installs the function called (single flight, rate limited) when a message names an unknown certificate serial. */
  setRefresher(refresher: () => Promise<void>): void {
    this.refresher = refresher;
  }

  /**
   * The key for a serial; an unknown certificate serial triggers one certificate refresh (single flight, at most once
   * per `minRefreshIntervalMs`), then fails with a typed error.
   */
  async resolve(serial: string): Promise<KeyObject> {
    const known = this.get(serial);
    if (known) return known;
    if (!serial.startsWith(PUBLIC_KEY_ID_PREFIX) && this.refresher) {
      if (!this.inflight && this.clock() - this.lastRefreshAt >= this.minRefreshIntervalMs) {
        this.lastRefreshAt = this.clock();
        this.inflight = this.refresher()
          .catch(() => undefined)
          .finally(() => (this.inflight = undefined));
      }
      if (this.inflight) await this.inflight;
      const after = this.get(serial);
      if (after) return after;
    }
    throw unknownSerial(serial);
  }
}

/** The error for a `Wechatpay-Serial` that no configured key matches. */
export function unknownSerial(serial: string): WechatPaySignatureError {
  const shown = serial.slice(0, 64);
  return new WechatPaySignatureError(
    'UNKNOWN_SERIAL',
    serial.startsWith(PUBLIC_KEY_ID_PREFIX)
      ? `Wechatpay-Serial ${shown} is a WeChat Pay public key id that is not configured: set verification.publicKeyId/publicKey ` +
          `(mode 'publicKey' or 'both') to the key shown in the merchant platform`
      : `Wechatpay-Serial ${shown} matches no known platform certificate or public key id. If your merchant uses the WeChat Pay ` +
          `public key, configure verification mode 'publicKey' (or 'both' while migrating)`,
  );
}
