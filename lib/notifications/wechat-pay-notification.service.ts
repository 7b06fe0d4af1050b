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
import type { DedupeClaim, NotificationDedupeStore } from '../interfaces/notification-dedupe-store.interface';
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
   * Runs `handler` at most once per notification key (claim → handler → complete). An already completed key
   * returns `duplicate` without calling it; a key being processed elsewhere throws `IN_PROGRESS` (reply 5xx so
   * WeChat Pay retries later); a failing handler releases the claim and rethrows, so the retry processes again.
   */
  async handleOnce<T>(
    notification: ParsedWechatPayNotification<object>,
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
