import { Inject, Injectable, Logger } from '@nestjs/common';
import type { ResolvedWechatPayConfig } from '../core/config/resolve-config';
import { aesGcmDecrypt } from '../core/crypto/aes-gcm';
import type { HeadersLike } from '../core/crypto/headers';
import type { WechatPayVerifier } from '../core/crypto/verifier';
import { WechatPaySignatureError } from '../core/errors/wechat-pay.errors';
import type { DedupeClaim, NotificationDedupeStore } from '../interfaces/notification-dedupe-store.interface';
import { WECHAT_PAY_CONFIG, WECHAT_PAY_VERIFIER } from '../wechat-partner-pay.constants';
import { InMemoryNotificationDedupeStore } from './dedupe/in-memory-notification-dedupe.store';
import type {
  WechatPayEventType,
  WechatPayNotificationBody,
  WechatPayNotificationEnvelope,
} from './dto/notification-envelope.dto';
import { PartnerRefundResource } from './dto/partner-refund-resource.dto';
import { PartnerTransactionResource } from './dto/partner-transaction-resource.dto';
import { NOTIFICATION_ALGORITHM } from './notification.constants';
import { readResource, type ResourceClass } from './resource-reader';
import { WechatPayNotificationError } from './wechat-pay-notification.errors';

/** A decrypted resource: a validated DTO for `TRANSACTION.*` and `REFUND.*`, a plain object for other events. */
export type WechatPayNotificationResource =
  PartnerTransactionResource | PartnerRefundResource | Record<string, unknown>;

/** A verified, decrypted and validated notification. */
export interface ParsedWechatPayNotification<R extends object = WechatPayNotificationResource> {
  envelope: WechatPayNotificationEnvelope;
  resource: R;
}

/** Options of `parse()`. */
export interface ParseNotificationOptions {
  /** Accepted event types: exact names or `PREFIX.*` (e.g. `REFUND.*`). Default: every event type. */
  eventTypes?: readonly WechatPayEventType[];
}

/** Computes the exactly-once key of a notification. */
export type NotificationDedupeKeyFn = (notification: ParsedWechatPayNotification) => string;

/** Options of `handleOnce()`. */
export interface HandleOnceOptions {
  /**
   * Overrides the key (default `event_type:sp_mchid:sub_mchid:transaction_id`, refunds `out_refund_no`, or the
   * module's `notifications.dedupeKey`).
   */
  dedupeKey?: NotificationDedupeKeyFn;
}

/** Outcome of `handleOnce()`: the handler ran now, or the notification had already been processed. */
export type HandleOnceResult<T> = { status: 'processed'; result: T } | { status: 'duplicate' };

/** The DTO class of an event family; undefined for families this package does not type. */
function resourceClassOf(eventType: string): ResourceClass | undefined {
  if (eventType.startsWith('TRANSACTION.')) return PartnerTransactionResource;
  if (eventType.startsWith('REFUND.')) return PartnerRefundResource;
  return undefined;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Whether `eventType` is matched by one of `patterns` (exact, or `PREFIX.*`). */
export function eventTypeMatches(eventType: string, patterns: readonly string[]): boolean {
  return patterns.some((p) => (p.endsWith('.*') ? eventType.startsWith(p.slice(0, -1)) : p === eventType));
}

/** Checks the envelope's shape without echoing any of it. */
function checkEnvelope(body: unknown): WechatPayNotificationBody {
  if (!isRecord(body) || !isRecord(body.resource))
    throw new WechatPayNotificationError('INVALID_ENVELOPE', 'resource object missing');
  for (const field of ['id', 'event_type'] as const) {
    if (typeof body[field] !== 'string' || body[field] === '')
      throw new WechatPayNotificationError('INVALID_ENVELOPE', `${field} missing`);
  }
  for (const field of ['create_time', 'resource_type', 'summary'] as const) {
    if (body[field] !== undefined && typeof body[field] !== 'string')
      throw new WechatPayNotificationError('INVALID_ENVELOPE', `${field} is not a string`);
  }
  const r = body.resource;
  if (typeof r.ciphertext !== 'string' || typeof r.nonce !== 'string') {
    throw new WechatPayNotificationError(
      'INVALID_ENVELOPE',
      'resource.ciphertext and resource.nonce must be strings',
    );
  }
  if (
    r.associated_data !== undefined &&
    r.associated_data !== null &&
    typeof r.associated_data !== 'string'
  ) {
    throw new WechatPayNotificationError('INVALID_ENVELOPE', 'resource.associated_data is not a string');
  }
  return body as unknown as WechatPayNotificationBody;
}

/**
 * Verifies, decrypts and validates WeChat Pay notifications, and runs handlers exactly once. Used by
 * `@WechatPayNotification()`; call `parse()` and `handleOnce()` directly outside a controller (a queue worker, a
 * serverless handler).
 */
@Injectable()
export class WechatPayNotificationService {
  private readonly logger = new Logger('WechatPayNotifications');
  /** The exactly-once store: `notifications.dedupeStore` from the module options, else one in memory. */
  readonly dedupeStore: NotificationDedupeStore;

  constructor(
    @Inject(WECHAT_PAY_CONFIG) private readonly config: ResolvedWechatPayConfig,
    @Inject(WECHAT_PAY_VERIFIER) private readonly verifier: WechatPayVerifier,
  ) {
    this.dedupeStore = config.notifications.dedupeStore ?? new InMemoryNotificationDedupeStore(config.clock);
  }

  /** Largest accepted body, `notifications.maxBodyBytes`. */
  get maxBodyBytes(): number {
    return this.config.notifications.maxBodyBytes;
  }

  /**
   * Checks a notification in the documented order: size, headers, timestamp window, key by serial, RSA signature
   * over the raw bytes, JSON, algorithm, AES-GCM decryption, `sp_mchid`, DTO validation, event type. Throws a
   * `WechatPayNotificationError` (with the HTTP status to reply) on the first failure.
   */
  async parse<R extends object = WechatPayNotificationResource>(
    headers: HeadersLike,
    rawBody: Buffer | string,
    options: ParseNotificationOptions = {},
  ): Promise<ParsedWechatPayNotification<R>> {
    if (typeof rawBody !== 'string' && !Buffer.isBuffer(rawBody)) {
      // A parsed object would have to be re-serialized, which never reproduces the signed bytes.
      throw new WechatPayNotificationError(
        'RAW_BODY_MISSING',
        'parse() needs the raw body as a Buffer or string, not a parsed object',
      );
    }
    const size = typeof rawBody === 'string' ? Buffer.byteLength(rawBody) : rawBody.length;
    if (size > this.maxBodyBytes)
      throw new WechatPayNotificationError('BODY_TOO_LARGE', `${size} bytes > ${this.maxBodyBytes}`);
    try {
      // Known keys verify synchronously; only an unknown certificate serial needs the (async) refresh.
      try {
        this.verifier.verifySync(headers, rawBody);
      } catch (e) {
        if (!(e instanceof WechatPaySignatureError && e.reason === 'UNKNOWN_SERIAL')) throw e;
        await this.verifier.verify(headers, rawBody);
      }
    } catch (e) {
      if (e instanceof WechatPaySignatureError)
        throw new WechatPayNotificationError(e.reason, e.message, { cause: e });
      throw e;
    }
    const json = parseJson(typeof rawBody === 'string' ? rawBody : rawBody.toString('utf8'));
    if (json === undefined) throw new WechatPayNotificationError('INVALID_JSON');
    const body = checkEnvelope(json);
    if (body.resource.algorithm !== NOTIFICATION_ALGORITHM)
      throw new WechatPayNotificationError('UNSUPPORTED_ALGORITHM');
    let plaintext: Buffer;
    try {
      plaintext = aesGcmDecrypt(this.config.apiV3Key, body.resource);
    } catch (e) {
      // The signature proved the ciphertext came from WeChat Pay: failing to decrypt it means our APIv3 key is wrong.
      throw new WechatPayNotificationError('DECRYPTION_FAILED', (e as Error).message, { cause: e });
    }
    const plain = parseJson(plaintext.toString('utf8'));
    if (!isRecord(plain))
      throw new WechatPayNotificationError('INVALID_RESOURCE', 'decrypted resource is not a JSON object');
    const cls = resourceClassOf(body.event_type);
    if ((cls || 'sp_mchid' in plain) && plain.sp_mchid !== this.config.spMchid) {
      throw new WechatPayNotificationError(
        'SP_MCHID_MISMATCH',
        'resource.sp_mchid differs from the configured spMchid',
      );
    }
    const resource = cls ? this.validate(cls, plain) : plain;
    if (options.eventTypes?.length && !eventTypeMatches(body.event_type, options.eventTypes)) {
      throw new WechatPayNotificationError(
        'EVENT_TYPE_NOT_ALLOWED',
        `received ${body.event_type.slice(0, 64)}, accepted: ${options.eventTypes.join(', ')}`,
      );
    }
    const envelope: WechatPayNotificationEnvelope = {
      id: body.id,
      create_time: body.create_time ?? '',
      event_type: body.event_type,
      resource_type: body.resource_type ?? '',
      summary: body.summary ?? '',
    };
    return { envelope, resource: resource as R };
  }

  /**
   * The default exactly-once key: `event_type:sp_mchid:sub_mchid:transaction_id` (refunds: `out_refund_no`);
   * `event_type:id` for event families this package does not type.
   */
  dedupeKey(notification: ParsedWechatPayNotification): string {
    const { envelope } = notification;
    const r = notification.resource as Record<string, unknown>;
    const id = envelope.event_type.startsWith('REFUND.') ? r.out_refund_no : r.transaction_id;
    if (typeof id !== 'string' || !id) return `${envelope.event_type}:${envelope.id}`;
    return `${envelope.event_type}:${String(r.sp_mchid ?? '')}:${String(r.sub_mchid ?? '')}:${id}`;
  }

  /**
   * Runs `handler` at most once per notification key (claim → handler → complete). An already completed key
   * returns `duplicate` without calling it; a key being processed elsewhere throws `IN_PROGRESS` (reply 5xx so
   * WeChat Pay retries later); a failing handler releases the claim and rethrows, so the retry processes again.
   */
  async handleOnce<T>(
    notification: ParsedWechatPayNotification,
    handler: () => T | Promise<T>,
    options: HandleOnceOptions = {},
  ): Promise<HandleOnceResult<T>> {
    const key = this.keyOf(notification, options.dedupeKey ?? this.config.notifications.dedupeKey);
    const { dedupeLockMs, dedupeTtlMs } = this.config.notifications;
    let claim: DedupeClaim;
    try {
      claim = await this.dedupeStore.claim(key, dedupeLockMs);
    } catch (e) {
      throw new WechatPayNotificationError('DEDUPE_STORE_FAILED', `claim: ${(e as Error).message}`, {
        cause: e,
      });
    }
    if (claim.status === 'completed') return { status: 'duplicate' };
    if (claim.status === 'in-progress')
      throw new WechatPayNotificationError('IN_PROGRESS', `notification ${notification.envelope.id}`);
    let result: T;
    try {
      result = await handler();
    } catch (e) {
      await this.dedupeStore
        .release(key, claim.token)
        .catch((err: Error) => this.logger.error(`Dedupe release failed: ${err.message}`));
      throw e;
    }
    // The handler's effect has happened: a failure to record it must not make WeChat Pay deliver it again.
    try {
      if (!(await this.dedupeStore.complete(key, claim.token, dedupeTtlMs))) {
        this.logger.warn(
          `Notification ${notification.envelope.id} completed after its claim expired (handler slower than ` +
            `notifications.dedupeLockMs = ${dedupeLockMs} ms): a concurrent delivery may have processed it too`,
        );
      }
    } catch (e) {
      this.logger.error(
        `Dedupe complete failed for notification ${notification.envelope.id}: ${(e as Error).message}`,
      );
    }
    return { status: 'processed', result };
  }

  /** The exactly-once key from a custom function (the route's, the call's or the module's), or the default one. */
  private keyOf(notification: ParsedWechatPayNotification, custom?: NotificationDedupeKeyFn): string {
    if (!custom) return this.dedupeKey(notification);
    let key: unknown;
    try {
      key = custom(notification);
    } catch (e) {
      // The name only: a message built from the resource would put decrypted data into the log.
      const name = e instanceof Error ? e.name : typeof e;
      throw new WechatPayNotificationError('DEDUPE_KEY_FAILED', `dedupeKey threw ${name}`, { cause: e });
    }
    if (typeof key !== 'string' || key === '')
      throw new WechatPayNotificationError('DEDUPE_KEY_FAILED', 'dedupeKey must return a non-empty string');
    return key;
  }

  private validate(cls: ResourceClass, plain: Record<string, unknown>): object {
    const read = readResource(cls, plain);
    if (!read.ok)
      throw new WechatPayNotificationError(
        'INVALID_RESOURCE',
        `invalid fields: ${read.invalidFields.join(', ')}`,
      );
    return read.value;
  }
}
