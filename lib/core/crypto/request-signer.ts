import type { KeyObject } from 'node:crypto';
import { buildRequestMessage } from './canonical-message';
import { generateNonce } from './nonce';
import { rsaSign, rsaSignAsync } from './rsa-signature';

/** The signature scheme of the Authorization header. */
export const AUTHORIZATION_SCHEME = 'WECHATPAY2-SHA256-RSA2048';

/** The five pairs of the Authorization header. */
export interface AuthorizationParams {
  mchid: string;
  nonce_str: string;
  timestamp: string;
  serial_no: string;
  signature: string;
}

/** Formats `WECHATPAY2-SHA256-RSA2048 mchid="…",nonce_str="…",signature="…",timestamp="…",serial_no="…"`. */
export function formatAuthorization(p: AuthorizationParams): string {
  return `${AUTHORIZATION_SCHEME} mchid="${p.mchid}",nonce_str="${p.nonce_str}",signature="${p.signature}",timestamp="${p.timestamp}",serial_no="${p.serial_no}"`;
}

/**
 * Parses an Authorization header with its pairs in any order. Returns undefined when the scheme or a pair is
 * missing or malformed.
 */
export function parseAuthorization(header: string | undefined): AuthorizationParams | undefined {
  if (!header) return undefined;
  const space = header.indexOf(' ');
  if (space < 0 || header.slice(0, space) !== AUTHORIZATION_SCHEME) return undefined;
  const pairs: Record<string, string> = {};
  const re = /\s*([a-z_]+)="([^"]*)"\s*(,|$)/gy;
  const rest = header.slice(space + 1);
  let m: RegExpExecArray | null;
  let consumed = 0;
  while ((m = re.exec(rest)) !== null) {
    pairs[m[1]] = m[2];
    consumed = re.lastIndex;
    if (m[3] === '') break;
  }
  if (consumed !== rest.length) return undefined;
  const { mchid, nonce_str, timestamp, serial_no, signature } = pairs;
  if (!mchid || !nonce_str || !timestamp || !serial_no || !signature) return undefined;
  return { mchid, nonce_str, timestamp, serial_no, signature };
}

/** What a signer needs: the provider's merchant id, its API certificate serial and private key. */
export interface RequestSignerOptions {
  mchid: string;
  serialNo: string;
  privateKey: KeyObject;
  /** Seconds since the epoch; injectable for tests. */
  now?: () => number;
}

/** Signs requests with the provider's API private key (parsed once). */
export class WechatPayRequestSigner {
  private readonly now: () => number;

  constructor(private readonly options: RequestSignerOptions) {
    this.now = options.now ?? (() => Math.floor(Date.now() / 1000));
  }

  /** The Authorization header for a request. `url` is the raw path + query exactly as sent. */
  authorization(method: string, url: string, body: string): string {
    const timestamp = String(this.now());
    const nonce = generateNonce();
    const signature = rsaSign(buildRequestMessage(method, url, timestamp, nonce, body), this.options.privateKey);
    return this.format(timestamp, nonce, signature);
  }

  /** The same, signing on the threadpool. */
  async authorizationAsync(method: string, url: string, body: string): Promise<string> {
    const timestamp = String(this.now());
    const nonce = generateNonce();
    const signature = await rsaSignAsync(buildRequestMessage(method, url, timestamp, nonce, body), this.options.privateKey);
    return this.format(timestamp, nonce, signature);
  }

  /** Signs an arbitrary message (invoke parameters) with the same key. */
  signMessage(message: string): string {
    return rsaSign(message, this.options.privateKey);
  }

  private format(timestamp: string, nonce: string, signature: string): string {
    return formatAuthorization({
      mchid: this.options.mchid,
      nonce_str: nonce,
      timestamp,
      serial_no: this.options.serialNo,
      signature,
    });
  }
}
