import { type ArgumentsHost, Catch, type ExceptionFilter, Logger } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import {
  WechatPayApiError,
  WechatPayError,
  WechatPayNetworkError,
  WechatPayNotificationMismatchError,
  WechatPaySignatureError,
  WechatPayValidationError,
} from 'nestjs-wechat-partner-pay';

/** What the cashier receives when WeChat Pay (or the module) says no. */
export interface ErrorReply {
  code: string;
  message: string;
  /** Validation problems, field by field. */
  problems?: ReadonlyArray<{ field: string; message: string }>;
  /** WeChat Pay's HTTP status, for API errors. */
  wechat_status?: number;
  /** Whether trying the same again may succeed. */
  retryable?: boolean;
}

/**
 * Turns the module's typed errors into JSON the cashier can show. Errors are mapped to HTTP only here, at the edge,
 * and the replies carry WeChat Pay's code and message but never requests, headers or keys.
 */
@Catch(WechatPayError)
export class WechatPayErrorFilter implements ExceptionFilter<WechatPayError> {
  private readonly logger = new Logger('WechatPay');

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(err: WechatPayError, host: ArgumentsHost): void {
    const [status, body] = toReply(err);
    this.logger.warn(err.message);
    this.adapterHost.httpAdapter.reply(host.switchToHttp().getResponse(), body, status);
  }
}

function toReply(err: WechatPayError): [number, ErrorReply] {
  if (err instanceof WechatPayValidationError)
    return [
      400,
      { code: 'INVALID_REQUEST', message: 'the request was not sent to WeChat Pay', problems: err.problems },
    ];
  if (err instanceof WechatPayApiError) {
    return [
      502,
      { code: err.code, message: err.wechatMessage, wechat_status: err.status, retryable: err.retryable },
    ];
  }
  if (err instanceof WechatPayNetworkError || err instanceof WechatPaySignatureError) {
    // The request may have been carried out: say so, and point at the query instead of ordering again.
    return [
      504,
      {
        code: err instanceof WechatPayNetworkError ? 'NETWORK' : 'SIGNATURE',
        message: 'no trustworthy answer from WeChat Pay: the outcome is unknown, use "Check payment"',
        retryable: true,
      },
    ];
  }
  if (err instanceof WechatPayNotificationMismatchError)
    return [502, { code: 'ORDER_MISMATCH', message: err.message }];
  return [500, { code: 'WECHATPAY_ERROR', message: err.message }];
}
