/**
 * Framework-free types of verified notifications and of the event registry. Module options (interfaces/), the config
 * resolver and the Nest edge all import them from here, so none of them imports another.
 */
import type { AesGcmEncrypted } from '../crypto/aes-gcm';

/** Event types this package knows; any other string is accepted too (WeChat Pay adds events over time). */
export type WechatPayEventType =
  | 'TRANSACTION.SUCCESS'
  | 'REFUND.SUCCESS'
  | 'REFUND.ABNORMAL'
  | 'REFUND.CLOSED'
  | (string & NonNullable<unknown>);

/** The unencrypted part of a notification, as given to `@NotificationEnvelope()`. */
export interface WechatPayNotificationEnvelope {
  /** Unique notification id (a UUID in real traffic). */
  id: string;
  /** RFC 3339, e.g. `2023-10-11T22:40:46+08:00`. */
  create_time: string;
  event_type: WechatPayEventType;
  /** `encrypt-resource`. */
  resource_type: string;
  /** e.g. `支付成功`. */
  summary: string;
}

/** The notification body as sent on the wire, before decryption. */
export interface WechatPayNotificationBody extends WechatPayNotificationEnvelope {
  resource: AesGcmEncrypted & { original_type?: string };
}

/** A verified, decrypted and validated notification. */
export interface ParsedWechatPayNotification<R extends object = Record<string, unknown>> {
  envelope: WechatPayNotificationEnvelope;
  resource: R;
  /** `name` of the registry entry that recognised the resource, e.g. `partner-transaction`. */
  kind: string;
}

/** Computes the exactly-once key of a notification. */
export type NotificationDedupeKeyFn = (notification: ParsedWechatPayNotification) => string;

/** A DTO class with a no-argument constructor (class-validator / class-transformer decorators on its fields). */
export type NotificationResourceClass<T extends object = object> = new () => T;

/**
 * One kind of notification resource: how to recognise it, which class validates it, and its exactly-once key.
 * Each endpoint family contributes its entries (`orders.events.ts`, `refunds.events.ts`); users add their own with
 * the module option `notifications.events`.
 */
export interface NotificationEventEntry<R extends object = object> {
  /** Unique name, used by routes to say what they accept (`@WechatPayNotification({ resources: [name] })`). */
  name: string;
  /**
   * Whether a decrypted resource is of this kind. Called after decryption, before validation: look at the shape
   * (which fields are present), not at the values, so that a malformed resource of this kind still reaches
   * validation and is rejected as `INVALID_RESOURCE`.
   *
   * @param eventType the envelope's `event_type`
   * @param originalType the envelope's `resource.original_type` (`transaction`, `refund`, `profitsharing`, …)
   * @param plain the decrypted resource (parsed JSON object)
   */
  match(eventType: string, originalType: string | undefined, plain: Readonly<Record<string, unknown>>): boolean;
  /** Class the resource is turned into and validated with; without it the handler gets the plain decrypted object. */
  resourceClass?: NotificationResourceClass<R>;
  /** The default exactly-once key of this kind. Must be non-empty and the same for every delivery of one event. */
  dedupeKey(notification: ParsedWechatPayNotification<R>): string;
  /**
   * Whether the resource must carry `sp_mchid` equal to the configured `spMchid` (checked whenever the field is
   * present anyway). Default false.
   */
  requireSpMchid?: boolean;
  /**
   * Whether `@WechatPayNotification()` routes that list no `resources` accept this kind. Default false: a route
   * only gets a kind it asked for, so registering a new kind never reaches an existing handler. The package's own
   * partner transaction and refund kinds are the only built-in defaults, and new built-in kinds will not be.
   */
  acceptedByDefault?: boolean;
}
