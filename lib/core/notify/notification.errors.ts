import { WechatPayError } from '../errors/wechat-pay.errors';

/** Why a notification was not accepted. Each reason has a fixed HTTP status and a fixed public message. */
export type WechatPayNotificationFailure =
  | 'BODY_TOO_LARGE'
  | 'RAW_BODY_MISSING'
  | 'UNSUPPORTED_CONTENT_TYPE'
  | 'MISSING_HEADER'
  | 'INVALID_TIMESTAMP'
  | 'TIMESTAMP_OUT_OF_WINDOW'
  | 'UNKNOWN_SERIAL'
  | 'UNSUPPORTED_SIGNATURE_TYPE'
  | 'BAD_SIGNATURE'
  | 'INVALID_JSON'
  | 'INVALID_ENVELOPE'
  | 'UNSUPPORTED_ALGORITHM'
  | 'DECRYPTION_FAILED'
  | 'SP_MCHID_MISMATCH'
  | 'UNKNOWN_RESOURCE_SHAPE'
  | 'INVALID_RESOURCE'
  | 'EVENT_TYPE_NOT_ALLOWED'
  | 'RESOURCE_KIND_NOT_ALLOWED'
  | 'IN_PROGRESS'
  | 'DEDUPE_STORE_FAILED'
  | 'DEDUPE_KEY_FAILED'
  | 'HANDLER_FAILED'
  | 'ORDER_MISMATCH';

/** HTTP status and public reply message of each failure. Messages never contain request data. */
export const NOTIFICATION_FAILURES: Readonly<
  Record<WechatPayNotificationFailure, { status: number; message: string }>
> = {
  BODY_TOO_LARGE: { status: 413, message: 'notification body is larger than notifications.maxBodyBytes' },
  RAW_BODY_MISSING: {
    status: 500,
    message: 'raw request body unavailable: the app must be created with { rawBody: true }',
  },
  UNSUPPORTED_CONTENT_TYPE: { status: 415, message: 'notification Content-Type must be application/json' },
  MISSING_HEADER: { status: 400, message: 'missing Wechatpay-* signature header' },
  INVALID_TIMESTAMP: { status: 400, message: 'Wechatpay-Timestamp is not a number of seconds' },
  TIMESTAMP_OUT_OF_WINDOW: { status: 401, message: 'Wechatpay-Timestamp is outside the accepted window' },
  UNKNOWN_SERIAL: { status: 401, message: 'Wechatpay-Serial matches no configured platform key' },
  UNSUPPORTED_SIGNATURE_TYPE: { status: 400, message: 'unsupported Wechatpay-Signature-Type' },
  BAD_SIGNATURE: { status: 401, message: 'signature verification failed' },
  INVALID_JSON: { status: 400, message: 'notification body is not JSON' },
  INVALID_ENVELOPE: { status: 400, message: 'notification body is not a WeChat Pay notification envelope' },
  UNSUPPORTED_ALGORITHM: { status: 400, message: 'resource.algorithm must be AEAD_AES_256_GCM' },
  DECRYPTION_FAILED: { status: 500, message: 'resource decryption failed (check the APIv3 key)' },
  SP_MCHID_MISMATCH: { status: 400, message: 'notification is for another service provider (sp_mchid)' },
  UNKNOWN_RESOURCE_SHAPE: {
    status: 400,
    message: 'decrypted resource is of no registered notification kind (see notifications.events)',
  },
  INVALID_RESOURCE: { status: 400, message: 'decrypted resource failed validation' },
  EVENT_TYPE_NOT_ALLOWED: { status: 400, message: 'event type not handled by this route' },
  RESOURCE_KIND_NOT_ALLOWED: { status: 400, message: 'notification resource kind not handled by this route' },
  IN_PROGRESS: { status: 503, message: 'notification is being processed by another delivery; retry later' },
  DEDUPE_STORE_FAILED: { status: 503, message: 'notification dedupe store unavailable; retry later' },
  DEDUPE_KEY_FAILED: { status: 500, message: 'notification dedupe key could not be computed (check dedupeKey)' },
  HANDLER_FAILED: { status: 500, message: 'notification handler failed' },
  ORDER_MISMATCH: { status: 400, message: 'notification does not match the order' },
};

/**
 * A notification was rejected. `status` is the HTTP status to reply with; `message` is safe to send back (it never
 * contains headers, body, keys or decrypted content); `detail` is for logs only (names fields, never values).
 */
export class WechatPayNotificationError extends WechatPayError {
  /** HTTP status to reply with (4xx or 5xx: WeChat Pay retries either). */
  readonly status: number;

  constructor(
    public readonly reason: WechatPayNotificationFailure,
    public readonly detail?: string,
    options?: { cause?: unknown },
  ) {
    super(NOTIFICATION_FAILURES[reason].message, options);
    this.status = NOTIFICATION_FAILURES[reason].status;
  }
}

/** Why the runner could not run the handler. */
export type ExactlyOnceFailure = 'STORE_FAILED' | 'IN_PROGRESS';

/** The runner could not run the handler: the store failed or timed out, or another delivery holds the key. */
export class WechatPayExactlyOnceError extends WechatPayError {
  constructor(
    public readonly reason: ExactlyOnceFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A verified notification does not match the local order ("假通知" check): the fields named differ. */
export class WechatPayNotificationMismatchError extends WechatPayError {
  constructor(public readonly fields: readonly string[]) {
    super(`Notification does not match the order: ${fields.join(', ')} differ${fields.length === 1 ? 's' : ''}`);
  }
}
