import { HttpService } from '@nestjs/axios';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { AxiosResponse } from 'axios';
import { firstValueFrom } from 'rxjs';
import type { Readable } from 'node:stream';
import { WECHAT_PAY_CONFIG, WECHAT_PAY_KEY_STORE, WECHAT_PAY_VERIFIER } from '../wechat-partner-pay.constants';
import type { ResolvedWechatPayConfig } from '../core/config/resolve-config';
import type { WechatPayKeyStore } from '../core/crypto/key-store';
import { WechatPayRequestSigner } from '../core/crypto/request-signer';
import type { WechatPayVerifier } from '../core/crypto/verifier';
import type { WechatPayEndpoint } from '../core/http/endpoint';
import { USER_AGENT } from '../core/http/package-info';
import type { WechatPayUpload } from '../core/http/multipart';
import {
  type HttpSender,
  type HttpSendRequest,
  type HttpSendResponse,
  type WechatPayEndpointCall,
  type WechatPayRequestOptions,
  type WechatPayResponse,
  WechatPayTransport,
} from '../core/http/transport';

export type { WechatPayMethod, WechatPayQuery, WechatPayRequestOptions, WechatPayResponse, WechatPayEndpointCall } from '../core/http/transport';
export type { WechatPayUpload } from '../core/http/multipart';

function flatHeaders(res: AxiosResponse): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(res.headers ?? {})) {
    if (typeof v === 'string') out[k.toLowerCase()] = v;
    else if (Array.isArray(v)) out[k.toLowerCase()] = v.join(', ');
    else if (typeof v === 'number') out[k.toLowerCase()] = String(v);
  }
  return out;
}

/** The transport's HTTP layer over `@nestjs/axios`: sends the URL it is given as is, never re-encodes a byte. */
class AxiosSender implements HttpSender {
  constructor(private readonly http: HttpService) {}

  async send(req: HttpSendRequest): Promise<HttpSendResponse> {
    const buffered = req.responseType === 'buffer';
    const res = await firstValueFrom(
      this.http.request({
        method: req.method,
        url: req.url,
        data: req.body,
        headers: req.headers,
        // The transport reads stream bodies itself, within its size, deadline and idle limits.
        responseType: buffered ? 'arraybuffer' : 'stream',
        timeout: req.timeoutMs,
        signal: req.signal,
        transformRequest: [(d: unknown) => d],
        transformResponse: [(d: unknown) => d],
        validateStatus: () => true,
        maxRedirects: 0,
        decompress: true,
        proxy: false,
      }),
    );
    return {
      status: res.status,
      headers: flatHeaders(res),
      body: buffered ? Buffer.from(res.data as ArrayBuffer) : (res.data as Readable),
    };
  }
}

/**
 * The signed HTTP client of the module: a thin Nest adapter over the framework-free `WechatPayTransport` (serialize
 * once → sign the exact URL and bytes → send → verify the raw response → parse). Non-2xx answers become
 * `WechatPayApiError`; network failures `WechatPayNetworkError`; answers over `maxResponseBytes`
 * `WechatPayResponseTooLargeError`. Idempotent calls are retried on network errors, 5xx and 429 with exponential
 * backoff and full jitter, or after the `Retry-After` WeChat Pay asks for when within `retry.maxRetryAfterMs`.
 */
@Injectable()
export class WechatPayClient {
  private readonly transport: WechatPayTransport;

  constructor(
    http: HttpService,
    @Inject(WECHAT_PAY_CONFIG) config: ResolvedWechatPayConfig,
    @Inject(WECHAT_PAY_KEY_STORE) keys: WechatPayKeyStore,
    @Inject(WECHAT_PAY_VERIFIER) verifier: WechatPayVerifier,
  ) {
    const signer = new WechatPayRequestSigner({
      mchid: config.spMchid,
      serialNo: config.merchantSerialNo,
      privateKey: config.privateKey,
      now: () => Math.floor(config.clock() / 1000),
    });
    const v = config.verification;
    this.transport = new WechatPayTransport({
      baseUrl: config.baseUrl,
      backupBaseUrl: config.backupBaseUrl,
      timeoutMs: config.timeoutMs,
      streamIdleTimeoutMs: config.streamIdleTimeoutMs,
      maxResponseBytes: config.maxResponseBytes,
      retry: { ...config.retry, maxRetryAfterMs: config.maxRetryAfterMs },
      threadpoolSigning: config.threadpoolSigning,
      signer,
      verifier,
      sender: new AxiosSender(http),
      userAgent: USER_AGENT,
      // The serial we ask WeChat Pay to sign responses with: the key we can verify.
      preferredSerial: () =>
        v.mode === 'publicKey' || (v.mode === 'both' && v.prefer === 'publicKey') ? v.publicKeyId : (keys.newestCertificate()?.serial ?? v.publicKeyId),
      logger: new Logger('WechatPayClient'),
    });
  }

  /** The provider's request signer (also signs client invoke parameters). */
  get requestSigner(): WechatPayRequestSigner {
    return this.transport.signer;
  }

  /** Sends a signed JSON request and returns the verified, parsed response. */
  request<T>(options: WechatPayRequestOptions): Promise<WechatPayResponse<T>> {
    return this.transport.request<T>(options);
  }

  /** Calls a declared endpoint (path parameters encoded once, query in the declared order). */
  call<T, P extends string = string>(endpoint: WechatPayEndpoint<P>, call?: WechatPayEndpointCall<P>): Promise<WechatPayResponse<T>> {
    return this.transport.call<T>(endpoint, call as WechatPayEndpointCall<string> | undefined);
  }

  /** Uploads a file as `multipart/form-data` to a declared endpoint; the signature covers the `meta` part only. */
  upload<T>(endpoint: WechatPayEndpoint<string>, upload: WechatPayUpload): Promise<WechatPayResponse<T>> {
    return this.transport.upload<T>(endpoint, upload);
  }

  /**
   * Signed GET of a download URL (the bill `download_url`), returning the unverified byte stream. Only the path and
   * query of `downloadUrl` are used: the request goes to the configured host. The stream fails with a
   * `WechatPayNetworkError` when the connection is cut or stays silent for `streamIdleTimeoutMs`.
   */
  download(downloadUrl: string): Promise<Readable> {
    return this.transport.download(downloadUrl);
  }
}
