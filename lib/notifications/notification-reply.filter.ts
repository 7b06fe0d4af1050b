import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  HttpException,
  Injectable,
  Logger,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import {
  NOTIFICATION_FAILURES,
  WechatPayNotificationError,
  WechatPayNotificationMismatchError,
} from './wechat-pay-notification.errors';

/** The body WeChat Pay expects with a failure status. */
export interface NotificationFailureReply {
  code: 'FAIL';
  message: string;
}

/**
 * Replies to a failed notification the way WeChat Pay expects: a 4xx/5xx status with `{"code":"FAIL","message":…}`,
 * so that it retries. Reply messages are fixed per failure reason and never echo the request; details go to the log.
 */
@Catch()
@Injectable()
export class NotificationReplyFilter implements ExceptionFilter {
  private readonly logger = new Logger('WechatPayNotifications');

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    let status: number;
    let message: string;
    if (exception instanceof WechatPayNotificationError) {
      ({ status, message } = exception);
      const line = `Notification rejected with ${status} ${exception.reason}: ${message}${exception.detail ? ` (${exception.detail})` : ''}`;
      if (exception.reason === 'IN_PROGRESS') this.logger.log(line);
      else if (status >= 500) this.logger.error(line);
      else this.logger.warn(line);
    } else if (exception instanceof WechatPayNotificationMismatchError) {
      ({ status, message } = NOTIFICATION_FAILURES.ORDER_MISMATCH);
      this.logger.warn(`Notification rejected with ${status} ORDER_MISMATCH: ${exception.message}`);
    } else {
      const s = exception instanceof HttpException ? exception.getStatus() : 500;
      status = s >= 400 ? s : 500;
      message = NOTIFICATION_FAILURES.HANDLER_FAILED.message;
      this.logger.error(
        `Notification handler failed, replying ${status} so that WeChat Pay retries`,
        exception instanceof Error ? exception.stack : String(exception),
      );
    }
    const response: unknown = host.switchToHttp().getResponse();
    const body: NotificationFailureReply = { code: 'FAIL', message };
    this.adapterHost.httpAdapter.reply(response, body, status);
  }
}
