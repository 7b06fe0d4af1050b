import type { AesGcmEncrypted } from '../../core/crypto/aes-gcm';

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
