import { Inject, Injectable, Logger } from '@nestjs/common';
import type { ResolvedWechatPayConfig } from '../core/config/resolve-config';
import type { HeadersLike } from '../core/crypto/headers';
import type { WechatPayVerifier } from '../core/crypto/verifier';
import { NotificationEventRegistry } from '../core/notify/notification-event-registry';
import { WechatPayNotificationError } from '../core/notify/notification.errors';
import {
  type ParseNotificationOptions,
  WechatPayNotificationParser,
} from '../core/notify/notification-parser';
import type { NotificationDedupeKeyFn, ParsedWechatPayNotification } from '../core/notify/notification.types';
import type { NotificationDedupeStore } from '../interfaces/notification-dedupe-store.interface';
import { type ExactlyOnceResult, type WechatPayNotificationLease, runExactlyOnce, WechatPayExactlyOnceError } from '../core/notify/exactly-once';
import { WECHAT_PAY_CONFIG, WECHAT_PAY_VERIFIER } from '../wechat-partner-pay.constants';
import { InMemoryNotificationDedupeStore } from './dedupe/in-memory-notification-dedupe.store';
import type { PartnerRefundResource } from './dto/partner-refund-resource.dto';
import type { PartnerTransactionResource } from './dto/partner-transaction-resource.dto';
import { BUILT_IN_NOTIFICATION_EVENTS } from './notification-events';

/** A decrypted resource: a validated DTO of a registered kind, or the plain object of a kind without a class. */
export type WechatPayNotificationResource =
  | PartnerTransactionResource
  | PartnerRefundResource
  | Record<string, unknown>;

/** Options of `handleOnce()`. */
export interface HandleOnceOptions {
  /**
   * Overrides the key (default: the module's `notifications.dedupeKey`, else the key of the resource kind, e.g.
   * `event_type:sp_mchid:sub_mchid:transaction_id`, refunds `out_refund_no`).
   */
  dedupeKey?: NotificationDedupeKeyFn;
}

/** Outcome of `handleOnce()`: the handler ran now, or the notification had already been processed. */
export type HandleOnceResult<T> = { status: 'processed'; result: T } | { status: 'duplicate' };

/**
 * Verifies, decrypts and validates WeChat Pay notifications, and runs handlers exactly once. Used by
 * `@WechatPayNotification()`; call `parse()` and `handleOnce()` directly outside a controller (a queue worker, a
 * serverless handler).
 */
@Injectable()
export class WechatPayNotificationService {
  private readonly logger = new Logger('WechatPayNotifications');
  private readonly parser: WechatPayNotificationParser;
  /** The exactly-once store: `notifications.dedupeStore` from the module options, else one in memory. */
  readonly dedupeStore: NotificationDedupeStore;
  /** The notification kinds of this module: `notifications.events`, then the built-in ones. */
  readonly registry: NotificationEventRegistry;

  constructor(
    @Inject(WECHAT_PAY_CONFIG) private readonly config: ResolvedWechatPayConfig,
    @Inject(WECHAT_PAY_VERIFIER) verifier: WechatPayVerifier,
  ) {
    this.dedupeStore = config.notifications.dedupeStore ?? new InMemoryNotificationDedupeStore(config.clock);
    this.registry = NotificationEventRegistry.compose(BUILT_IN_NOTIFICATION_EVENTS, config.notifications.events);
    this.parser = new WechatPayNotificationParser({
      spMchid: config.spMchid,
      apiV3Key: config.apiV3Key,
      maxBodyBytes: config.notifications.maxBodyBytes,
      verifier,
      registry: this.registry,
    });
  }

  /** Largest accepted body, `notifications.maxBodyBytes`. */
  get maxBodyBytes(): number {
    return this.config.notifications.maxBodyBytes;
  }

  /**
   * Checks a notification in the documented order: size, headers, timestamp window, key by serial, RSA signature
   * over the raw bytes, JSON, algorithm, AES-GCM decryption, `sp_mchid`, resource kind (registry), DTO validation,
   * event type, accepted kinds. Throws a `WechatPayNotificationError` (with the HTTP status to reply) on the first
   * failure.
   */
  parse<R extends object = WechatPayNotificationResource>(
    headers: HeadersLike,
    rawBody: Buffer | string,
    options: ParseNotificationOptions = {},
  ): Promise<ParsedWechatPayNotification<R>> {
    return this.parser.parse<R>(headers, rawBody, options);
  }

  /**
   * The default exactly-once key: the one of the resource kind (`event_type:sp_mchid:sub_mchid:transaction_id`,
   * refunds `out_refund_no`), `event_type:id` for a notification of no registered kind.
   */
  dedupeKey(notification: ParsedWechatPayNotification<object>): string {
    const entry = this.registry.get(notification.kind);
    if (!entry) return `${notification.envelope.event_type}:${notification.envelope.id}`;
    return entry.dedupeKey(notification);
  }

  /**
   * Runs `handler` at most once per notification key: claim → handler (its claim renewed while it runs) → complete,
   * every store call under `notifications.storeTimeoutMs`. An already completed key returns `duplicate` without
   * calling it; a key being processed elsewhere throws `IN_PROGRESS` (reply 5xx so WeChat Pay retries later); a store
   * that fails or does not answer in time throws `DEDUPE_STORE_FAILED` (5xx); a failing handler releases the claim
   * and rethrows, so the retry processes again. The handler gets its lease: `signal` aborts when the claim is lost,
   * `fencingToken` grows with every claim of the key (pass it to your own writes).
   *
   * Guaranteed: at most one run at a time per key while the store works, and no run after a recorded completion.
   * Not guaranteed: a completion that could not be recorded (the store died after the handler) lets a delivery after
   * the lease run the handler again; the handler's own business-state check must absorb that.
   */
  async handleOnce<T>(
    notification: ParsedWechatPayNotification<object>,
    handler: (lease: WechatPayNotificationLease) => T | Promise<T>,
    options: HandleOnceOptions = {},
  ): Promise<HandleOnceResult<T>> {
    const key = this.keyOf(notification, options.dedupeKey ?? this.config.notifications.dedupeKey);
    const n = this.config.notifications;
    let outcome: ExactlyOnceResult<T>;
    try {
      outcome = await runExactlyOnce(this.dedupeStore, key, handler, {
        lockMs: n.dedupeLockMs,
        ttlMs: n.dedupeTtlMs,
        storeTimeoutMs: n.storeTimeoutMs,
        replyBudgetMs: n.replyBudgetMs,
        logger: this.logger,
        label: notification.envelope.id,
      });
    } catch (e) {
      if (!(e instanceof WechatPayExactlyOnceError)) throw e;
      throw new WechatPayNotificationError(e.reason === 'STORE_FAILED' ? 'DEDUPE_STORE_FAILED' : 'IN_PROGRESS', e.message, { cause: e });
    }
    return outcome.status === 'processed' ? { status: 'processed', result: outcome.result } : outcome;
  }

  /** The exactly-once key from a custom function (the route's, the call's or the module's), or the default one. */
  private keyOf(notification: ParsedWechatPayNotification<object>, custom?: NotificationDedupeKeyFn): string {
    let key: unknown;
    try {
      key = custom
        ? custom(notification as ParsedWechatPayNotification)
        : this.dedupeKey(notification);
    } catch (e) {
      // The name only: a message built from the resource would put decrypted data into the log.
      const name = e instanceof Error ? e.name : typeof e;
      throw new WechatPayNotificationError('DEDUPE_KEY_FAILED', `dedupeKey threw ${name}`, { cause: e });
    }
    if (typeof key !== 'string' || key === '')
      throw new WechatPayNotificationError('DEDUPE_KEY_FAILED', 'dedupeKey must return a non-empty string');
    return key;
  }
}
