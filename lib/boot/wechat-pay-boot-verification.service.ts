import { randomBytes } from 'node:crypto';
import { HttpService } from '@nestjs/axios';
import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { firstValueFrom } from 'rxjs';
import type { ResolvedWechatPayConfig } from '../core/config/resolve-config';
import { getHeader, WECHATPAY_HEADERS } from '../core/crypto/headers';
import type { WechatPayKeyStore } from '../core/crypto/key-store';
import type { WechatPayVerifier } from '../core/crypto/verifier';
import { WechatPayConfigError, WechatPaySignatureError } from '../core/errors/wechat-pay.errors';
import { buildPath } from '../core/http/endpoint';
import { USER_AGENT } from '../core/http/package-info';
import { requestTarget } from '../core/http/transport';
import { WechatPayClient } from '../client/wechat-pay.client';
import { ORDER_ENDPOINTS } from '../orders/orders.endpoints';
import {
  WECHAT_PAY_CONFIG,
  WECHAT_PAY_KEY_STORE,
  WECHAT_PAY_VERIFIER,
} from '../wechat-partner-pay.constants';

/** What the boot check received. */
interface ProbeAnswer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

function flat(headers: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers))
    if (typeof v === 'string' || typeof v === 'number') out[k.toLowerCase()] = String(v);
  return out;
}

function errorCode(body: Buffer): { code?: string; message?: string } {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { code?: unknown; message?: unknown };
    return {
      code: typeof parsed.code === 'string' ? parsed.code.slice(0, 64) : undefined,
      message: typeof parsed.message === 'string' ? parsed.message.slice(0, 200) : undefined,
    };
  } catch {
    return {};
  }
}

/**
 * `verifyOnBoot`: one signed query of an order that does not exist, at application bootstrap (after the platform
 * certificates were downloaded). Any answer but 401 proves that WeChat Pay accepted `merchantSerialNo` and
 * `privateKey`; verifying the answer's signature proves the `verification` settings. The transport does not verify
 * error answers (their outcome is an error anyway), which is exactly the answer expected here, so the check sends
 * its one request itself, signed by the client's signer.
 */
@Injectable()
export class WechatPayBootVerification implements OnApplicationBootstrap {
  private readonly logger = new Logger('WechatPartnerPay');

  constructor(
    private readonly http: HttpService,
    private readonly client: WechatPayClient,
    @Inject(WECHAT_PAY_CONFIG) private readonly config: ResolvedWechatPayConfig,
    @Inject(WECHAT_PAY_KEY_STORE) private readonly keys: WechatPayKeyStore,
    @Inject(WECHAT_PAY_VERIFIER) private readonly verifier: WechatPayVerifier,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.verifyOnBoot) return;
    const { subMchid } = this.config.verifyOnBoot;
    const outTradeNo = `BOOTCHECK${randomBytes(8).toString('hex').toUpperCase()}`;
    const target = requestTarget(
      buildPath(ORDER_ENDPOINTS.queryByOutTradeNo.path, { out_trade_no: outTradeNo }),
      [
        ['sp_mchid', this.config.spMchid],
        ['sub_mchid', subMchid],
      ],
    );
    const host = new URL(this.config.baseUrl).host;
    let answer: ProbeAnswer;
    try {
      answer = await this.send(target);
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      throw new WechatPayConfigError([
        `verifyOnBoot: WeChat Pay (${host}) could not be reached${typeof code === 'string' ? ` (${code})` : ''}; check baseUrl and the network, or turn verifyOnBoot off to boot without WeChat Pay`,
      ]);
    }
    const { code, message } = errorCode(answer.body);
    if (answer.status === 401) {
      throw new WechatPayConfigError([
        `verifyOnBoot: WeChat Pay refused the request signature (HTTP 401 ${code ?? ''}${message ? `: ${message}` : ''}): ` +
          `merchantSerialNo (${this.config.merchantSerialNo}) must be the serial of the API certificate issued with privateKey, ` +
          'and spMchid the merchant they belong to; a server clock more than 5 minutes off is refused too',
      ]);
    }
    const problem = await this.answerSignatureProblem(answer);
    if (problem === 'unsigned') {
      if (code === undefined) {
        throw new WechatPayConfigError([
          `verifyOnBoot: ${host} answered HTTP ${answer.status} without WeChat Pay's signature or error body: check baseUrl`,
        ]);
      }
      this.logger.warn(
        `verifyOnBoot: merchantSerialNo and privateKey accepted (HTTP ${answer.status} ${code}), but the answer carried no signature, so the verification settings are unchecked`,
      );
      return;
    }
    if (problem) throw new WechatPayConfigError([`verifyOnBoot: ${problem}`]);
    const serial = getHeader(answer.headers, WECHATPAY_HEADERS.serial);
    this.logger.log(
      `verifyOnBoot: merchantSerialNo and privateKey accepted, answer verified with ${serial} (HTTP ${answer.status} ${code ?? ''})`.trim(),
    );
  }

  private async send(target: string): Promise<ProbeAnswer> {
    const v = this.config.verification;
    // The key WeChat Pay should sign the answer with, as the client asks for it.
    const serial =
      v.mode === 'publicKey' || (v.mode === 'both' && v.prefer === 'publicKey')
        ? v.publicKeyId
        : (this.keys.newestCertificate()?.serial ?? v.publicKeyId);
    const headers: Record<string, string> = {
      Accept: 'application/json',
      'User-Agent': USER_AGENT,
      Authorization: this.client.requestSigner.authorization('GET', target, ''),
    };
    if (serial) headers['Wechatpay-Serial'] = serial;
    const res = await firstValueFrom(
      this.http.request<ArrayBuffer>({
        method: 'GET',
        url: this.config.baseUrl + target,
        headers,
        responseType: 'arraybuffer',
        timeout: this.config.timeoutMs,
        signal: AbortSignal.timeout(this.config.timeoutMs),
        transformResponse: [(d: unknown) => d],
        validateStatus: () => true,
        maxRedirects: 0,
        proxy: false,
      }),
    );
    return {
      status: res.status,
      headers: flat(res.headers as Record<string, unknown>),
      body: Buffer.from(res.data),
    };
  }

  /** Why the answer's signature does not verify, naming the settings to fix; `unsigned` when it carries none. */
  private async answerSignatureProblem(answer: ProbeAnswer): Promise<string | 'unsigned' | undefined> {
    if (!getHeader(answer.headers, WECHATPAY_HEADERS.signature)) return 'unsigned';
    try {
      await this.verifier.verify(answer.headers, answer.body);
      return undefined;
    } catch (e) {
      if (!(e instanceof WechatPaySignatureError)) throw e;
      const v = this.config.verification;
      const serial = (getHeader(answer.headers, WECHATPAY_HEADERS.serial) ?? '').slice(0, 64);
      const configured =
        v.mode === 'platformCertificate'
          ? 'the downloaded platform certificates'
          : `verification.publicKeyId ${v.publicKeyId}${v.mode === 'both' ? ' and the downloaded platform certificates' : ''}`;
      switch (e.reason) {
        case 'UNKNOWN_SERIAL':
          return `the answer is signed by ${serial}, which is none of the configured keys (${configured}): check verification.publicKeyId, or the verification mode`;
        case 'BAD_SIGNATURE':
          return `the answer's signature by ${serial} does not verify: ${v.mode === 'platformCertificate' ? 'the platform certificate does not match' : 'verification.publicKey is not the WeChat Pay public key of verification.publicKeyId'} (download pub_key.pem again from 商户平台 > API安全)`;
        case 'TIMESTAMP_OUT_OF_WINDOW':
          return `${e.message} (clockSkewSeconds ${this.config.clockSkewSeconds})`;
        default:
          return `the answer's signature could not be checked (${e.reason}): ${e.message}`;
      }
    }
  }
}
