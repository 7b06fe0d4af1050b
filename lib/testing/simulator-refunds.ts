/**
 * The simulator's refunds: create with WeChat's business rules (paid order, matching total, at most the
 * order total in sum, within a year, idempotent on out_refund_no), query, and the PROCESSING → SUCCESS | ABNORMAL |
 * CLOSED lifecycle, automatic after a delay or completed by the test. Completion is reported to the simulator, which
 * sends the REFUND.* notification with the payment notifications' delivery rules. An ABNORMAL refund may be applied
 * for again (发起异常退款): it goes back to PROCESSING and completes like a new one.
 */
import { beijingDate, formatBeijingRfc3339, parseRfc3339 } from '../core/time';
import { SIMULATOR_ERRORS, SimulatorHttpError } from './simulator-errors';
import { digits, isPaid, orderKey, type SimulatedOrder, type SimulatorOrderBook } from './simulator-orders';
import { jsonEqual, sortKeys } from './simulator-validation';

/** Refund status. */
export type SimulatedRefundStatus = 'PROCESSING' | 'SUCCESS' | 'ABNORMAL' | 'CLOSED';

/** A final refund status, as `completeRefund()` sets it. */
export type SimulatedRefundOutcome = Exclude<SimulatedRefundStatus, 'PROCESSING'>;

/**
 * An application for an ABNORMAL refund, with the sensitive fields as the simulator decrypted them (for test
 * assertions). Never logged; `exportState()` (the CLI's `--state-file`) leaves `bankAccount` and `realName` out.
 */
export interface SimulatedAbnormalRefundApplication {
  type: 'USER_BANK_CARD' | 'MERCHANT_BANK_CARD';
  bankType?: string;
  /** Decrypted `bank_account`. */
  bankAccount?: string;
  /** Decrypted `real_name`. */
  realName?: string;
  /** The `Wechatpay-Serial` of the request: the key the fields were encrypted for. */
  serial?: string;
  /** ms: when the application was accepted. */
  appliedAt: number;
}

/** A refund as the simulator stores it. Read through `sim.getRefund()` / `sim.listRefunds()`, which return copies. */
export interface SimulatedRefund {
  refundId: string;
  outRefundNo: string;
  spMchid: string;
  subMchid: string;
  outTradeNo: string;
  transactionId: string;
  reason?: string;
  /** The request's notify_url; the order's notify_url is used when absent. */
  notifyUrl?: string;
  fundsAccount?: string;
  amount: { refund: number; total: number; payerTotal: number; from: Array<{ account: string; amount: number }> };
  /** The parsed body of the first request; re-entry compares against it. */
  request: Record<string, unknown>;
  status: SimulatedRefundStatus;
  /** ORIGINAL; OTHER_BANKCARD after an abnormal refund to the payer's bank card. */
  channel: 'ORIGINAL' | 'OTHER_BANKCARD';
  userReceivedAccount: string;
  /** The latest abnormal refund application, if any. */
  abnormalRefund?: SimulatedAbnormalRefundApplication;
  /** `ecommerce` for a refund made with `/v3/ecommerce/refunds/apply` (平台收付通); absent for partner refunds. */
  family?: 'ecommerce';
  /** Ecommerce: where the money came from, `REFUND_SOURCE_SUB_MERCHANT` or `REFUND_SOURCE_PARTNER_ADVANCE`. */
  refundAccount?: 'REFUND_SOURCE_SUB_MERCHANT' | 'REFUND_SOURCE_PARTNER_ADVANCE';
  /** Ecommerce: the 垫付回补 (return-advance) of an advance refund, once requested. */
  returnAdvance?: SimulatedReturnAdvance;
  /** ms: when the refund was accepted (its bill day). */
  createdAt: number;
  /** ms: when it reached its final status. */
  completedAt?: number;
}

/** `result` of a return-advance. */
export type SimulatedReturnAdvanceResult = 'SUCCESS' | 'FAILED' | 'PROCESSING';

/** A 垫付回补: the advanced money moving back from the 二级商户 to the platform. */
export interface SimulatedReturnAdvance {
  advanceReturnId: string;
  amount: number;
  result: SimulatedReturnAdvanceResult;
  /** ms */
  requestedAt: number;
  /** ms: when it reached SUCCESS. */
  succeededAt?: number;
}

/** What only an ecommerce refund adds when it is accepted. */
export interface AcceptRefundOptions {
  family?: 'ecommerce';
  refundAccount?: SimulatedRefund['refundAccount'];
  /** Refunds an order may have at most (ecommerce: 50 partial refunds). Default: no limit. */
  maxRefundsPerOrder?: number;
}

/** Options of `sim.completeRefund()`. */
export interface CompleteRefundOptions {
  /** Default SUCCESS. */
  status?: SimulatedRefundOutcome;
  /** Needed only when the same out_refund_no exists under several sub-merchants. */
  sub_mchid?: string;
}

/** What the refund book needs from the simulator. */
export interface RefundBookContext {
  clock(): number;
  orders: SimulatorOrderBook;
  /** 'auto' completes with SUCCESS after `delayMs` (real time); 'manual' waits for `complete()`. */
  mode: 'auto' | 'manual';
  delayMs: number;
  /** Real-time sleep that the simulator cancels on close. */
  sleep(ms: number): Promise<void>;
  closed(): boolean;
  /** A refund reached a final status: notify, save state. */
  completed(refund: SimulatedRefund, order: SimulatedOrder | undefined): void;
  /** How ecommerce refunds spell the closed status in notifications and queries. Default `CLOSED`. */
  closedSpelling?: 'CLOSED' | 'CLOSE';
}

const YEAR_MS = 365 * 86_400_000;
/** `user_received_account` of refunds to the payer's change (零钱), the simulator's only channel. */
const RECEIVED_ACCOUNT = '支付用户零钱';

/** Refunds of one simulated provider. */
export class SimulatorRefundBook {
  private readonly refunds = new Map<string, SimulatedRefund>();
  private readonly ids = new Set<string>();
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly ctx: RefundBookContext) {}

  /** POST /v3/refund/domestic/refunds; the body was validated already. */
  create(body: Record<string, unknown>): Record<string, unknown> {
    return this.refundJson(this.accept(body));
  }

  /**
   * Accepts a refund with WeChat's rules shared by both families (paid order, matching total, within a year, sum at
   * most the total, re-entry on out_refund_no with identical parameters); the body was validated already.
   */
  accept(body: Record<string, unknown>, options: AcceptRefundOptions = {}): SimulatedRefund {
    const subMchid = body.sub_mchid as string;
    const outRefundNo = body.out_refund_no as string;
    this.ctx.orders.checkSubMerchant(subMchid);
    const existing = this.refunds.get(orderKey(subMchid, outRefundNo));
    if (existing) {
      if (!jsonEqual(existing.request, body)) throw new SimulatorHttpError(SIMULATOR_ERRORS.REFUND_REENTRY_MISMATCH);
      return existing;
    }
    const order = this.ctx.orders.lookup(subMchid, { outTradeNo: body.out_trade_no as string | undefined, transactionId: body.transaction_id as string | undefined });
    if (!order) throw new SimulatorHttpError(SIMULATOR_ERRORS.REFUND_ORDER_NOT_EXISTS);
    if (!isPaid(order)) throw new SimulatorHttpError(SIMULATOR_ERRORS.REFUND_ORDER_NOT_PAID);
    const amount = body.amount as { refund: number; total: number; from?: Array<{ account: string; amount: number }> };
    if (amount.total !== order.amount.total) {
      throw new SimulatorHttpError(SIMULATOR_ERRORS.REFUND_TOTAL_MISMATCH, `${SIMULATOR_ERRORS.REFUND_TOTAL_MISMATCH.message}: ${amount.total} != ${order.amount.total}`, {
        field: '/amount/total',
        value: amount.total,
        issue: 'must equal the order total',
        location: 'body',
      });
    }
    const now = this.ctx.clock();
    const paidAt = parseRfc3339(order.successTime ?? '')?.getTime() ?? now;
    if (now - paidAt > YEAR_MS) throw new SimulatorHttpError(SIMULATOR_ERRORS.REFUND_EXPIRED);
    const max = options.maxRefundsPerOrder;
    if (max !== undefined && this.list().filter((r) => r.subMchid === order.subMchid && r.outTradeNo === order.outTradeNo).length >= max) {
      throw new SimulatorHttpError(SIMULATOR_ERRORS.REFUND_COUNT_EXCEEDED, `${SIMULATOR_ERRORS.REFUND_COUNT_EXCEEDED.message}: at most ${max}`);
    }
    const refundable = order.amount.total - this.refundedAmount(order);
    if (amount.refund > refundable) {
      throw new SimulatorHttpError(SIMULATOR_ERRORS.REFUND_EXCEEDS, `${SIMULATOR_ERRORS.REFUND_EXCEEDS.message}: ${refundable} fen left`);
    }
    const refund: SimulatedRefund = {
      refundId: this.newRefundId(now),
      outRefundNo,
      spMchid: order.spMchid,
      subMchid,
      outTradeNo: order.outTradeNo,
      transactionId: order.transactionId as string,
      reason: body.reason as string | undefined,
      notifyUrl: body.notify_url as string | undefined,
      fundsAccount: body.funds_account as string | undefined,
      amount: { refund: amount.refund, total: amount.total, payerTotal: order.payerTotal ?? order.amount.total, from: structuredClone(amount.from ?? []) },
      request: structuredClone(body),
      status: 'PROCESSING',
      channel: 'ORIGINAL',
      userReceivedAccount: RECEIVED_ACCOUNT,
      createdAt: now,
      ...(options.family ? { family: options.family } : {}),
      ...(options.refundAccount ? { refundAccount: options.refundAccount } : {}),
    };
    this.refunds.set(orderKey(subMchid, outRefundNo), refund);
    this.ids.add(refund.refundId);
    order.tradeState = 'REFUND';
    if (this.ctx.mode === 'auto') this.scheduleCompletion(refund);
    return refund;
  }

  /** GET /v3/refund/domestic/refunds/{out_refund_no}?sub_mchid= */
  query(subMchid: string, outRefundNo: string): Record<string, unknown> {
    this.ctx.orders.checkSubMerchant(subMchid);
    const refund = this.refunds.get(orderKey(subMchid, outRefundNo));
    if (!refund) throw new SimulatorHttpError(SIMULATOR_ERRORS.REFUND_NOT_EXISTS);
    return this.refundJson(refund);
  }

  /**
   * POST /v3/refund/domestic/refunds/{refund_id}/apply-abnormal-refund; the body was validated and its sensitive
   * fields decrypted already. Only an ABNORMAL refund is accepted; it goes back to PROCESSING and completes as the
   * refund mode says. Repeating an accepted application with the same fields answers the refund again
   * [UNVERIFIED: WeChat's re-entry behaviour for this endpoint is not documented].
   */
  applyAbnormal(refundId: string, subMchid: string, outRefundNo: string, application: Omit<SimulatedAbnormalRefundApplication, 'appliedAt'>): Record<string, unknown> {
    return this.refundJson(this.reapply(refundId, subMchid, outRefundNo, application));
  }

  /** The state change of an abnormal refund application, for both families (see `applyAbnormal()`). */
  reapply(refundId: string, subMchid: string, outRefundNo: string, application: Omit<SimulatedAbnormalRefundApplication, 'appliedAt'>): SimulatedRefund {
    this.ctx.orders.checkSubMerchant(subMchid);
    const refund = this.list().find((r) => r.refundId === refundId);
    if (!refund || refund.subMchid !== subMchid || refund.outRefundNo !== outRefundNo) throw new SimulatorHttpError(SIMULATOR_ERRORS.ABNORMAL_REFUND_NOT_EXISTS);
    if (refund.status !== 'ABNORMAL') {
      const previous = refund.abnormalRefund;
      const same =
        previous !== undefined &&
        (['type', 'bankType', 'bankAccount', 'realName'] as const).every((k) => previous[k] === application[k]);
      if (same) return refund;
      throw new SimulatorHttpError(SIMULATOR_ERRORS.REFUND_NOT_ABNORMAL, `${SIMULATOR_ERRORS.REFUND_NOT_ABNORMAL.message}: the refund is ${refund.status}`);
    }
    refund.abnormalRefund = { ...application, appliedAt: this.ctx.clock() };
    refund.status = 'PROCESSING';
    refund.completedAt = undefined;
    // [UNVERIFIED] what WeChat shows after an abnormal refund: the Refund docs list OTHER_BANKCARD (原银行卡异常退到其他银行卡)
    // and "商户结算银行账户" among the user_received_account values.
    if (application.type === 'USER_BANK_CARD') {
      refund.channel = 'OTHER_BANKCARD';
      refund.userReceivedAccount = `${application.bankType ?? ''}${(application.bankAccount ?? '').slice(-4)}`;
    } else {
      refund.userReceivedAccount = '商户结算银行账户';
    }
    if (this.ctx.mode === 'auto') this.scheduleCompletion(refund);
    return refund;
  }

  /** Finds a refund: by sub_mchid when given, else the only refund with this out_refund_no. */
  find(outRefundNo: string, subMchid?: string): SimulatedRefund | undefined {
    if (subMchid !== undefined) return this.refunds.get(orderKey(subMchid, outRefundNo));
    const matches = this.list().filter((r) => r.outRefundNo === outRefundNo);
    if (matches.length > 1) throw new Error(`out_refund_no ${outRefundNo} exists under several sub-merchants: pass sub_mchid`);
    return matches[0];
  }

  /** Moves a PROCESSING refund to its final status and reports it (which sends the notification). */
  complete(outRefundNo: string, options: CompleteRefundOptions = {}): SimulatedRefund {
    const refund = this.find(outRefundNo, options.sub_mchid);
    if (!refund) throw new Error(`completeRefund: no refund ${outRefundNo}${options.sub_mchid ? ` under sub_mchid ${options.sub_mchid}` : ''}`);
    const status = options.status ?? 'SUCCESS';
    if (!['SUCCESS', 'ABNORMAL', 'CLOSED'].includes(status)) throw new Error(`completeRefund: status must be SUCCESS, ABNORMAL or CLOSED, got ${String(status)}`);
    if (refund.status !== 'PROCESSING') throw new Error(`completeRefund: refund ${outRefundNo} is already ${refund.status}`);
    refund.status = status;
    refund.completedAt = this.ctx.clock();
    this.ctx.completed(refund, this.ctx.orders.lookup(refund.subMchid, { outTradeNo: refund.outTradeNo }));
    return refund;
  }

  /** Every refund, in creation order. */
  list(): SimulatedRefund[] {
    return [...this.refunds.values()];
  }

  /** Resolves once every automatic completion scheduled so far has happened (or was cancelled by close). */
  async settle(): Promise<void> {
    while (this.pending.size) await Promise.all([...this.pending]);
  }

  /** The `Refund` object of the create and query answers, keys sorted like WeChat's. */
  refundJson(r: SimulatedRefund): Record<string, unknown> {
    const out: Record<string, unknown> = {
      amount: {
        currency: 'CNY',
        discount_refund: 0,
        from: r.amount.from,
        payer_refund: r.amount.refund,
        payer_total: r.amount.payerTotal,
        refund: r.amount.refund,
        settlement_refund: r.amount.refund,
        settlement_total: r.amount.total,
        total: r.amount.total,
      },
      channel: r.channel,
      create_time: formatBeijingRfc3339(new Date(r.createdAt)),
      funds_account: r.fundsAccount ?? 'AVAILABLE',
      out_refund_no: r.outRefundNo,
      out_trade_no: r.outTradeNo,
      promotion_detail: [],
      refund_id: r.refundId,
      status: r.status,
      transaction_id: r.transactionId,
      user_received_account: r.userReceivedAccount,
    };
    if (r.status === 'SUCCESS' && r.completedAt !== undefined) out.success_time = formatBeijingRfc3339(new Date(r.completedAt));
    return sortKeys(out);
  }

  /** The decrypted resource of the REFUND.* notification: sp_mchid + sub_mchid, no mchid. */
  notificationResource(r: SimulatedRefund): Record<string, unknown> {
    return {
      sp_mchid: r.spMchid,
      sub_mchid: r.subMchid,
      transaction_id: r.transactionId,
      out_trade_no: r.outTradeNo,
      refund_id: r.refundId,
      out_refund_no: r.outRefundNo,
      refund_status: r.family === 'ecommerce' && r.status === 'CLOSED' ? (this.ctx.closedSpelling ?? 'CLOSED') : r.status,
      ...(r.status === 'SUCCESS' && r.completedAt !== undefined ? { success_time: formatBeijingRfc3339(new Date(r.completedAt)) } : {}),
      user_received_account: r.userReceivedAccount,
      amount: { total: r.amount.total, refund: r.amount.refund, payer_total: r.amount.payerTotal, payer_refund: r.amount.refund },
      // 平台收付通 refund notifications add where the money came from.
      ...(r.refundAccount ? { refund_account: r.refundAccount } : {}),
    };
  }

  /** Copies of every refund, for `--state-file`. */
  exportState(): SimulatedRefund[] {
    // Decrypted bank details stay in memory only.
    return structuredClone(this.list()).map((r) => (r.abnormalRefund ? { ...r, abnormalRefund: { ...r.abnormalRefund, bankAccount: undefined, realName: undefined } } : r));
  }

  /** Restores refunds saved by `exportState()`; PROCESSING ones complete again in 'auto' mode. */
  importState(refunds: readonly SimulatedRefund[]): void {
    this.refunds.clear();
    this.ids.clear();
    for (const r of structuredClone(refunds)) {
      this.refunds.set(orderKey(r.subMchid, r.outRefundNo), r);
      this.ids.add(r.refundId);
      if (r.status === 'PROCESSING' && this.ctx.mode === 'auto') this.scheduleCompletion(r);
    }
  }

  /** Refunded so far: every refund of the order except CLOSED ones, whose money went back to the merchant. */
  private refundedAmount(order: SimulatedOrder): number {
    let sum = 0;
    for (const r of this.refunds.values()) {
      if (r.subMchid === order.subMchid && r.outTradeNo === order.outTradeNo && r.status !== 'CLOSED') sum += r.amount.refund;
    }
    return sum;
  }

  /** `5030` + 25 digits with the Beijing date inside, 29 characters like WeChat's refund ids. */
  private newRefundId(now: number): string {
    let id: string;
    do id = `5030${digits(5)}${beijingDate(new Date(now)).replace(/-/g, '')}${digits(12)}`;
    while (this.ids.has(id));
    return id;
  }

  private scheduleCompletion(refund: SimulatedRefund): void {
    const run = this.ctx
      .sleep(this.ctx.delayMs)
      .then(() => {
        if (!this.ctx.closed() && refund.status === 'PROCESSING') this.complete(refund.outRefundNo, { sub_mchid: refund.subMchid });
      })
      // Only the simulator's own callbacks run here; a failure must not become an unhandled rejection in the test run.
      .catch(() => undefined)
      .finally(() => this.pending.delete(run));
    this.pending.add(run);
  }
}
