import type { NotificationDedupeKeyFn, WechatPayEventType } from '../core/notify/notification.types';

/**
 * Options of one `@WechatPayNotification()` route, kept as route metadata under `NOTIFICATION_ROUTE_OPTIONS`
 * (`eventTypes` always set, possibly empty).
 */
export interface WechatPayNotificationRouteOptions {
  /** Accepted event types (exact, or `PREFIX.*`); others are rejected with 400. Default: all. */
  eventTypes?: WechatPayEventType[];
  /**
   * Accepted resource kinds: names of notification registry entries (`partner-transaction`, `partner-refund`, or
   * one of your `notifications.events`); others are rejected with 400 `RESOURCE_KIND_NOT_ALLOWED`. Default: the
   * kinds with `acceptedByDefault` (the built-in partner transaction and refund), so that a kind registered later
   * (combine payment, profit sharing) never reaches a handler written for another.
   */
  resources?: string[];
  /** Exactly-once handling through the module's dedupe store. Default true. */
  dedupe?: boolean;
  /**
   * Overrides the dedupe key of this route (default: the module's `notifications.dedupeKey`, else the key of the
   * resource kind: `event_type:sp_mchid:sub_mchid:transaction_id`, refunds `out_refund_no`).
   */
  dedupeKey?: NotificationDedupeKeyFn;
}
