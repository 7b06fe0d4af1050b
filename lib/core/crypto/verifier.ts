import type { KeyObject } from 'node:crypto';
import { WechatPaySignatureError } from '../errors/wechat-pay.errors';
import { buildResponseMessage } from './canonical-message';
import { getHeader, type HeadersLike, WECHATPAY_HEADERS } from './headers';
import { unknownSerial, type WechatPayKeyStore } from './key-store';
import { AUTHORIZATION_SCHEME } from './request-signer';
import { rsaVerify } from './rsa-signature';

function missingHeader(name: string): WechatPaySignatureError {
  return new WechatPaySignatureError('MISSING_HEADER', `Missing header ${name}: not a signed WeChat Pay message`);
}

/** The signed headers of a response or notification, once checked for presence. */
export interface SignedHeaders {
  timestamp: string;
  nonce: string;
  signature: string;
  serial: string;
}

/** Options of a verifier. */
export interface VerifierOptions {
  /** Accepted distance between the message timestamp and now, both directions. Default 300 s. */
  clockSkewSeconds?: number;
  /** Milliseconds since the epoch; injectable for tests. */
  clock?: () => number;
}

/**
 * Verifies WeChat Pay responses and notifications: headers present, timestamp in the window, key chosen by
 * `Wechatpay-Serial`, SHA256withRSA over `TIMESTAMP\nNONCE\nBODY\n` with the raw body bytes.
 * Every failure is a `WechatPaySignatureError`, never another kind of exception.
 */
export class WechatPayVerifier {
  private readonly skew: number;
  private readonly clock: () => number;

  constructor(
    private readonly keys: WechatPayKeyStore,
    options: VerifierOptions = {},
  ) {
    this.skew = options.clockSkewSeconds ?? 300;
    this.clock = options.clock ?? Date.now;
  }

  /** Checks presence of the headers and the timestamp window. */
  checkHeaders(headers: HeadersLike): SignedHeaders {
    const timestamp = getHeader(headers, WECHATPAY_HEADERS.timestamp);
    const nonce = getHeader(headers, WECHATPAY_HEADERS.nonce);
    const signature = getHeader(headers, WECHATPAY_HEADERS.signature);
    const serial = getHeader(headers, WECHATPAY_HEADERS.serial);
    if (!timestamp) throw missingHeader(WECHATPAY_HEADERS.timestamp);
    if (!nonce) throw missingHeader(WECHATPAY_HEADERS.nonce);
    if (!signature) throw missingHeader(WECHATPAY_HEADERS.signature);
    if (!serial) throw missingHeader(WECHATPAY_HEADERS.serial);
    const type = getHeader(headers, WECHATPAY_HEADERS.signatureType);
    if (type !== undefined && type !== AUTHORIZATION_SCHEME) {
      throw new WechatPaySignatureError('UNSUPPORTED_SIGNATURE_TYPE', `Unsupported Wechatpay-Signature-Type "${type.slice(0, 40)}"`);
    }
    if (!/^\d{1,12}$/.test(timestamp)) {
      throw new WechatPaySignatureError('INVALID_TIMESTAMP', 'Wechatpay-Timestamp is not a number of seconds');
    }
    const delta = Math.abs(this.clock() / 1000 - Number(timestamp));
    if (delta > this.skew) {
      throw new WechatPaySignatureError(
        'TIMESTAMP_OUT_OF_WINDOW',
        `Wechatpay-Timestamp is ${Math.round(delta)} s away from local time (allowed ${this.skew} s): a replay, or this server's clock is wrong (use NTP)`,
      );
    }
    return { timestamp: timestamp, nonce: nonce, signature: signature, serial: serial };
  }

  /** Verifies with a known key only (no refresh); throws on any failure. */
  verifySync(headers: HeadersLike, rawBody: Buffer | string): SignedHeaders {
    const h = this.checkHeaders(headers);
    const key = this.keys.get(h.serial);
    if (!key) throw unknownSerial(h.serial);
    this.check(h, key, rawBody);
    return h;
  }

  /** Verifies; an unknown certificate serial triggers one certificate refresh first. */
  async verify(headers: HeadersLike, rawBody: Buffer | string): Promise<SignedHeaders> {
    const h = this.checkHeaders(headers);
    const key = this.keys.get(h.serial) ?? (await this.keys.resolve(h.serial));
    this.check(h, key, rawBody);
    return h;
  }

  private check(h: SignedHeaders, key: KeyObject, rawBody: Buffer | string): void {
    if (!rsaVerify(buildResponseMessage(h.timestamp, h.nonce, rawBody), h.signature, key)) {
      throw new WechatPaySignatureError(
        'BAD_SIGNATURE',
        h.signature.startsWith('WECHATPAY/SIGNTEST/')
          ? 'Signature probe (WECHATPAY/SIGNTEST/) rejected, as WeChat Pay expects'
          : 'Wechatpay-Signature does not verify over the raw body: the body was altered or re-serialized, or the key is wrong',
      );
    }
  }
}
