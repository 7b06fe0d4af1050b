export * from './assert-notification-matches-order';
export * from './dedupe';
export * from './dto';
export * from './notification-reply.filter';
export * from './notification-resource.decorator';
export * from './notification-route-options';
export * from './wechat-pay-notification.decorator';
export * from './wechat-pay-notification.errors';
export * from './wechat-pay-notification.guard';
export * from './wechat-pay-notification.interceptor';
export { WechatPayNotificationService } from './wechat-pay-notification.service';
export type {
  HandleOnceOptions,
  HandleOnceResult,
  WechatPayNotificationResource,
} from './wechat-pay-notification.service';
export { BUILT_IN_NOTIFICATION_EVENTS } from './notification-events';
export { eventTypeMatches } from '../core/notify/event-type';
export { defineNotificationEvent, NotificationEventRegistry } from '../core/notify/notification-event-registry';
export type { ParseNotificationOptions } from '../core/notify/notification-parser';
export type {
  NotificationDedupeKeyFn,
  NotificationEventEntry,
  NotificationResourceClass,
  ParsedWechatPayNotification,
} from '../core/notify/notification.types';
