/**
 * Genuinely signed and encrypted WeChat Pay notifications for unit tests of notification handlers (like Stripe's
 * `generateTestHeaderString`): the same bytes the simulator posts, built with the core's AES-256-GCM and RSA code.
 */
import { type KeyObject, randomUUID } from 'node:crypto';
import { aesGcmEncrypt } from '../core/crypto/aes-gcm';
import { loadPrivateKey } from '../core/crypto/keys';
import { generateNonce } from '../core/crypto/nonce';
import { formatBeijingRfc3339 } from '../core/time';
import { signMessageHeaders } from './simulator-signing';

/** `summary` WeChat Pay puts on each event type. */
const SUMMARIES: Record<string, string> = {
  'TRANSACTION.SUCCESS': '支付成功',
  'REFUND.SUCCESS': '退款成功',
  'REFUND.ABNORMAL': '退款异常',
  'REFUND.CLOSED': '退款关闭',
};

/** What goes into a notification body. */
export interface NotificationBodyInput {
  /** e.g. `TRANSACTION.SUCCESS`, `REFUND.SUCCESS`. */
  eventType: string;
  /** The decrypted resource: an object (serialised compactly) or an exact JSON string. */
  resource: object | string;
  /** APIv3 key (32 characters) that encrypts the resource. */
  apiV3Key: string | Buffer;
  /** AAD; default `refund` for REFUND.* events, else `transaction`. */
  associatedData?: string;
  /** `resource.original_type`; default equal to the AAD. */
  originalType?: string;
  /** Default: a random UUID. */
  id?: string;
  /** Default: now. */
  createTime?: Date;
  /** Default: WeChat's summary for the event type. */
  summary?: string;
  /** `resource.nonce`, 12 characters; default random. */
  resourceNonce?: string;
}

/** Builds the compact JSON envelope of with fields in the order WeChat Pay sends them. */
export function buildNotificationBody(input: NotificationBodyInput): { id: string; body: string } {
  const aad = input.associatedData ?? (input.eventType.startsWith('REFUND.') ? 'refund' : 'transaction');
  const nonce = input.resourceNonce ?? generateNonce(12);
  const key = typeof input.apiV3Key === 'string' ? Buffer.from(input.apiV3Key, 'utf8') : input.apiV3Key;
  const plaintext = typeof input.resource === 'string' ? input.resource : JSON.stringify(input.resource);
  const id = input.id ?? randomUUID();
  const body = JSON.stringify({
    id,
    create_time: formatBeijingRfc3339(input.createTime ?? new Date()),
    resource_type: 'encrypt-resource',
    event_type: input.eventType,
    summary: input.summary ?? SUMMARIES[input.eventType] ?? input.eventType,
    resource: {
      original_type: input.originalType ?? aad,
      algorithm: 'AEAD_AES_256_GCM',
      ciphertext: aesGcmEncrypt(key, nonce, aad, plaintext),
      associated_data: aad,
      nonce,
    },
  });
  return { id, body };
}

/** Input of `buildSignedNotification`. */
export interface SignedNotificationInput extends NotificationBodyInput {
  /** Private key that signs: the WeChat Pay public key's private half, or a platform certificate's key (PEM or KeyObject). */
  signingKey: KeyObject | string;
  /** `Wechatpay-Serial`: the `PUB_KEY_ID_…` or the certificate serial matching `signingKey`. */
  serial: string;
  /** `Wechatpay-Timestamp` in seconds; default now. */
  timestamp?: number;
}

/** A notification ready to be posted: headers (Wechatpay-*, Content-Type) and the exact body string. */
export interface SignedNotification {
  id: string;
  headers: Record<string, string>;
  body: string;
}

/** Builds a notification exactly as WeChat Pay (and the simulator) sends it, genuinely encrypted and signed. */
export function buildSignedNotification(input: SignedNotificationInput): SignedNotification {
  const { id, body } = buildNotificationBody(input);
  const privateKey = typeof input.signingKey === 'string' ? loadPrivateKey(input.signingKey, 'signingKey') : input.signingKey;
  const timestamp = input.timestamp ?? Math.floor(Date.now() / 1000);
  return {
    id,
    body,
    headers: {
      ...signMessageHeaders(body, { serial: input.serial, privateKey }, timestamp, generateNonce(32)),
      'Content-Type': 'application/json',
    },
  };
}
