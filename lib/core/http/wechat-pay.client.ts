import { HttpService } from '@nestjs/axios';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { AxiosResponse, RawAxiosRequestHeaders } from 'axios';
import { firstValueFrom } from 'rxjs';
import type { Readable } from 'node:stream';
import { WECHAT_PAY_CONFIG, WECHAT_PAY_KEY_STORE, WECHAT_PAY_VERIFIER, BILL_DOWNLOAD_PATH } from '../../wechat-partner-pay.constants';
import type { ResolvedWechatPayConfig } from '../config/resolve-config';
import { getHeader, WECHATPAY_HEADERS } from '../crypto/headers';
import type { WechatPayKeyStore } from '../crypto/key-store';
import { WechatPayRequestSigner } from '../crypto/request-signer';
import type { WechatPayVerifier } from '../crypto/verifier';
import {
  WechatPayApiError,
  type WechatPayErrorDetail,
  WechatPayError,
  WechatPayNetworkError,
  WechatPaySignatureError,
} from '../errors/wechat-pay.errors';
import { USER_AGENT } from './package-info';

/** HTTP methods used by WeChat Pay APIv3. */
export type WechatPayMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** Query parameters, sent in the given order (the order is part of the signed URL). */
export type WechatPayQuery = Record<string, string | number | boolean | undefined> | ReadonlyArray<readonly [string, string]>;

/** One API call. */
export interface WechatPayRequestOptions {
  method: WechatPayMethod;
  /** Path with placeholders substituted and each segment URL-encoded, e.g. `/v3/pay/partner/transactions/out-trade-no/T1`. */
  path: string;
  query?: WechatPayQuery;
  /** JSON body; serialized once, and exactly those bytes are signed and sent. */
  body?: unknown;
  /**
   * Whether repeating the call is safe. Default: true for GET. Order creation and close are idempotent only because
   * a retry resends the identical body.
   */
  idempotent?: boolean;
  /** Override the `Wechatpay-Serial` header (the key a sensitive field was encrypted with). */
  wechatpaySerial?: string;
  /** Verify the response signature. Default true. Only the certificate bootstrap turns it off. */
  verify?: boolean;
}

/** A successful, verified response. */
export interface WechatPayResponse<T> {
  status: number;
  data: T;
  rawBody: Buffer;
  headers: Record<string, string>;
  requestId?: string;
}

function encodeQuery(query: WechatPayQuery | undefined): string {
  if (!query) return '';
  const pairs: string[] = [];
  const entries: Iterable<readonly [string, unknown]> = Array.isArray(query) ? query : Object.entries(query);
  for (const [k, v] of entries) {
    if (v === undefined) continue;
    pairs.push(`${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  }
  return pairs.length ? `?${pairs.join('&')}` : '';
}

function flatHeaders(res: AxiosResponse): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(res.headers ?? {})) {
    if (typeof v === 'string') out[k.toLowerCase()] = v;
    else if (Array.isArray(v)) out[k.toLowerCase()] = v.join(', ');
    else if (typeof v === 'number') out[k.toLowerCase()] = String(v);
  }
  return out;
}

const NETWORK_TIMEOUT_CODES = new Set(['ECONNABORTED', 'ETIMEDOUT', 'ERR_CANCELED', 'ABORT_ERR', 'UND_ERR_CONNECT_TIMEOUT']);

interface AxiosLikeError {
  code?: string;
  message?: string;
  response?: AxiosResponse;
  isAxiosError?: boolean;
}

/**
 * The signed HTTP client: serialize once → sign the exact bytes → send → verify the raw response → parse.
 * Non-2xx answers become `WechatPayApiError`; network failures `WechatPayNetworkError`. Idempotent calls are
 * retried on network errors, 5xx and 429 with exponential backoff and full jitter.
 */
@Injectable()
export class WechatPayClient {
  private readonly logger = new Logger('WechatPayClient');
  private readonly signer: WechatPayRequestSigner;

  constructor(
    private readonly http: HttpService,
    @Inject(WECHAT_PAY_CONFIG) private readonly config: ResolvedWechatPayConfig,
    @Inject(WECHAT_PAY_KEY_STORE) private readonly keys: WechatPayKeyStore,
    @Inject(WECHAT_PAY_VERIFIER) private readonly verifier: WechatPayVerifier,
  ) {
    this.signer = new WechatPayRequestSigner({
      mchid: config.spMchid,
      serialNo: config.merchantSerialNo,
      privateKey: config.privateKey,
      now: () => Math.floor(config.clock() / 1000),
    });
  }

  /** The provider's request signer (also signs client invoke parameters). */
  get requestSigner(): WechatPayRequestSigner {
    return this.signer;
  }

  /** Sends a signed JSON request and returns the verified, parsed response. */
  async request<T>(options: WechatPayRequestOptions): Promise<WechatPayResponse<T>> {
    const url = options.path + encodeQuery(options.query);
    const body = options.body === undefined ? '' : JSON.stringify(options.body);
    const res = await this.send(options.method, url, body, options, 'arraybuffer');
    const rawBody = Buffer.from(res.data as ArrayBuffer);
    const headers = flatHeaders(res);
    if (options.verify !== false && !url.startsWith(BILL_DOWNLOAD_PATH)) {
      try {
        await this.verifier.verify(headers, rawBody);
      } catch (e) {
        if (e instanceof WechatPaySignatureError) {
          throw new WechatPaySignatureError(
            e.reason,
            `${options.method} ${options.path}: response signature check failed, treat the outcome as unknown and query: ${e.message}`,
          );
        }
        throw e;
      }
    }
    let data: T;
    if (rawBody.length === 0) data = undefined as T;
    else {
      try {
        data = JSON.parse(rawBody.toString('utf8')) as T;
      } catch {
        throw new WechatPayError(`${options.method} ${options.path}: WeChat Pay answered HTTP ${res.status} with a body that is not JSON`);
      }
    }
    return { status: res.status, data, rawBody, headers, requestId: getHeader(headers, WECHATPAY_HEADERS.requestId) };
  }

  /**
   * Signed GET of a download URL (the bill `download_url`), returning the unverified byte stream: the bill download
   * response is not signed. Only the path and query of `downloadUrl` are used: the request goes to the configured
   * host, so the Authorization header never reaches another host.
   */
  async download(downloadUrl: string): Promise<Readable> {
    let target: URL;
    try {
      target = new URL(downloadUrl);
    } catch {
      throw new WechatPayError('download_url is not an absolute URL');
    }
    const url = target.pathname + target.search;
    const res = await this.send('GET', url, '', { method: 'GET', path: target.pathname, idempotent: true }, 'stream');
    return res.data as Readable;
  }

  private async send(
    method: WechatPayMethod,
    url: string,
    body: string,
    options: WechatPayRequestOptions,
    responseType: 'arraybuffer' | 'stream',
  ): Promise<AxiosResponse> {
    const idempotent = options.idempotent ?? method === 'GET';
    const { attempts, failover } = this.config.retry;
    const maxAttempts = idempotent ? attempts : 1;
    let useBackup = false;
    for (let attempt = 1; ; attempt++) {
      const base = useBackup ? this.config.backupBaseUrl : this.config.baseUrl;
      let res: AxiosResponse;
      try {
        res = await this.once(method, base, url, body, options, responseType);
      } catch (e) {
        const err = this.toNetworkError(e, method, options.path);
        if (attempt >= maxAttempts) throw err;
        if (failover) useBackup = !useBackup;
        this.logger.warn(`${method} ${options.path}: ${err.message}; retrying (attempt ${attempt + 1}/${maxAttempts})`);
        await this.backoff(attempt);
        continue;
      }
      if (res.status >= 200 && res.status < 300) return res;
      const apiError = await this.toApiError(res, method, options.path, responseType);
      const transient = res.status >= 500 || res.status === 429;
      if (!transient || attempt >= maxAttempts) throw apiError;
      this.logger.warn(`${method} ${options.path}: HTTP ${res.status} ${apiError.code}; retrying (attempt ${attempt + 1}/${maxAttempts})`);
      await this.backoff(attempt);
    }
  }

  private async once(
    method: WechatPayMethod,
    base: string,
    url: string,
    body: string,
    options: WechatPayRequestOptions,
    responseType: 'arraybuffer' | 'stream',
  ): Promise<AxiosResponse> {
    const authorization = this.config.threadpoolSigning
      ? await this.signer.authorizationAsync(method, url, body)
      : this.signer.authorization(method, url, body);
    const headers: RawAxiosRequestHeaders = {
      Accept: 'application/json',
      'Content-Type': 'application/json',
      'User-Agent': USER_AGENT,
      Authorization: authorization,
    };
    const serial = options.wechatpaySerial ?? this.preferredSerial();
    if (serial) headers['Wechatpay-Serial'] = serial;
    return firstValueFrom(
      this.http.request({
        method,
        url: base + url,
        data: body === '' ? undefined : body,
        headers,
        responseType,
        timeout: this.config.timeoutMs,
        // A whole-call deadline for JSON calls; a bill stream may take longer than that and relies on the
        // socket inactivity timeout instead.
        signal: responseType === 'arraybuffer' ? AbortSignal.timeout(this.config.timeoutMs) : undefined,
        transformRequest: [(d: unknown) => d],
        transformResponse: [(d: unknown) => d],
        validateStatus: () => true,
        maxRedirects: 0,
        decompress: true,
        proxy: false,
      }),
    );
  }

  /** The serial we ask WeChat Pay to sign responses with: the key we can verify. */
  private preferredSerial(): string | undefined {
    const v = this.config.verification;
    if (v.mode === 'publicKey' || (v.mode === 'both' && v.prefer === 'publicKey')) return v.publicKeyId;
    return this.keys.newestCertificate()?.serial ?? v.publicKeyId;
  }

  private async toApiError(
    res: AxiosResponse,
    method: string,
    path: string,
    responseType: 'arraybuffer' | 'stream',
  ): Promise<WechatPayApiError> {
    let raw: Buffer;
    if (responseType === 'stream') {
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of res.data as Readable) {
        const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
        size += b.length;
        if (size <= 64 * 1024) chunks.push(b);
      }
      raw = Buffer.concat(chunks);
    } else raw = Buffer.from(res.data as ArrayBuffer);
    const headers = flatHeaders(res);
    let code = `HTTP_${res.status}`;
    let message = 'WeChat Pay returned an error without a JSON body';
    let detail: WechatPayErrorDetail | undefined;
    try {
      const parsed = JSON.parse(raw.toString('utf8')) as { code?: unknown; message?: unknown; detail?: unknown };
      if (typeof parsed.code === 'string') code = parsed.code;
      if (typeof parsed.message === 'string') message = parsed.message;
      if (parsed.detail && typeof parsed.detail === 'object') detail = parsed.detail as WechatPayErrorDetail;
    } catch {
      /* keep the generic message */
    }
    return new WechatPayApiError(res.status, code, message, detail, getHeader(headers, WECHATPAY_HEADERS.requestId), method, path);
  }

  private toNetworkError(e: unknown, method: string, path: string): WechatPayError {
    if (e instanceof WechatPayError) return e;
    const err = e as AxiosLikeError;
    const code = err?.code ?? (e instanceof Error && e.name === 'TimeoutError' ? 'ETIMEDOUT' : undefined);
    const timedOut = code !== undefined && NETWORK_TIMEOUT_CODES.has(code);
    return new WechatPayNetworkError(
      timedOut
        ? `${method} ${path}: no answer from WeChat Pay within ${this.config.timeoutMs} ms; the outcome is unknown, query before creating anything new`
        : `${method} ${path}: network error ${code ?? ''} talking to WeChat Pay; the outcome is unknown, query before creating anything new`.replace('  ', ' '),
      code,
      timedOut,
      method,
      path,
    );
  }

  private backoff(attempt: number): Promise<void> {
    const { baseDelayMs, maxDelayMs } = this.config.retry;
    const cap = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
    const delay = Math.random() * cap;
    return new Promise((resolve) => setTimeout(resolve, delay));
  }
}
