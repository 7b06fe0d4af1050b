/**
 * Verification of merchant requests: the Authorization header with its pairs in any order, the merchant
 * certificate serial, the timestamp window and SHA256withRSA over METHOD, the raw request target exactly as received
 * (`req.url`, never re-encoded), timestamp, nonce and the raw body. Every failure is 401 SIGN_ERROR with a message
 * that says what to fix.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { KeyObject } from 'node:crypto';
import { buildRequestMessage } from '../core/crypto/canonical-message';
import { type AuthorizationParams, parseAuthorization } from '../core/crypto/request-signer';
import { rsaVerify } from '../core/crypto/rsa-signature';
import { SIMULATOR_ERRORS, SimulatorHttpError } from './simulator-errors';

/** What the authenticator needs to know about the provider. */
export interface SimulatorAuthOptions {
  spMchid: string;
  merchantSerialNo: string;
  merchantPublicKey: KeyObject;
  clockSkewSeconds: number;
  clock: () => number;
  requireUserAgent: boolean;
  rejectReplayedNonce: boolean;
}

/** The parts of a request that are signed. */
export interface SignedRequestParts {
  method: string;
  /** Raw request target: path + query exactly as received. */
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

function signError(message: string): SimulatorHttpError {
  return new SimulatorHttpError(SIMULATOR_ERRORS.SIGN_ERROR, message);
}

/** Checks merchant request signatures. One per simulator. */
export class SimulatorRequestAuthenticator {
  private readonly seenNonces = new Map<string, number>();

  constructor(private readonly options: SimulatorAuthOptions) {}

  /**
   * Verifies a request; throws a `SimulatorHttpError` (401 SIGN_ERROR, or 400 for a missing User-Agent). The
   * `mchid` is checked afterwards by `checkMchidConsistency`, once the body or query is known.
   */
  authenticate(req: SignedRequestParts): AuthorizationParams {
    const o = this.options;
    if (o.requireUserAgent && !req.headers['user-agent']) throw new SimulatorHttpError(SIMULATOR_ERRORS.USER_AGENT_REQUIRED);
    const auth = parseAuthorization(req.headers.authorization);
    if (!auth) {
      throw signError(
        'Http头Authorization值格式错误，请参考《微信支付商户REST API签名规则》 (the Authorization header is missing or malformed: expected ' +
          'WECHATPAY2-SHA256-RSA2048 mchid="…",nonce_str="…",signature="…",timestamp="…",serial_no="…")',
      );
    }
    if (!/^\d{1,12}$/.test(auth.timestamp)) {
      throw signError('Http头Authorization中的timestamp格式错误 (timestamp must be Unix seconds, e.g. 1715150000, not milliseconds)');
    }
    // Whole seconds on both sides, so that exactly ±clockSkewSeconds passes and one more second fails.
    const skew = Math.floor(o.clock() / 1000) - Number(auth.timestamp);
    if (Math.abs(skew) > o.clockSkewSeconds) {
      throw signError(
        `请求时间与当前时间相差过大 (the Authorization timestamp is ${Math.abs(skew)} s ${skew > 0 ? 'behind' : 'ahead of'} the server clock; ` +
          `allowed ±${o.clockSkewSeconds} s: check the client clock (NTP) and that timestamp is in seconds)`,
      );
    }
    if (auth.serial_no.toUpperCase() !== o.merchantSerialNo) {
      throw signError(
        `商户证书序列号有误 (serial_no ${auth.serial_no.slice(0, 64)} is not the serial of the provider's API certificate ` +
          'apiclient_cert.pem; do not use a platform certificate serial or a public key id here)',
      );
    }
    const message = buildRequestMessage(req.method, req.url, auth.timestamp, auth.nonce_str, req.body);
    if (!rsaVerify(message, auth.signature, o.merchantPublicKey)) {
      throw signError(
        '签名错误，请检查后再试 (the signature does not verify with the API certificate: sign METHOD\\nURL\\nTIMESTAMP\\nNONCE\\nBODY\\n ' +
          `where URL is the raw request target "${req.url.slice(0, 200)}" and BODY the exact bytes sent, with apiclient_key.pem)`,
      );
    }
    this.checkReplay(auth);
    return auth;
  }

  private checkReplay(auth: AuthorizationParams): void {
    if (!this.options.rejectReplayedNonce) return;
    const now = this.options.clock();
    for (const [nonce, until] of this.seenNonces) if (until <= now) this.seenNonces.delete(nonce);
    if (this.seenNonces.has(auth.nonce_str)) throw new SimulatorHttpError(SIMULATOR_ERRORS.NONCE_REPLAYED);
    this.seenNonces.set(auth.nonce_str, now + 2 * this.options.clockSkewSeconds * 1000);
  }
}

/**
 * Authorization `mchid` must be the provider and equal the `sp_mchid` of the body or query. Putting the
 * sub-merchant there is a documented mistake with its own message.
 */
export function checkMchidConsistency(authMchid: string, spMchid: string, claimedSpMchid: string | undefined): void {
  if (claimedSpMchid !== undefined && claimedSpMchid !== authMchid) {
    throw new SimulatorHttpError(SIMULATOR_ERRORS.MCHID_MISMATCH);
  }
  if (authMchid !== spMchid) {
    throw signError(`商户号与证书不匹配 (Authorization mchid ${authMchid.slice(0, 32)} is not the service provider ${spMchid})`);
  }
}
