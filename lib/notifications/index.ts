export * from './assert-notification-matches-order';
export * from './dedupe';
export * from './dto';
export * from './notification-reply.filter';
export * from './notification-resource.decorator';
export * from './wechat-pay-notification.decorator';
export * from './wechat-pay-notification.errors';
export * from './wechat-pay-notification.guard';
export { eventTypeMatches, WechatPayNotificationService } from './wechat-pay-notification.service';
export type {
  HandleOnceOptions,
  HandleOnceResult,
  NotificationDedupeKeyFn,
  ParseNotificationOptions,
  ParsedWechatPayNotification,
  WechatPayNotificationResource,
} from './wechat-pay-notification.service';
