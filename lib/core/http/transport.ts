/**
 * The WeChat Pay transport, free of any framework: build the URL once → sign exactly its path and query → send exactly
 * it → verify the raw answer → parse, or a typed error. Retries (idempotent calls only), timeouts and failover to the
 * backup host live here. The bytes go through an `HttpSender`, which the Nest module implements over `@nestjs/axios`.
 */
import type { Readable } from 'node:stream';
import { getHeader, WECHATPAY_HEADERS } from '../crypto/headers';
import type { WechatPayRequestSigner } from '../crypto/request-signer';
import {
  WechatPayApiError,
  type WechatPayErrorDetail,
  WechatPayError,
  WechatPayNetworkError,
  WechatPaySignatureError,
} from '../errors/wechat-pay.errors';
import { buildPath, type PathParams, type WechatPayEndpoint, type WechatPayMethod } from './endpoint';
import { buildMultipart, type WechatPayUpload } from './multipart';

export type { WechatPayMethod } from './endpoint';

/** Query parameters, sent in the given order (the order is part of the signed URL); `undefined` values are left out. */
export type WechatPayQuery = Record<string, string | number | boolean | undefined> | ReadonlyArray<readonly [string, string]>;

/** One API call. */
export interface WechatPayRequestOptions {
  method: WechatPayMethod;
  /**
   * Path with placeholders substituted and each parameter URL-encoded, e.g. `/v3/pay/partner/transactions/out-trade-no/T1`
   * (`buildPath()` does both). The transport normalises it once, as every URL parser would, and signs what it sends.
   */
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

/** The arguments of one descriptor call. */
export interface WechatPayEndpointCall<P extends string> {
  /** Path parameters (plain values: the transport encodes them). */
  params?: PathParams<P>;
  /** Query values by name; sent in the order the descriptor lists. */
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /** The key sensitive fields were encrypted for; required when the body carries one of the descriptor's sensitive fields. */
  wechatpaySerial?: string;
  /** Verify the response signature. Default true. */
  verify?: boolean;
}

/** What the transport hands to the HTTP layer: an absolute URL, exactly as signed. */
export interface HttpSendRequest {
  method: WechatPayMethod;
  url: string;
  headers: Record<string, string>;
  /** JSON text, or the bytes of a multipart upload. */
  body?: string | Buffer;
  responseType: 'buffer' | 'stream';
  /** Whole-call deadline for buffered answers; connect/inactivity timeout for streams. */
  timeoutMs: number;
}

/** What the HTTP layer answers; network failures are thrown (with a `code` such as `ECONNREFUSED` when known). */
export interface HttpSendResponse {
  status: number;
  /** Lower-case header names. */
  headers: Record<string, string>;
  body: Buffer | Readable;
}

/** The HTTP layer under the transport (axios in the Nest module; any client in other runtimes). */
export interface HttpSender {
  send(request: HttpSendRequest): Promise<HttpSendResponse>;
}

/** Verifies a response signature over the raw body (the package's `WechatPayVerifier`). */
export interface ResponseVerifier {
  verify(headers: Record<string, string>, rawBody: Buffer): Promise<unknown>;
}

/** Settings of a transport. */
export interface WechatPayTransportOptions {
  baseUrl: string;
  backupBaseUrl: string;
  timeoutMs: number;
  retry: { attempts: number; failover: boolean; baseDelayMs: number; maxDelayMs: number };
  /** Sign on the libuv threadpool instead of the event loop. */
  threadpoolSigning: boolean;
  signer: WechatPayRequestSigner;
  verifier: ResponseVerifier;
  sender: HttpSender;
  userAgent: string;
  /** The serial WeChat Pay should sign answers with (the key we can verify); sent as `Wechatpay-Serial`. */
  preferredSerial: () => string | undefined;
  logger?: { warn(message: string): void };
}

const NETWORK_TIMEOUT_CODES = new Set(['ECONNABORTED', 'ETIMEDOUT', 'ERR_CANCELED', 'ABORT_ERR', 'UND_ERR_CONNECT_TIMEOUT']);

/** A request after URL building: the absolute URLs for each host, and the signed path-and-query. */
interface PreparedRequest {
  method: WechatPayMethod;
  /** `pathname + search` exactly as signed and sent. */
  target: string;
  /** The path as the caller gave it, for messages (never the query: it may hold ids the user does not want logged). */
  label: string;
  /** The signed body: the JSON sent, or the `meta` part of an upload. */
  body: string;
  /** A multipart upload: sent instead of `body`, which is only its signed `meta` part (ecommerce spec §4.1). */
  multipart?: { bytes: Buffer; contentType: string };
  idempotent: boolean;
  serial?: string;
}

/** Orders query pairs: an object keeps its key order, an array its pair order. */
function queryPairs(query: WechatPayQuery | undefined): Array<readonly [string, string]> {
  if (!query) return [];
  if (Array.isArray(query)) return query as Array<readonly [string, string]>;
  const out: Array<readonly [string, string]> = [];
  for (const [k, v] of Object.entries(query)) if (v !== undefined) out.push([k, String(v)]);
  return out;
}

/**
 * `pathname + search` of the URL a request goes to: parsed once with the WHATWG URL parser (the one Node and axios
 * use), so that sending it again through any parser yields the same string, which is the one signed.
 */
export function requestTarget(path: string, query?: WechatPayQuery): string {
  if (!path.startsWith('/')) throw new WechatPayError(`request path must start with /, got ${JSON.stringify(path.slice(0, 40))}`);
  const url = new URL('http://wechatpay.invalid');
  url.pathname = path;
  const pairs = queryPairs(query);
  if (pairs.length) {
    const search = new URLSearchParams();
    for (const [k, v] of pairs) search.append(k, v);
    url.search = search.toString();
  }
  return url.pathname + url.search;
}

/** The framework-free signed HTTP transport of one provider account. */
export class WechatPayTransport {
  constructor(private readonly options: WechatPayTransportOptions) {}

  /** The provider's request signer (also signs client invoke parameters). */
  get signer(): WechatPayRequestSigner {
    return this.options.signer;
  }

  /** Calls a declared endpoint: path parameters encoded once, query in the declared order. */
  call<T>(endpoint: WechatPayEndpoint<string>, call: WechatPayEndpointCall<string> = {}): Promise<WechatPayResponse<T>> {
    const path = buildPath(endpoint.path, (call.params ?? {}) as Record<string, string>);
    const query: Array<readonly [string, string]> = [];
    for (const name of endpoint.query ?? []) {
      const v = call.query?.[name];
      if (v !== undefined) query.push([name, String(v)]);
    }
    for (const name of Object.keys(call.query ?? {})) {
      if (!(endpoint.query ?? []).includes(name)) throw new WechatPayError(`endpoint ${endpoint.name} has no query parameter ${name}`);
    }
    if (endpoint.sensitive?.length && call.wechatpaySerial === undefined && call.body && typeof call.body === 'object') {
      const carried = endpoint.sensitive.filter((f) => (call.body as Record<string, unknown>)[f] !== undefined);
      if (carried.length) {
        throw new WechatPayError(`endpoint ${endpoint.name}: ${carried.join(', ')} must be sent with the Wechatpay-Serial of the key they were encrypted for`);
      }
    }
    return this.request<T>({
      method: endpoint.method,
      path,
      query,
      body: call.body,
      idempotent: endpoint.idempotent,
      wechatpaySerial: call.wechatpaySerial,
      verify: endpoint.response === 'file' ? false : call.verify,
    });
  }

  /** Sends a signed JSON request and returns the verified, parsed response. */
  async request<T>(options: WechatPayRequestOptions): Promise<WechatPayResponse<T>> {
    const prepared = this.prepare(options);
    return this.verified<T>(prepared, await this.send(prepared, 'buffer'), options.verify !== false);
  }

  /**
   * Uploads a file to a declared endpoint as `multipart/form-data` (the media uploads): the signature covers the
   * `meta` string only, which is sent unchanged as the first part; the answer is verified like any JSON answer.
   */
  async upload<T>(endpoint: WechatPayEndpoint<string>, upload: WechatPayUpload): Promise<WechatPayResponse<T>> {
    const { body, contentType } = buildMultipart(upload);
    const prepared: PreparedRequest = {
      method: endpoint.method,
      target: requestTarget(buildPath(endpoint.path, {})),
      label: endpoint.path,
      body: upload.meta,
      multipart: { bytes: body, contentType },
      idempotent: endpoint.idempotent,
    };
    return this.verified<T>(prepared, await this.send(prepared, 'buffer'), true);
  }

  private async verified<T>(prepared: PreparedRequest, res: HttpSendResponse, verify: boolean): Promise<WechatPayResponse<T>> {
    const rawBody = res.body as Buffer;
    if (verify) {
      try {
        await this.options.verifier.verify(res.headers, rawBody);
      } catch (e) {
        if (e instanceof WechatPaySignatureError) {
          throw new WechatPaySignatureError(
            e.reason,
            `${prepared.method} ${prepared.label}: response signature check failed, treat the outcome as unknown and query: ${e.message}`,
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
        throw new WechatPayError(`${prepared.method} ${prepared.label}: WeChat Pay answered HTTP ${res.status} with a body that is not JSON`);
      }
    }
    return { status: res.status, data, rawBody, headers: res.headers, requestId: getHeader(res.headers, WECHATPAY_HEADERS.requestId) };
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
    const prepared: PreparedRequest = { method: 'GET', target: target.pathname + target.search, label: target.pathname, body: '', idempotent: true };
    const res = await this.send(prepared, 'stream');
    return res.body as Readable;
  }

  private prepare(options: WechatPayRequestOptions): PreparedRequest {
    const body = options.body === undefined ? '' : JSON.stringify(options.body);
    return {
      method: options.method,
      target: requestTarget(options.path, options.query),
      label: options.path,
      body,
      idempotent: options.idempotent ?? options.method === 'GET',
      serial: options.wechatpaySerial,
    };
  }

  private async send(req: PreparedRequest, responseType: 'buffer' | 'stream'): Promise<HttpSendResponse> {
    const { attempts, failover } = this.options.retry;
    const maxAttempts = req.idempotent ? attempts : 1;
    let useBackup = false;
    for (let attempt = 1; ; attempt++) {
      const base = useBackup ? this.options.backupBaseUrl : this.options.baseUrl;
      let res: HttpSendResponse;
      try {
        res = await this.once(req, base, responseType);
      } catch (e) {
        const err = this.toNetworkError(e, req, base);
        if (attempt >= maxAttempts) throw err;
        if (failover) useBackup = !useBackup;
        this.options.logger?.warn(`${err.message}; retrying (attempt ${attempt + 1}/${maxAttempts})`);
        await this.backoff(attempt);
        continue;
      }
      if (res.status >= 200 && res.status < 300) return res;
      const apiError = await this.toApiError(res, req);
      const transient = res.status >= 500 || res.status === 429;
      if (!transient || attempt >= maxAttempts) throw apiError;
      this.options.logger?.warn(`${req.method} ${req.label}: HTTP ${res.status} ${apiError.code}; retrying (attempt ${attempt + 1}/${maxAttempts})`);
      await this.backoff(attempt);
    }
  }

  private async once(req: PreparedRequest, base: string, responseType: 'buffer' | 'stream'): Promise<HttpSendResponse> {
    const { signer } = this.options;
    const authorization = this.options.threadpoolSigning
      ? await signer.authorizationAsync(req.method, req.target, req.body)
      : signer.authorization(req.method, req.target, req.body);
    const headers: Record<string, string> = {
      Accept: 'application/json',
      'Content-Type': req.multipart?.contentType ?? 'application/json',
      'User-Agent': this.options.userAgent,
      Authorization: authorization,
    };
    const serial = req.serial ?? this.options.preferredSerial();
    if (serial) headers['Wechatpay-Serial'] = serial;
    return this.options.sender.send({
      method: req.method,
      url: base + req.target,
      headers,
      body: req.multipart?.bytes ?? (req.body === '' ? undefined : req.body),
      responseType,
      timeoutMs: this.options.timeoutMs,
    });
  }

  private async toApiError(res: HttpSendResponse, req: PreparedRequest): Promise<WechatPayApiError> {
    let raw: Buffer;
    if (Buffer.isBuffer(res.body)) raw = res.body;
    else {
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of res.body) {
        const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
        size += b.length;
        if (size <= 64 * 1024) chunks.push(b);
      }
      raw = Buffer.concat(chunks);
    }
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
    return new WechatPayApiError(res.status, code, message, detail, getHeader(res.headers, WECHATPAY_HEADERS.requestId), req.method, req.label);
  }

  private toNetworkError(e: unknown, req: PreparedRequest, base: string): WechatPayError {
    if (e instanceof WechatPayError) return e;
    const err = e as { code?: unknown } | undefined;
    const rawCode = typeof err?.code === 'string' ? err.code : undefined;
    const code = rawCode ?? (e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError') ? 'ETIMEDOUT' : undefined);
    const timedOut = code !== undefined && NETWORK_TIMEOUT_CODES.has(code);
    let host = base;
    try {
      host = new URL(base).host;
    } catch {
      /* keep the configured string */
    }
    return new WechatPayNetworkError(
      timedOut
        ? `${req.method} ${req.label}: no answer from WeChat Pay (${host}) within ${this.options.timeoutMs} ms; the outcome is unknown, query before creating anything new`
        : `${req.method} ${req.label}: network error${code ? ` ${code}` : ''} talking to WeChat Pay (${host}); the outcome is unknown, query before creating anything new`,
      code,
      timedOut,
      req.method,
      req.label,
    );
  }

  private backoff(attempt: number): Promise<void> {
    const { baseDelayMs, maxDelayMs } = this.options.retry;
    const cap = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
    const delay = Math.random() * cap;
    return new Promise((resolve) => setTimeout(resolve, delay));
  }
}
