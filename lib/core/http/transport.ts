/**
 * The WeChat Pay transport, free of any framework: build the URL once → sign exactly its path and query → send exactly
 * it → verify the raw answer → parse, or a typed error. Retries (idempotent calls only), timeouts and failover to the
 * backup host live here. The bytes go through an `HttpSender`, which the Nest module implements over `@nestjs/axios`.
 */
import { Readable } from 'node:stream';
import { getHeader, WECHATPAY_HEADERS } from '../crypto/headers';
import type { WechatPayRequestSigner } from '../crypto/request-signer';
import {
  WechatPayApiError,
  type WechatPayErrorDetail,
  WechatPayError,
  WechatPayNetworkError,
  WechatPayResponseTooLargeError,
  WechatPaySignatureError,
} from '../errors/wechat-pay.errors';
import { buildPath, type PathParams, type WechatPayEndpoint, type WechatPayMethod } from './endpoint';
import { capErrorDetail, capText, errorFieldsOf, IdleTimeout, readCapped, retryAfterMs } from './bounded-io';
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
  /**
   * The transport asks for `'stream'` and reads the body itself, within its limits (size, deadline, idle time).
   * A sender that can only buffer may answer a Buffer; its size is checked after the fact.
   */
  responseType: 'buffer' | 'stream';
  /** Deadline until the response headers; the transport bounds the body itself. */
  timeoutMs: number;
  /** Aborted when the transport gives up (deadline, idle body, size limit): the sender must end the request. */
  signal?: AbortSignal;
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
  /** Longest silence while a download body streams. Default `timeoutMs`. */
  streamIdleTimeoutMs?: number;
  /** Largest JSON answer read (success or error). Default 4 MiB. */
  maxResponseBytes?: number;
  retry: { attempts: number; failover: boolean; baseDelayMs: number; maxDelayMs: number; maxRetryAfterMs?: number };
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
  /** A multipart upload: sent instead of `body`, which is only its signed `meta` part. */
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
    // Nothing below (verification, parsing) runs on more than maxResponseBytes: send() stopped reading there.
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

  /** Default 4 MiB. */
  private get maxResponseBytes(): number {
    return this.options.maxResponseBytes ?? 4 * 1024 * 1024;
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

  /**
   * Sends with retries. `'buffer'`: resolves with the whole body, read within `timeoutMs` and `maxResponseBytes`.
   * `'stream'`: resolves at the headers (within `timeoutMs`) with a body that errors with a `WechatPayNetworkError`
   * when it stays silent for `streamIdleTimeoutMs` or the connection fails mid-body.
   */
  private async send(req: PreparedRequest, mode: 'buffer' | 'stream'): Promise<HttpSendResponse> {
    const { attempts, failover } = this.options.retry;
    const maxAttempts = req.idempotent ? attempts : 1;
    let useBackup = false;
    for (let attempt = 1; ; attempt++) {
      const base = useBackup ? this.options.backupBaseUrl : this.options.baseUrl;
      let res: HttpSendResponse;
      try {
        res = await this.once(req, base, mode);
      } catch (e) {
        const err = this.toNetworkError(e, req, base);
        if (!(err instanceof WechatPayNetworkError) || attempt >= maxAttempts) throw err;
        if (failover) useBackup = !useBackup;
        this.options.logger?.warn(`${err.message}; retrying (attempt ${attempt + 1}/${maxAttempts})`);
        await sleep(this.backoffDelay(attempt));
        continue;
      }
      if (res.status >= 200 && res.status < 300) return res;
      const transient = res.status >= 500 || res.status === 429;
      const wait = transient ? retryAfterMs(getHeader(res.headers, 'retry-after'), Date.now()) : undefined;
      const maxWait = this.options.retry.maxRetryAfterMs ?? 5000;
      const giveUp = !transient || attempt >= maxAttempts || (wait !== undefined && wait > maxWait);
      const apiError = await this.toApiError(res, req, giveUp ? wait : undefined);
      if (giveUp) throw apiError;
      this.options.logger?.warn(
        `${req.method} ${req.label}: HTTP ${res.status} ${apiError.code}; retrying` +
          (wait === undefined ? '' : ` after ${wait} ms (Retry-After)`) +
          ` (attempt ${attempt + 1}/${maxAttempts})`,
      );
      await sleep(wait ?? this.backoffDelay(attempt));
    }
  }

  /** One attempt: headers within `timeoutMs`, then the body bounded as `send()` describes. */
  private async once(req: PreparedRequest, base: string, mode: 'buffer' | 'stream'): Promise<HttpSendResponse> {
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
    const abort = new AbortController();
    let timedOut = false;
    const deadline = setTimeout(() => {
      timedOut = true;
      abort.abort();
    }, this.options.timeoutMs);
    let res: HttpSendResponse;
    try {
      res = await this.options.sender.send({
        method: req.method,
        url: base + req.target,
        headers,
        body: req.multipart?.bytes ?? (req.body === '' ? undefined : req.body),
        responseType: 'stream',
        timeoutMs: this.options.timeoutMs,
        signal: abort.signal,
      });
    } catch (e) {
      clearTimeout(deadline);
      throw timedOut ? timeoutError() : e;
    }
    const ok = res.status >= 200 && res.status < 300;
    if (mode === 'stream' && ok) {
      clearTimeout(deadline);
      return { ...res, body: this.guardStream(res.body, req, base, abort) };
    }
    // JSON answers and error answers: read whole, within the deadline and the size limit.
    const limit = this.maxResponseBytes;
    try {
      const declared = Number(getHeader(res.headers, 'content-length'));
      if (ok && Number.isFinite(declared) && declared > limit) {
        throw new WechatPayResponseTooLargeError(limit, req.method, req.label, 'maxResponseBytes', declared);
      }
      const body = await readCapped(res.body, limit, ok);
      if (body === undefined) throw new WechatPayResponseTooLargeError(limit, req.method, req.label);
      return { ...res, body };
    } catch (e) {
      abort.abort();
      if (!Buffer.isBuffer(res.body)) res.body.destroy();
      throw timedOut ? timeoutError() : e;
    } finally {
      clearTimeout(deadline);
    }
  }

  /** The download body, failing with a typed error when silent for too long or cut mid-way. */
  private guardStream(body: Buffer | Readable, req: PreparedRequest, base: string, abort: AbortController): Readable {
    const source = Buffer.isBuffer(body) ? Readable.from([body]) : body;
    const idleMs = this.options.streamIdleTimeoutMs ?? this.options.timeoutMs;
    const host = hostOf(base);
    const guard = new IdleTimeout(
      idleMs,
      () =>
        new WechatPayNetworkError(
          `${req.method} ${req.label}: no data from WeChat Pay (${host}) for ${idleMs} ms while downloading ` +
            '(streamIdleTimeoutMs); download again',
          'ETIMEDOUT',
          true,
          req.method,
          req.label,
        ),
    );
    // Registered first, so that the consumer sees the typed error rather than the socket's own.
    source.once('error', (e) => guard.destroy(this.toNetworkError(e, req, base)));
    guard.once('close', () => {
      if (!source.destroyed) source.destroy();
      abort.abort();
    });
    source.pipe(guard);
    return guard;
  }

  private async toApiError(res: HttpSendResponse, req: PreparedRequest, retryAfter: number | undefined): Promise<WechatPayApiError> {
    // once() read it already: at most maxResponseBytes, a longer one is cut there (and `message`/`detail` capped).
    const raw = Buffer.isBuffer(res.body) ? res.body : Buffer.alloc(0);
    let code = `HTTP_${res.status}`;
    let message = 'WeChat Pay returned an error without a JSON body';
    let detail: WechatPayErrorDetail | undefined;
    try {
      const parsed = JSON.parse(raw.toString('utf8')) as { code?: unknown; message?: unknown; detail?: unknown };
      if (typeof parsed.code === 'string') code = capText(parsed.code, 64);
      if (typeof parsed.message === 'string') message = capText(parsed.message);
      if (parsed.detail && typeof parsed.detail === 'object') detail = capErrorDetail(parsed.detail as Record<string, unknown>);
    } catch {
      // An error answer longer than maxResponseBytes was cut, so it is not JSON any more: its code and the start of
      // its message are still readable.
      const found = errorFieldsOf(raw.toString('utf8'));
      if (found.code) code = found.code;
      if (found.message) message = found.message;
    }
    const requestId = getHeader(res.headers, WECHATPAY_HEADERS.requestId);
    return new WechatPayApiError(res.status, code, message, detail, requestId && capText(requestId, 128), req.method, req.label, retryAfter);
  }

  private toNetworkError(e: unknown, req: PreparedRequest, base: string): WechatPayError {
    if (e instanceof WechatPayError) return e;
    const err = e as { code?: unknown } | undefined;
    const rawCode = typeof err?.code === 'string' ? err.code : undefined;
    const code = rawCode ?? (e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError') ? 'ETIMEDOUT' : undefined);
    const timedOut = code !== undefined && NETWORK_TIMEOUT_CODES.has(code);
    const host = hostOf(base);
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

  /** Exponential backoff with full jitter. */
  private backoffDelay(attempt: number): number {
    const { baseDelayMs, maxDelayMs } = this.options.retry;
    return Math.random() * Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** What the transport's own deadline throws; `toNetworkError` turns it into a timed-out `WechatPayNetworkError`. */
function timeoutError(): Error {
  return Object.assign(new Error('deadline exceeded'), { code: 'ETIMEDOUT' });
}

function hostOf(base: string): string {
  try {
    return new URL(base).host;
  } catch {
    return base;
  }
}
