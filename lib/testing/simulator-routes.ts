/**
 * The contract between the simulator's transport and its books. A book (one per endpoint family) owns its state and
 * validation and contributes API routes, each keyed by the client's own endpoint descriptor, so that a path exists in
 * exactly one place; and `/__sim/*` tooling routes. The route table finds a route by method, then by the descriptor's
 * path matcher. Adding a family adds a book; the transport and the table stay as they are.
 */
import { isUtf8 } from 'node:buffer';
import type { IncomingHttpHeaders } from 'node:http';
import type { AuthorizationParams } from '../core/crypto/request-signer';
import { pathMatcher, pathParamNames, type PathMatcher, type WechatPayEndpoint } from '../core/http/endpoint';
import type { SimulatorCredentials } from './simulator-credentials';
import type { SimulatorMultipart } from './simulator-multipart';
import { SIMULATOR_ERRORS, SimulatorHttpError } from './simulator-errors';
import type { SimulatorKeyring, SimulatorSignWith } from './simulator-signing';

/** What an API route answers; the transport signs it (or sends the file unsigned) and applies faults. */
export interface ApiAnswer {
  status: number;
  /** Exact body ('' for 204). */
  body: string;
  /** A bill download: sent as a file, unsigned, gzipped when applied with GZIP; or an encrypted file. */
  file?: { bytes: Buffer; gzip: boolean; encrypted: boolean };
  /** The number after `-` in `Request-ID` (0 on success). */
  internalCode: number;
  code?: string;
  /** Sign with this key mode regardless of the request (certificates are signed with the newest certificate). */
  forceSignWith?: SimulatorSignWith;
}

/** An authenticated API request, as a route sees it. */
export interface SimulatorRequestContext {
  /** The verified Authorization parameters (`mchid`, `serial_no`, …). */
  auth: AuthorizationParams;
  /** Path parameters by placeholder name, percent-decoded. */
  params: Readonly<Record<string, string>>;
  query: URLSearchParams;
  /** The JSON object of a request with a body (POST); `{}` otherwise, and for a multipart route. */
  body: Record<string, unknown>;
  headers: IncomingHttpHeaders;
  /** The parts of a multipart route's body. */
  multipart?: SimulatorMultipart;
}

/** One API route: the descriptor the client calls, and what the simulator does with it. */
export interface SimulatorRoute {
  endpoint: WechatPayEndpoint;
  /**
   * The route checks the caller's mchid itself, instead of the transport's check of Authorization mchid against the
   * provider and the body's or query's sp_mchid (401). The bill download does: 403 NO_AUTH when another merchant
   * applied.
   */
  checksMchidItself?: boolean;
  /**
   * The body is `multipart/form-data` whose `meta` part is what the request signature covers (the media uploads,
   * WeChat Pay's documentation), not JSON: a signature over the whole body fails with SIGN_ERROR, as at WeChat Pay.
   */
  multipart?: boolean;
  /** Runs the call; throws `SimulatorHttpError` for an error answer. */
  handle(ctx: SimulatorRequestContext): ApiAnswer;
}

/** A `/__sim/*` request: unauthenticated test controls, not part of WeChat Pay. */
export interface ToolingRequestContext {
  query: URLSearchParams;
  /** The JSON object of a POST; `{}` for GET. */
  body: Record<string, unknown>;
}

/** What a tooling route answers (JSON, or the cashier's HTML). */
export interface ToolingAnswer {
  status: number;
  body: string;
  contentType: string;
  code?: string;
  headers?: Record<string, string>;
}

/** One `/__sim/*` route. */
export interface ToolingRoute {
  method: 'GET' | 'POST';
  path: `/__sim/${string}`;
  /** Answers; a thrown `SimulatorHttpError` becomes a JSON error answer. */
  handle(ctx: ToolingRequestContext): ToolingAnswer;
}

/** One endpoint family of the simulator: its state, validation, API routes and tooling. */
export interface SimulatorBook {
  /** The family, e.g. `orders`; used in messages. */
  readonly name: string;
  routes(): readonly SimulatorRoute[];
  tooling?(): readonly ToolingRoute[];
  /** The book's part of the `--state-file` JSON: top-level keys that no other book uses. */
  exportState?(): Record<string, unknown>;
  /** Restores the book's keys of a state saved by `exportState()` (the whole object is passed). */
  importState?(state: Readonly<Record<string, unknown>>): void;
}

/** Envelope details of a notification; by default AAD and `original_type` follow the event type (`refund`, else `transaction`). */
export interface NotificationEnvelopeOptions {
  associatedData?: string;
  originalType?: string;
}

/** What every book may use of the simulator. */
export interface SimulatorBookContext {
  /** The simulator clock (ms). */
  clock(): number;
  /** `http://host:port` of the running simulator. */
  baseUrl(): string;
  /** The live credentials (they change on certificate rotation). */
  credentials(): SimulatorCredentials;
  /** The live private keys (rebuilt on certificate rotation). */
  keyring(): SimulatorKeyring;
  /**
   * Sends a notification with WeChat's delivery rules; returns its id. `lose: true` loses it (never posted, recorded
   * as `lost`); by default the `notificationLossRate` option decides.
   */
  notify(url: string, eventType: string, resource: object, envelope?: NotificationEnvelopeOptions, lose?: boolean): string;
  /** Something changed outside a POST (a payment, a refund completing): the CLI saves its state file. */
  changed(): void;
  /** A real-time sleep that closing the simulator ends early. */
  sleep(ms: number): Promise<void>;
  /** Whether `close()` was called. */
  closed(): boolean;
}

/** Content type of every JSON answer. */
export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/** A JSON API answer. */
export function json(status: number, value: unknown, internalCode = 0): ApiAnswer {
  return { status, body: JSON.stringify(value), internalCode };
}

/** `204 No Content`. */
export function noContent(): ApiAnswer {
  return { status: 204, body: '', internalCode: 0 };
}

/** The JSON error answer of a `SimulatorHttpError`. */
export function errorAnswer(err: SimulatorHttpError): ApiAnswer {
  return { status: err.status, body: JSON.stringify(err.toBody()), internalCode: err.internalCode, code: err.code };
}

/** A JSON tooling answer. */
export function toolingJson(status: number, value: unknown, code?: string): ToolingAnswer {
  return { status, body: JSON.stringify(value), contentType: JSON_CONTENT_TYPE, ...(code ? { code } : {}) };
}

/** Parses a request body that must be a JSON object (UTF-8), as WeChat Pay requires. */
export function parseJsonObject(body: Buffer): Record<string, unknown> {
  if (!isUtf8(body)) throw new SimulatorHttpError(SIMULATOR_ERRORS.INVALID_JSON, '请求体不是合法的UTF-8 (the request body is not valid UTF-8)');
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    throw new SimulatorHttpError(SIMULATOR_ERRORS.INVALID_JSON);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new SimulatorHttpError(SIMULATOR_ERRORS.PARAM_ERROR, '参数错误: the body must be a JSON object', { field: '/', value: null, issue: 'must be an object', location: 'body' });
  }
  return value as Record<string, unknown>;
}

interface CompiledRoute {
  route: SimulatorRoute;
  matcher: PathMatcher;
  placeholders: number;
}

/** The API routes of every book, by method, then path template. */
export class SimulatorRouteTable {
  private readonly byMethod = new Map<string, CompiledRoute[]>();

  /** Throws when two routes serve the same endpoint, or the same method and template. */
  constructor(routes: Iterable<SimulatorRoute>) {
    const names = new Set<string>();
    for (const route of routes) {
      const { name, method, path } = route.endpoint;
      if (names.has(name)) throw new Error(`simulator route table: endpoint ${name} has two routes`);
      names.add(name);
      const list = this.byMethod.get(method) ?? [];
      if (list.some((r) => r.matcher.template === path)) throw new Error(`simulator route table: ${method} ${path} has two routes`);
      list.push({ route, matcher: pathMatcher(path), placeholders: pathParamNames(path).length });
      // A literal segment is more specific than a placeholder: `/refunds/id/{x}` wins over `/refunds/{a}/{b}`.
      list.sort((a, b) => a.placeholders - b.placeholders);
      this.byMethod.set(method, list);
    }
  }

  /** The route of a request and its decoded path parameters; `pathname` is raw, as received. */
  find(method: string, pathname: string): { route: SimulatorRoute; params: Record<string, string> } | undefined {
    for (const r of this.byMethod.get(method) ?? []) {
      const params = r.matcher.match(pathname);
      if (params) return { route: r.route, params };
    }
    return undefined;
  }

  /** Every endpoint served. */
  endpoints(): WechatPayEndpoint[] {
    return [...this.byMethod.values()].flat().map((r) => r.route.endpoint);
  }
}

/** The `/__sim/*` routes of every book and of the simulator itself, by method and exact path. */
export class ToolingRouteTable {
  private readonly routes = new Map<string, ToolingRoute>();

  /** Throws when two routes have the same method and path. */
  constructor(routes: Iterable<ToolingRoute>) {
    for (const route of routes) {
      const key = `${route.method} ${route.path}`;
      if (this.routes.has(key)) throw new Error(`simulator tooling: ${key} has two routes`);
      this.routes.set(key, route);
    }
  }

  /** The route of a request, if any. */
  find(method: string, pathname: string): ToolingRoute | undefined {
    return this.routes.get(`${method} ${pathname}`);
  }
}
