import { WechatPayError } from '../core/errors/wechat-pay.errors';

export {
  NOTIFICATION_FAILURES,
  WechatPayNotificationError,
  type WechatPayNotificationFailure,
} from '../core/notify/notification.errors';

/** A verified notification does not match the local order ("假通知" check): the fields named differ. */
export class WechatPayNotificationMismatchError extends WechatPayError {
  constructor(public readonly fields: readonly string[]) {
    super(
      `Notification does not match the order: ${fields.join(', ')} differ${fields.length === 1 ? 's' : ''}`,
    );
  }
}
