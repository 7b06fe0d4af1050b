import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  HttpStatus,
  Injectable,
  Logger,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import {
  WechatPayApiError,
  WechatPayConfigError,
  WechatPayError,
  type WechatPayFieldProblem,
  WechatPayNetworkError,
  WechatPaySignatureError,
  WechatPayValidationError,
} from '../core/errors/wechat-pay.errors';

/** The JSON body `WechatPayExceptionFilter` replies with (Nest's `{ statusCode, message, error }` plus details). */
export interface WechatPayErrorResponseBody {
  statusCode: number;
  /** A fixed sentence per kind of failure; never a request value, key or header. */
  message: string;
  /** The HTTP reason phrase, e.g. `Bad Request`. */
  error: string;
  /** WeChat Pay's error code (`ORDER_NOT_EXIST`), or this package's kind of failure (`VALIDATION_FAILED`). */
  code: string;
  /** Whether the same request may succeed later. */
  retryable: boolean;
  /** Client-side validation problems: field paths and what is wrong, nothing was sent. */
  problems?: WechatPayFieldProblem[];
  /** The parameter WeChat Pay named in its error detail (the name only). */
  field?: string;
  /** WeChat Pay's `Request-ID`, for WeChat Pay support. */
  requestId?: string;
}

/** What one exception becomes: status, body, and extra headers. */
export interface WechatPayErrorReply {
  status: number;
  body: WechatPayErrorResponseBody;
  headers?: Record<string, string>;
}

/** WeChat Pay codes for a request that conflicts with the state of an order or refund. */
const CONFLICT_CODES = new Set([
  'ORDER_PAID',
  'ORDERPAID',
  'ORDER_CLOSED',
  'ORDERCLOSED',
  'OUT_TRADE_NO_USED',
  'USERPAYING',
  'TRADE_ERROR',
  'NOT_ENOUGH',
  'ORDER_NOT_ALLOW_REFUND',
  'REFUND_NOT_ALLOWED',
  'INVALID_REFUND_STATUS',
]);

/** WeChat Pay codes that blame this server's credentials or merchant relations, never the caller's input. */
const SERVER_SIDE_CODES = new Set([
  'SIGN_ERROR',
  'NO_AUTH',
  'APPID_MCHID_NOT_MATCH',
  'MCH_NOT_EXISTS',
  'MCHID_NOT_MATCH',
  'INVALID_REQUEST',
]);

const REASON: Record<number, string> = {
  400: 'Bad Request',
  404: 'Not Found',
  409: 'Conflict',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

function body(
  status: number,
  code: string,
  message: string,
  retryable: boolean,
  extra: Partial<WechatPayErrorResponseBody> = {},
): WechatPayErrorResponseBody {
  return { statusCode: status, message, error: REASON[status] ?? 'Error', code, retryable, ...extra };
}

/**
 * Turns this package's errors, thrown from your own routes, into HTTP answers instead of 500 "Internal server error":
 * validation problems → 400 with the problems; WeChat Pay's answers by meaning (404 for an unknown order, 409 for a
 * conflicting order state, 400 for parameters WeChat Pay rejected, 502 for this server's credentials or merchant
 * setup, 503 when retryable); network failures → 504 (timeout) or 503; configuration and other errors → 500. Bodies
 * never carry keys, headers, request values or WeChat Pay's free-text message; the server log has the details.
 * Works on Express and Fastify (replies through the HTTP adapter). Register it with `app.useGlobalFilters()`,
 * `APP_FILTER` or `@UseFilters()`; override `toReply()` to change a mapping.
 */
@Catch(WechatPayError)
@Injectable()
export class WechatPayExceptionFilter implements ExceptionFilter<WechatPayError> {
  private readonly logger = new Logger('WechatPayExceptionFilter');

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(exception: WechatPayError, host: ArgumentsHost): void {
    // Only HTTP has a status to map to; other transports keep their own error handling.
    if (host.getType() !== 'http') throw exception;
    const reply = this.toReply(exception);
    const line = `${reply.status} ${reply.body.code}: ${exception.message}`;
    if (reply.status >= 500) this.logger.error(line);
    else this.logger.warn(line);
    const adapter = this.adapterHost.httpAdapter;
    const response: unknown = host.switchToHttp().getResponse();
    for (const [name, value] of Object.entries(reply.headers ?? {})) adapter.setHeader(response, name, value);
    adapter.reply(response, reply.body, reply.status);
  }

  /** The HTTP answer for one error. */
  protected toReply(e: WechatPayError): WechatPayErrorReply {
    if (e instanceof WechatPayValidationError) {
      const problems = e.problems.map(({ field, message }) => ({ field, message }));
      return {
        status: 400,
        body: body(400, 'VALIDATION_FAILED', 'Invalid WeChat Pay request, nothing was sent', false, {
          problems,
        }),
      };
    }
    if (e instanceof WechatPayApiError) return this.apiErrorReply(e);
    if (e instanceof WechatPayNetworkError) {
      return e.timedOut
        ? {
            status: 504,
            body: body(
              504,
              'WECHATPAY_TIMEOUT',
              'WeChat Pay did not answer in time; the outcome is unknown',
              true,
            ),
          }
        : {
            status: 503,
            body: body(
              503,
              'WECHATPAY_UNREACHABLE',
              'WeChat Pay could not be reached; the outcome is unknown',
              true,
            ),
          };
    }
    if (e instanceof WechatPaySignatureError) {
      return {
        status: 502,
        body: body(
          502,
          'WECHATPAY_BAD_SIGNATURE',
          "WeChat Pay's answer failed signature verification; the outcome is unknown",
          false,
        ),
      };
    }
    if (e instanceof WechatPayConfigError) {
      return {
        status: 500,
        body: body(
          500,
          'WECHATPAY_MISCONFIGURED',
          'WeChat Pay is not configured correctly on this server',
          false,
        ),
      };
    }
    return {
      status: HttpStatus.INTERNAL_SERVER_ERROR,
      body: body(500, 'WECHATPAY_ERROR', 'WeChat Pay request failed', false),
    };
  }

  private apiErrorReply(e: WechatPayApiError): WechatPayErrorReply {
    const extra = { requestId: e.requestId };
    if (e.retryable) {
      return {
        status: 503,
        body: body(503, e.code, 'WeChat Pay is temporarily unavailable; retry later', true, extra),
      };
    }
    if (e.status === 404)
      return { status: 404, body: body(404, e.code, 'Not found at WeChat Pay', false, extra) };
    if (CONFLICT_CODES.has(e.code) || e.status === 409) {
      return {
        status: 409,
        body: body(
          409,
          e.code,
          'The request conflicts with the state of the order at WeChat Pay',
          false,
          extra,
        ),
      };
    }
    if (e.status === 400 && !SERVER_SIDE_CODES.has(e.code)) {
      const field = typeof e.detail?.field === 'string' ? e.detail.field.slice(0, 100) : undefined;
      return {
        status: 400,
        body: body(400, e.code, 'WeChat Pay rejected the request parameters', false, { ...extra, field }),
      };
    }
    // 401, 403 and the rest: this server's credentials or merchant setup, nothing the caller can change.
    return { status: 502, body: body(502, e.code, 'WeChat Pay refused the request', false, extra) };
  }
}
