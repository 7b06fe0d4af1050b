/**
 * Endpoint descriptors: every WeChat Pay call is declared once (method, path template, query names, retry safety,
 * response kind, sensitive fields) and used by the client services and by the simulator's route table alike, so a
 * path exists in exactly one place.
 */
import { WechatPayValidationError } from '../errors/wechat-pay.errors';

/** HTTP methods used by WeChat Pay APIv3. */
export type WechatPayMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** The names of the `{placeholders}` of a path template, as a union of string literals. */
export type PathParamNames<P extends string> = P extends `${string}{${infer K}}${infer Rest}` ? K | PathParamNames<Rest> : never;

/** Path parameters of a template: an object with one string per placeholder (`{}` when there is none). */
export type PathParams<P extends string> = string extends P
  ? Record<string, string>
  : [PathParamNames<P>] extends [never]
    ? Record<string, never>
    : Record<PathParamNames<P>, string>;

/** One WeChat Pay API call, declared once. */
export interface WechatPayEndpoint<P extends string = string> {
  /** Stable name, `<family>.<call>`, e.g. `orders.close`; used in logs and by the simulator. */
  readonly name: string;
  readonly method: WechatPayMethod;
  /** Path template with `{name}` placeholders, e.g. `/v3/pay/partner/transactions/out-trade-no/{out_trade_no}`. */
  readonly path: P;
  /** Query parameter names, in the order they are sent (the order is part of the signed URL). */
  readonly query?: readonly string[];
  /**
   * Whether repeating the call with the identical body is safe, so that network errors, 5xx and 429 are retried.
   * Creating orders and refunds is idempotent because WeChat Pay keys them on the merchant's number.
   */
  readonly idempotent: boolean;
  /** `json` (signed JSON answer), `empty` (204), or `file` (an unsigned byte stream: the bill download). */
  readonly response: 'json' | 'empty' | 'file';
  /**
   * Body fields that carry RSA-OAEP ciphertexts: a call that sends any of them must name the key they were
   * encrypted for in `Wechatpay-Serial`.
   */
  readonly sensitive?: readonly string[];
}

/** Declares an endpoint; the literal type of `path` gives its calls typed path parameters. */
export function defineEndpoint<const P extends string>(endpoint: WechatPayEndpoint<P>): WechatPayEndpoint<P> {
  for (const name of pathParamNames(endpoint.path)) {
    if (!/^[a-z_]+$/.test(name)) throw new Error(`endpoint ${endpoint.name}: bad placeholder {${name}}`);
  }
  return Object.freeze({ ...endpoint });
}

const PLACEHOLDER = /\{([^}]+)\}/g;

/** The placeholder names of a path template, in order. */
export function pathParamNames(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)].map((m) => m[1]);
}

/**
 * Encodes one path parameter as exactly one path segment. `encodeURIComponent` leaves `!'()*~` as they are, which a
 * URL parser keeps too; `.` and `..` would be removed by every URL parser on the way (dot segments), so they are
 * refused rather than sent to another endpoint than the one signed.
 */
export function encodePathSegment(name: string, value: string): string {
  if (typeof value !== 'string' || value === '') {
    throw new WechatPayValidationError([{ field: name, message: 'is required in the URL path (a non-empty string)' }], 'request path');
  }
  if (value === '.' || value === '..') {
    throw new WechatPayValidationError([{ field: name, message: `must not be "${value}": a dot segment changes the URL path` }], 'request path');
  }
  return encodeURIComponent(value);
}

/** Substitutes and encodes the path parameters of a template. */
export function buildPath(template: string, params: Readonly<Record<string, string>>): string {
  return template.replace(PLACEHOLDER, (_, name: string) => {
    if (!(name in params)) throw new Error(`path ${template}: parameter ${name} missing`);
    return encodePathSegment(name, params[name]);
  });
}

/** A compiled template for matching received paths (the simulator's router). */
export interface PathMatcher {
  readonly template: string;
  /** The decoded path parameters when `pathname` (raw, as received) matches, else undefined. */
  match(pathname: string): Record<string, string> | undefined;
}

/** Compiles a path template into a matcher: literal segments compare exactly, placeholders take one segment. */
export function pathMatcher(template: string): PathMatcher {
  const segments = template.split('/');
  return {
    template,
    match(pathname: string): Record<string, string> | undefined {
      const parts = pathname.split('/');
      if (parts.length !== segments.length) return undefined;
      const params: Record<string, string> = {};
      for (let i = 0; i < segments.length; i++) {
        const seg = segments[i];
        const m = /^\{([^}]+)\}$/.exec(seg);
        if (!m) {
          if (seg !== parts[i]) return undefined;
          continue;
        }
        if (parts[i] === '') return undefined;
        let value: string;
        try {
          value = decodeURIComponent(parts[i]);
        } catch {
          value = parts[i];
        }
        params[m[1]] = value;
      }
      return params;
    },
  };
}
