import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { WechatPayCombineOrdersService } from '../combine-orders/wechat-pay-combine-orders.service';
import type { CombineTransaction, CombineTransactionResource } from '../combine-orders/dto/combine-transaction.dto';
import { WechatPayApiError } from '../core/errors/wechat-pay.errors';
import { withDeadline } from '../core/notify/exactly-once';
import type { ParsedWechatPayNotification, WechatPayNotificationEnvelope } from '../core/notify/notification.types';
import type { PartnerTransactionResource } from '../notifications/dto/partner-transaction-resource.dto';
import { WechatPayNotificationService } from '../notifications/wechat-pay-notification.service';
import type { PartnerTransaction } from '../orders/dto/partner-transaction.dto';
import { type WechatPayCreatedOrder, WechatPayOrderCreatedHooks } from '../orders/order-created.hooks';
import { WechatPayOrdersService } from '../orders/wechat-pay-orders.service';
import { LIFECYCLE_OPTIONS, LIFECYCLE_SCHEDULER } from './lifecycle.constants';
import { WechatPayLifecycleError, WechatPayOrderNotWatchedError } from './lifecycle.errors';
import type { ResolvedLifecycleOptions } from './lifecycle.options';
import type { LifecycleScheduler, OrderWatchJobData, WatchStepOutcome } from './lifecycle-scheduler';
import { WechatPayLifecycleMetrics } from './lifecycle-metrics';
import type {
  HandlePaidNotificationResult,
  PaidOrderSource,
  WatchCombineOrderRequest,
  WatchOrderRequest,
  WechatPayOrderClosedEvent,
  WechatPayOrderClosedHandler,
  WechatPayPaidHandler,
  WechatPayPaidOrder,
} from './order-watch.types';

const PAID_STATES = new Set(['SUCCESS', 'REFUND']);
const PENDING_STATES = new Set(['NOTPAY', 'USERPAYING']);

/** What one query found, as the notification it stands for when the order is paid. */
type Observed =
  | { paid: ParsedWechatPayNotification<PartnerTransactionResource | CombineTransactionResource>; state: string }
  | { paid?: undefined; state: string; pending: boolean; subOrders?: Array<{ sub_mchid: string; out_trade_no: string }> };

/**
 * The order watch (§3.2.6–3.2.8): WeChat Pay does not guarantee that a payment notification ever arrives, so a
 * watched order is queried on a schedule; a payment found by query runs the same handler, under the same dedupe
 * key and store, as the notification route (`handleNotification()`), so whichever path comes first runs it and the
 * other is a duplicate. An order still unpaid after its `time_expire` is closed and reported to `onClosed()`.
 */
@Injectable()
export class WechatPayOrderWatchService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('WechatPayLifecycle');
  private paidHandler?: WechatPayPaidHandler;
  private closedHandler?: WechatPayOrderClosedHandler;
  private removeAutoWatch?: () => void;

  constructor(
    @Inject(LIFECYCLE_OPTIONS) private readonly options: ResolvedLifecycleOptions,
    @Inject(LIFECYCLE_SCHEDULER) private readonly scheduler: LifecycleScheduler,
    private readonly orders: WechatPayOrdersService,
    private readonly combineOrders: WechatPayCombineOrdersService,
    private readonly notifications: WechatPayNotificationService,
    /** This instance's counters. */
    readonly metrics: WechatPayLifecycleMetrics,
    private readonly created: WechatPayOrderCreatedHooks,
  ) {}

  /** `watch.auto`: watches every order the orders services create, inside their prepay call. */
  onModuleInit(): void {
    if (this.options.autoWatch) this.removeAutoWatch = this.created.add((order) => this.autoWatch(order));
  }

  onModuleDestroy(): void {
    this.removeAutoWatch?.();
  }

  private async autoWatch(order: WechatPayCreatedOrder): Promise<void> {
    const target =
      order.type === 'order'
        ? { type: 'order' as const, sub_mchid: order.sub_mchid, out_trade_no: order.out_trade_no }
        : { type: 'combine' as const, out_trade_no: order.combine_out_trade_no };
    try {
      await this.start(target, order.time_expire);
    } catch (e) {
      throw new WechatPayOrderNotWatchedError(target, e);
    }
  }

  /** Registers the one handler of paid orders (single and combine), for the watch and the notification route alike. */
  onPaid(handler: WechatPayPaidHandler): void {
    this.paidHandler = handler;
  }

  /** Registers the handler of orders closed at expiry. */
  onClosed(handler: WechatPayOrderClosedHandler): void {
    this.closedHandler = handler;
  }

  /** Watches a single order (call after its prepay); watching it again is a no-op while the first watch runs. */
  async watchOrder(req: WatchOrderRequest): Promise<void> {
    if (!req?.sub_mchid || !req.out_trade_no)
      throw new WechatPayLifecycleError('watchOrder needs { sub_mchid, out_trade_no, time_expire? } of the order');
    await this.start({ type: 'order', sub_mchid: req.sub_mchid, out_trade_no: req.out_trade_no }, req.time_expire);
  }

  /** Watches a combine order as a whole (paid when all its sub-orders are). */
  async watchCombineOrder(req: WatchCombineOrderRequest): Promise<void> {
    if (!req?.combine_out_trade_no)
      throw new WechatPayLifecycleError('watchCombineOrder needs { combine_out_trade_no, time_expire? }');
    await this.start({ type: 'combine', out_trade_no: req.combine_out_trade_no }, req.time_expire);
  }

  /**
   * For the notification route of payments (`partner-transaction` and `combine-transaction` kinds; declare the
   * route with `dedupe: false`, since this claims the key itself): runs the `onPaid()` handler exactly once and
   * ends the order's watch. A non-SUCCESS state is ignored (nothing to handle); reply 204 in every returned case.
   */
  async handleNotification(
    notification: ParsedWechatPayNotification<PartnerTransactionResource | CombineTransactionResource | object>,
  ): Promise<HandlePaidNotificationResult> {
    const n = notification as ParsedWechatPayNotification<PartnerTransactionResource | CombineTransactionResource>;
    if (n.kind !== 'partner-transaction' && n.kind !== 'combine-transaction')
      throw new WechatPayLifecycleError(
        `handleNotification takes payment notifications (partner-transaction, combine-transaction), not ${n.kind}`,
      );
    const state = n.kind === 'partner-transaction' ? (n.resource as PartnerTransactionResource).trade_state : cartState(n.resource as CombineTransactionResource);
    if (state !== 'SUCCESS') return { status: 'ignored', trade_state: state };
    const outcome = await this.runPaid(n, 'notification');
    const id = watchId(watchTarget(n));
    // Best effort, within the store deadline: a watch left waiting finds the payment handled (a duplicate) and ends.
    await withDeadline(this.scheduler.cancelWatch(id), this.options.storeTimeoutMs, `the lifecycle scheduler (ending watch ${id})`).catch((e: unknown) =>
      this.logger.warn(`watch ${id} not ended now (${e instanceof Error ? e.message.slice(0, 200) : typeof e}); its next step ends it`),
    );
    return outcome;
  }

  /**
   * `handleNotification()` for a route that takes `@NotificationResource()` (and optionally `@NotificationEnvelope()`):
   * the kind is told by the shape (`combine_out_trade_no` → combine order), the key by the resource alone.
   */
  handleNotificationResource(
    resource: PartnerTransactionResource | CombineTransactionResource,
    envelope?: WechatPayNotificationEnvelope,
  ): Promise<HandlePaidNotificationResult> {
    const kind = 'combine_out_trade_no' in resource ? 'combine-transaction' : 'partner-transaction';
    const n = synthetic(kind, envelope?.id ?? 'route', resource);
    return this.handleNotification(envelope ? { ...n, envelope } : n);
  }

  /**
   * The exactly-once key of a payment, the same for its notification and for the synthetic one a query builds:
   * the registry key of the kind (`TRANSACTION.SUCCESS:sp_mchid:sub_mchid:transaction_id`, combine
   * `combine:combine_mchid:combine_out_trade_no`).
   */
  paidDedupeKey(notification: ParsedWechatPayNotification<object>): string {
    return this.notifications.dedupeKey(notification);
  }

  /** Watch jobs not finished yet over every instance sharing the scheduler (BullMQ: the daily job counts too). */
  pendingWatches(): Promise<number> {
    return this.scheduler.pendingWatches();
  }

  /** One step of a watch, run by the scheduler; throws to be retried. */
  async step(d: OrderWatchJobData): Promise<WatchStepOutcome> {
    this.metrics.increment('steps');
    try {
      return await this.runStep(d);
    } catch (e) {
      this.metrics.increment('retries');
      throw e;
    }
  }

  private async runStep(d: OrderWatchJobData): Promise<WatchStepOutcome> {
    let seen = await this.observe(d);
    if (seen.paid) return this.rescued(seen.paid);
    const now = this.options.clock();
    if (now < d.expireAt) {
      if (!seen.pending) return { done: true }; // closed or revoked by someone else before its deadline
      const nextAt = this.nextRunAt(d, d.step);
      return { done: false, delayMs: Math.max(0, nextAt - now), data: { ...d, step: d.step + 1 } };
    }
    if (!this.options.closeAtExpiry || seen.state === 'ORDER_NOT_EXIST') return { done: true };
    if (seen.state !== 'REVOKED' && seen.state !== 'PAYERROR') {
      if (!(await this.close(d, seen.subOrders))) return { done: false, delayMs: 0, data: d }; // paid meanwhile
      seen = await this.observe(d);
      if (seen.paid) return this.rescued(seen.paid);
    }
    await this.emitClosed(d, seen.state);
    return { done: true };
  }

  private async start(target: Pick<OrderWatchJobData, 'type' | 'sub_mchid' | 'out_trade_no'>, timeExpire?: Date | string): Promise<void> {
    const now = this.options.clock();
    const expireAt = timeExpire === undefined ? now + this.options.defaultExpiryMs : new Date(timeExpire).getTime();
    if (!Number.isFinite(expireAt)) throw new WechatPayLifecycleError('time_expire must be a Date or an RFC 3339 string');
    const data: OrderWatchJobData = { ...target, expireAt, watchedAt: now, step: 1 };
    const id = watchId(target);
    // ioredis queues commands while it reconnects, for ever: a watch that cannot be stored must fail, not hang.
    await withDeadline(this.scheduler.addWatch(id, data, Math.max(0, this.nextRunAt(data, 0) - now)), this.options.storeTimeoutMs, `the lifecycle scheduler (storing watch ${id}; is its Redis reachable?)`);
    this.metrics.increment('watched');
  }

  /** When schedule entry `i` runs: its offset from the watch start, or the deadline (+ grace) once past it. */
  private nextRunAt(d: OrderWatchJobData, i: number): number {
    const at = i < this.options.scheduleMs.length ? d.watchedAt + this.options.scheduleMs[i] : Infinity;
    return at < d.expireAt ? at : d.expireAt + this.options.expiryGraceMs;
  }

  private async rescued(paid: Observed['paid'] & object): Promise<WatchStepOutcome> {
    await this.runPaid(paid, 'query');
    return { done: true };
  }

  private async runPaid(
    n: ParsedWechatPayNotification<PartnerTransactionResource | CombineTransactionResource>,
    source: PaidOrderSource,
  ): Promise<{ status: 'processed' } | { status: 'duplicate' }> {
    const handler = this.paidHandler;
    if (!handler) throw new WechatPayLifecycleError('no paid handler: call WechatPayOrderWatchService.onPaid(handler) at boot');
    const paid = (
      n.kind === 'combine-transaction'
        ? { type: 'combine', source, transaction: n.resource }
        : { type: 'order', source, transaction: n.resource }
    ) as WechatPayPaidOrder;
    const r = await this.notifications.handleOnce(n, (lease) => handler(paid, lease), { dedupeKey: (x) => this.paidDedupeKey(x) });
    if (r.status === 'processed') this.metrics.increment(source === 'query' ? 'rescuedByQuery' : 'handledByNotification');
    return { status: r.status };
  }

  private async observe(d: OrderWatchJobData): Promise<Observed> {
    this.metrics.increment('queries');
    try {
      return d.type === 'order' ? this.observeOrder(await this.orders.queryByOutTradeNo({ out_trade_no: d.out_trade_no, sub_mchid: d.sub_mchid ?? '' })) : this.observeCombine(await this.combineOrders.query({ combine_out_trade_no: d.out_trade_no }));
    } catch (e) {
      // Not (yet) known to WeChat Pay, e.g. the prepay failed: nothing to pay, nothing to close.
      if (e instanceof WechatPayApiError && e.code === 'ORDER_NOT_EXIST') return { state: 'ORDER_NOT_EXIST', pending: true };
      throw e;
    }
  }

  private observeOrder(tx: PartnerTransaction): Observed {
    if (PAID_STATES.has(tx.trade_state) && tx.transaction_id)
      return { paid: synthetic('partner-transaction', `query:${tx.transaction_id}`, tx as PartnerTransactionResource), state: tx.trade_state };
    return { state: tx.trade_state, pending: PENDING_STATES.has(tx.trade_state) };
  }

  private observeCombine(tx: CombineTransaction): Observed {
    const state = cartState(tx);
    if (PAID_STATES.has(state) && tx.sub_orders.every((s) => s.transaction_id))
      return { paid: synthetic('combine-transaction', `query:${tx.combine_out_trade_no}`, tx as CombineTransactionResource), state };
    const subOrders = tx.sub_orders.map((s) => ({ sub_mchid: s.sub_mchid, out_trade_no: s.out_trade_no }));
    return { state, pending: PENDING_STATES.has(state), subOrders };
  }

  /** Closes an expired order; false when it turned out paid (query again). */
  private async close(d: OrderWatchJobData, subOrders?: Array<{ sub_mchid: string; out_trade_no: string }>): Promise<boolean> {
    try {
      if (d.type === 'order') await this.orders.close({ out_trade_no: d.out_trade_no, sub_mchid: d.sub_mchid ?? '' });
      else if (subOrders?.length) await this.combineOrders.close({ combine_out_trade_no: d.out_trade_no, sub_orders: subOrders });
      return true;
    } catch (e) {
      if (e instanceof WechatPayApiError && e.code === 'ORDER_PAID') return false;
      if (e instanceof WechatPayApiError && (e.code === 'ORDER_CLOSED' || e.code === 'ORDER_NOT_EXIST')) return true;
      throw e;
    }
  }

  private async emitClosed(d: OrderWatchJobData, state: string): Promise<void> {
    const event: WechatPayOrderClosedEvent = {
      type: d.type,
      ...(d.sub_mchid !== undefined ? { sub_mchid: d.sub_mchid } : {}),
      out_trade_no: d.out_trade_no,
      time_expire: new Date(d.expireAt).toISOString(),
      trade_state: state,
    };
    const key = `lifecycle-closed:${watchId(d)}`;
    const r = await this.notifications.handleOnce(
      synthetic('lifecycle-closed', key, event),
      (lease) => this.closedHandler?.(event, lease),
      { dedupeKey: () => key },
    );
    if (r.status === 'processed') {
      this.metrics.increment('closedAtExpiry');
      if (!this.closedHandler) this.logger.log(`order ${d.out_trade_no} closed at expiry (no onClosed handler registered)`);
    }
  }
}

/** The cart's state: SUCCESS when every sub-order is paid, else the first other state. */
function cartState(tx: { sub_orders: Array<{ trade_state?: string }> }): string {
  const other = tx.sub_orders.find((s) => !PAID_STATES.has(s.trade_state ?? ''));
  return other ? (other.trade_state ?? 'NOTPAY') : 'SUCCESS';
}

function synthetic<R extends object>(kind: string, id: string, resource: R): ParsedWechatPayNotification<R> {
  return {
    kind,
    resource,
    envelope: { id, create_time: new Date().toISOString(), event_type: 'TRANSACTION.SUCCESS', resource_type: 'encrypt-resource', summary: 'found by query' },
  };
}

function watchTarget(n: ParsedWechatPayNotification<PartnerTransactionResource | CombineTransactionResource>): Pick<OrderWatchJobData, 'type' | 'sub_mchid' | 'out_trade_no'> {
  if (n.kind === 'combine-transaction') return { type: 'combine', out_trade_no: (n.resource as CombineTransactionResource).combine_out_trade_no };
  const r = n.resource as PartnerTransactionResource;
  return { type: 'order', sub_mchid: r.sub_mchid, out_trade_no: r.out_trade_no };
}

/** The job id of a watch: one per order (`/` cannot occur in an out_trade_no). */
export function watchId(t: Pick<OrderWatchJobData, 'type' | 'sub_mchid' | 'out_trade_no'>): string {
  return t.type === 'order' ? `order/${t.sub_mchid}/${t.out_trade_no}` : `combine/${t.out_trade_no}`;
}
