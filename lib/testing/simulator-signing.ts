/**
 * How the simulator signs what it sends (API responses and notifications), with our core's canonical message and
 * RSA signature. The key is chosen per message: by the request's `Wechatpay-Serial` when it names a key the simulator
 * has (that is how WeChat Pay lets clients migrate between platform certificates and the public key), otherwise by
 * the configured default.
 */
import { type KeyObject, randomBytes } from 'node:crypto';
import { buildResponseMessage } from '../core/crypto/canonical-message';
import { WECHATPAY_HEADERS } from '../core/crypto/headers';
import { generateHex } from '../core/crypto/nonce';
import { AUTHORIZATION_SCHEME } from '../core/crypto/request-signer';
import { rsaSign } from '../core/crypto/rsa-signature';
import { loadPrivateKey } from '../core/crypto/keys';
import { rsaOaepDecrypt } from '../core/crypto/rsa-oaep';
import { parseRfc3339 } from '../core/time';
import type { SimulatorCredentials } from './simulator-credentials';
import { SIMULATOR_ERRORS, SimulatorHttpError } from './simulator-errors';

/** A private key with the identifier that goes into `Wechatpay-Serial`. */
export interface SimulatorSigningKey {
  /** Platform certificate serial or `PUB_KEY_ID_…`. */
  serial: string;
  privateKey: KeyObject;
}

/** Which key signs when the request names none the simulator knows. */
export type SimulatorSignWith = 'publicKey' | 'platformCertificate';

/** Headers of a signed message: `Wechatpay-Timestamp/-Nonce/-Signature/-Serial/-Signature-Type`. */
export function signMessageHeaders(
  body: Buffer | string,
  key: SimulatorSigningKey,
  timestampSeconds: number,
  nonce: string = generateHex(32),
): Record<string, string> {
  const timestamp = String(timestampSeconds);
  return {
    [WECHATPAY_HEADERS.timestamp]: timestamp,
    [WECHATPAY_HEADERS.nonce]: nonce,
    [WECHATPAY_HEADERS.signature]: rsaSign(buildResponseMessage(timestamp, nonce, body), key.privateKey),
    [WECHATPAY_HEADERS.serial]: key.serial,
    [WECHATPAY_HEADERS.signatureType]: AUTHORIZATION_SCHEME,
  };
}

/** A deliberately invalid signature, as WeChat Pay's signature probes send. */
export function probeSignature(): string {
  return `WECHATPAY/SIGNTEST/${randomBytes(256).toString('base64')}`;
}

/** Spoils a valid signature while keeping it well-formed Base64 of the right length. */
export function corruptSignature(signature: string): string {
  const bytes = Buffer.from(signature, 'base64');
  bytes[bytes.length >> 1] ^= 0x01;
  return bytes.toString('base64');
}

/** `Request-ID`: upper-case hex, then `-` and the internal error code (0 on success). */
export function requestId(internalCode = 0): string {
  return `${generateHex(44).toUpperCase()}-${internalCode}`;
}

interface PlatformKey extends SimulatorSigningKey {
  effectiveTime: number;
  expireTime: number;
}

/** The simulator's private keys, by serial. Rebuilt from credentials whenever they change (rotation). */
export class SimulatorKeyring {
  private readonly publicKey: SimulatorSigningKey;
  private readonly platform: PlatformKey[];

  constructor(
    credentials: SimulatorCredentials,
    private readonly publicKeyOnly: boolean,
    private readonly clock: () => number,
  ) {
    this.publicKey = { serial: credentials.publicKeyId, privateKey: loadPrivateKey(credentials.publicKeyPrivateKeyPem, 'publicKeyPrivateKeyPem') };
    this.platform = publicKeyOnly
      ? []
      : credentials.platformCertificates.map((c) => ({
          serial: c.serialNo,
          privateKey: loadPrivateKey(c.privateKeyPem, `platform certificate ${c.serialNo}`),
          effectiveTime: parseRfc3339(c.effectiveTime)?.getTime() ?? 0,
          expireTime: parseRfc3339(c.expireTime)?.getTime() ?? Number.MAX_SAFE_INTEGER,
        }));
  }

  /**
   * The certificate WeChat Pay signs with now: the latest effective one among those in force (effective and not
   * expired). A rotated-in certificate is listed ahead of its effective time and signs only from then on; when none
   * is in force, the latest unexpired one, else the latest of all.
   */
  newestCertificate(): SimulatorSigningKey | undefined {
    const now = this.clock();
    const inForce = this.platform.filter((k) => k.expireTime > now && k.effectiveTime <= now);
    const live = this.platform.filter((k) => k.expireTime > now);
    const pool = inForce.length ? inForce : live.length ? live : this.platform;
    return pool.reduce<PlatformKey | undefined>((best, k) => (!best || k.effectiveTime > best.effectiveTime ? k : best), undefined);
  }

  /**
   * The key of an answer that WeChat Pay signs with a platform certificate whatever the client prefers (the
   * certificate list): the certificate the request's `Wechatpay-Serial` names when it is one the simulator has, so
   * that a client that trusts only that one can verify the list; else the one in force.
   */
  forCertificateAnswer(requestSerial: string | undefined): SimulatorSigningKey {
    const named = requestSerial ? this.platform.find((k) => k.serial === requestSerial.toUpperCase()) : undefined;
    return named ?? this.byMode('platformCertificate');
  }

  /** The key for a request: the one its `Wechatpay-Serial` names, else the default mode. */
  forRequest(requestSerial: string | undefined, fallback: SimulatorSignWith): SimulatorSigningKey {
    if (requestSerial) {
      if (requestSerial === this.publicKey.serial) return this.publicKey;
      const named = this.platform.find((k) => k.serial === requestSerial.toUpperCase());
      if (named) return named;
    }
    return this.byMode(fallback);
  }

  /** The key a `Wechatpay-Serial` names exactly (the public key id or a platform certificate serial), without fallback. */
  named(serial: string | undefined): SimulatorSigningKey | undefined {
    if (!serial) return undefined;
    if (serial === this.publicKey.serial) return this.publicKey;
    return this.platform.find((k) => k.serial === serial.toUpperCase());
  }

  /** The key of a mode; platform-certificate mode falls back to the public key when the simulator has no certificate. */
  byMode(mode: SimulatorSignWith): SimulatorSigningKey {
    return (mode === 'platformCertificate' && !this.publicKeyOnly && this.newestCertificate()) || this.publicKey;
  }
}

/**
 * Decrypts a sensitive request field with the private key of the public key or platform certificate
 * that the request's `Wechatpay-Serial` names. The plain text is for the books' records only: never logged nor echoed.
 */
export function decryptSensitiveField(keyring: SimulatorKeyring, serial: string | undefined, field: string, ciphertext: unknown): string | undefined {
  if (ciphertext === undefined) return undefined;
  const key = keyring.named(serial);
  if (!key) {
    const issue = 'must name the WeChat Pay public key id or a platform certificate serial the fields were encrypted with';
    throw new SimulatorHttpError(SIMULATOR_ERRORS.SENSITIVE_SERIAL_UNKNOWN, undefined, { field: 'Wechatpay-Serial', value: serial ?? null, issue, location: 'header' });
  }
  try {
    return rsaOaepDecrypt(String(ciphertext), key.privateKey);
  } catch {
    const issue = `could not be decrypted with ${key.serial} (RSA-OAEP, SHA-1)`;
    throw new SimulatorHttpError(SIMULATOR_ERRORS.SENSITIVE_DECRYPT_FAILED, `${SIMULATOR_ERRORS.SENSITIVE_DECRYPT_FAILED.message}: /${field} ${issue}`, {
      field: `/${field}`,
      value: null,
      issue,
      location: 'body',
    });
  }
}
