/**
 * Every error this package throws. Messages never contain key material, Authorization headers,
 * request bodies or decrypted notification contents: they name what is wrong and how to fix it.
 */

/** Base class of every error thrown by nestjs-wechat-partner-pay. */
export class WechatPayError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Module options are invalid; `problems` lists every problem found at boot. */
export class WechatPayConfigError extends WechatPayError {
  constructor(public readonly problems: readonly string[]) {
    super(
      `Invalid WechatPartnerPayModule options (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        problems.map((p) => `  - ${p}`).join('\n'),
    );
  }
}

/** One problem with one field of a request, found before anything was sent. */
export interface WechatPayFieldProblem {
  /** JSON-pointer-like path of the field, e.g. `amount.total`. */
  field: string;
  /** What is wrong and how to fix it. */
  message: string;
}

/** A request failed client-side validation; nothing was sent to WeChat Pay. */
export class WechatPayValidationError extends WechatPayError {
  constructor(
    public readonly problems: readonly WechatPayFieldProblem[],
    what = 'request',
  ) {
    super(
      `Invalid WeChat Pay ${what} (${problems.length} problem${problems.length === 1 ? '' : 's'}), nothing was sent:\n` +
        problems.map((p) => `  - ${p.field}: ${p.message}`).join('\n'),
    );
  }
}

/** The `detail` object WeChat Pay attaches to parameter errors. */
export interface WechatPayErrorDetail {
  field?: string;
  value?: unknown;
  issue?: string;
  location?: string;
  [key: string]: unknown;
}

/** Codes that WeChat Pay documents as safe to retry with identical parameters. */
const RETRYABLE_CODES = new Set([
  'SYSTEM_ERROR',
  'SYSTEMERROR',
  'BANKERROR',
  'BANK_ERROR',
  'FREQUENCY_LIMITED',
  'RATE_LIMITED',
  'STATEMENT_CREATING',
]);

/** WeChat Pay answered with a non-2xx status. */
export class WechatPayApiError extends WechatPayError {
  /** Whether the same request may succeed later (5xx, 429, SYSTEM_ERROR, STATEMENT_CREATING, ...). */
  public readonly retryable: boolean;
  /** The original message from WeChat Pay, without our prefix. */
  public readonly wechatMessage: string;

  constructor(
    public readonly status: number,
    public readonly code: string,
    message: string,
    public readonly detail: WechatPayErrorDetail | undefined,
    public readonly requestId: string | undefined,
    public readonly method: string,
    public readonly path: string,
    /**
     * What WeChat Pay's `Retry-After` header asked for, in ms, when it sent one (429, 503). Set when the wait was
     * beyond `retry.maxRetryAfterMs` or no attempt was left: wait at least this long before calling again.
     */
    public readonly retryAfterMs?: number,
  ) {
    super(
      `WeChat Pay ${method} ${path} failed: HTTP ${status} ${code}: ${message}${requestId ? ` (Request-ID ${requestId})` : ''}` +
        (retryAfterMs === undefined ? '' : `; WeChat Pay asks to retry after ${Math.ceil(retryAfterMs / 1000)} s`),
    );
    this.retryable = status >= 500 || status === 429 || RETRYABLE_CODES.has(code);
    this.wechatMessage = message;
  }
}

/**
 * An answer was larger than allowed (`maxResponseBytes` for JSON answers, `bills.maxEncryptedFileBytes` for an
 * encrypted bill file): reading stopped at the limit and the connection was closed, nothing was parsed or verified.
 */
export class WechatPayResponseTooLargeError extends WechatPayError {
  constructor(
    /** The limit in bytes. */
    public readonly limit: number,
    public readonly method: string,
    public readonly path: string,
    /** The option that sets the limit, named in the message. */
    option = 'maxResponseBytes',
    /** The declared Content-Length, when that is what exceeded the limit. */
    declared?: number,
  ) {
    super(
      `WeChat Pay ${method} ${path}: the answer is larger than ${option} (${limit} bytes)` +
        (declared === undefined ? '' : `: Content-Length ${declared}`) +
        `; reading stopped there. Raise ${option} if such answers are expected`,
    );
  }

  /** The same request would get the same answer. */
  readonly retryable = false;
}

/** Why a signature check failed. */
export type WechatPaySignatureFailure =
  | 'MISSING_HEADER'
  | 'INVALID_TIMESTAMP'
  | 'TIMESTAMP_OUT_OF_WINDOW'
  | 'UNKNOWN_SERIAL'
  | 'UNSUPPORTED_SIGNATURE_TYPE'
  | 'BAD_SIGNATURE';

/** A response or notification failed signature verification. Treat the outcome of the call as unknown. */
export class WechatPaySignatureError extends WechatPayError {
  constructor(
    public readonly reason: WechatPaySignatureFailure,
    message: string,
  ) {
    super(message);
  }
}

/** AES-256-GCM decryption failed: almost always a wrong APIv3 key, or a tampered resource. */
export class WechatPayDecryptionError extends WechatPayError {}

/** The network failed (connection refused or reset, DNS, timeout). The outcome of a write is unknown. */
export class WechatPayNetworkError extends WechatPayError {
  constructor(
    message: string,
    public readonly code: string | undefined,
    public readonly timedOut: boolean,
    public readonly method: string,
    public readonly path: string,
  ) {
    super(message);
  }

  /** Network failures may succeed when repeated with identical parameters. */
  readonly retryable = true;
}

/**
 * A method of one product's endpoint family was called under the other `product` (e.g. `returnAdvance()` under
 * `'partner'`); nothing was sent. WeChat Pay rejects such calls too ("非电商商户暂不支持调用此API").
 */
export class WechatPayProductMismatchError extends WechatPayError {
  constructor(
    /** The call, e.g. `refunds.returnAdvance`. */
    public readonly call: string,
    /** The product the call belongs to. */
    public readonly requiredProduct: 'ecommerce' | 'partner',
    /** The module's `product` option. */
    public readonly configuredProduct: 'ecommerce' | 'partner',
  ) {
    super(
      `${call} exists only for product '${requiredProduct}' (${requiredProduct === 'ecommerce' ? '电商平台 / 平台收付通' : '普通服务商'}), ` +
        `but the module is configured with product '${configuredProduct}'; nothing was sent. ` +
        `If the provider account really is ${requiredProduct === 'ecommerce' ? 'an ecommerce platform' : 'an ordinary service provider'}, set product: '${requiredProduct}'.`,
    );
  }
}
