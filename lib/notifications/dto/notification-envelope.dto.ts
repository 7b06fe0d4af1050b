export type {
  WechatPayEventType,
  WechatPayNotificationBody,
  WechatPayNotificationEnvelope,
} from '../../core/notify/notification.types';
