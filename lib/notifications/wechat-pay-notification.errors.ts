/** The notification errors live in lib/core/notify/notification.errors.ts (one file for the domain); re-exported for the Nest edge. */
export {
  NOTIFICATION_FAILURES,
  WechatPayNotificationError,
  WechatPayNotificationMismatchError,
  type WechatPayNotificationFailure,
} from '../core/notify/notification.errors';
