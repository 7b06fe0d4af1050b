/**
 * The 平台收付通 refunds book: `/v3/ecommerce/refunds/...` for a provider started with
 * `product: 'ecommerce'` (any other provider gets WeChat's "非电商商户暂不支持调用此API"). It shares the refund state
 * machine with the partner family (PROCESSING → SUCCESS | CLOSED | ABNORMAL, within a year, the sum at most the paid
 * amount, re-entry on out_refund_no), so its refunds are in the trade bills and their REFUND.* notifications (with
 * `refund_account`) follow the same delivery rules; it adds the 50-refund limit, advance refunds (only with the
 * advance permission) and their return (垫付回补).
 */
import { ECOMMERCE_REFUND_ENDPOINTS } from '../../refunds/ecommerce-refunds.endpoints';
import { formatBeijingRfc3339 } from '../../core/time';
import { SIMULATOR_ERRORS, SimulatorHttpError } from '../simulator-errors';
import { digits, type SimulatedOrder } from '../simulator-orders';
import type { SimulatedRefund, SimulatedReturnAdvanceResult, SimulatorRefundBook } from '../simulator-refunds';
import { json, type SimulatorBook, type SimulatorBookContext, type SimulatorRoute } from '../simulator-routes';
import { sortKeys } from '../simulator-validation';
import type { OrdersBook } from './orders.book';
import { abnormalApplication } from './refunds.book';
import { validateAbnormalRefundBody } from './refunds.validation';
import { querySubMchid, validateEcommerceRefundBody, validateRefundIdParam, validateReturnAdvanceBody } from './ecommerce-refunds.validation';

/** Options of the ecommerce refunds book. */
export interface EcommerceRefundsBookOptions {
  product: 'ecommerce' | 'partner';
  advanceRefundPermission: boolean;
  returnAdvanceResult: SimulatedReturnAdvanceResult;
  closedStatus: 'CLOSED' | 'CLOSE';
  maxRefundsPerOrder: number;
  /**
   * Whether a profit-sharing order's money is still frozen (the profit-sharing book knows: split and finished, or
   * auto-unfrozen, it is not). Without it every order placed with `settle_info.profit_sharing: true` counts as frozen.
   */
  stillFrozen?: (order: SimulatedOrder) => boolean;
}

const ADVANCE = 'REFUND_SOURCE_PARTNER_ADVANCE';

/** 平台收付通 refunds of one simulated platform. */
export class EcommerceRefundsBook implements SimulatorBook {
  readonly name = 'ecommerce refunds';

  constructor(
    private readonly ctx: SimulatorBookContext,
    private readonly orders: OrdersBook,
    private readonly state: SimulatorRefundBook,
    private readonly options: EcommerceRefundsBookOptions,
  ) {}

  routes(): SimulatorRoute[] {
    const E = ECOMMERCE_REFUND_ENDPOINTS;
    const routes: SimulatorRoute[] = [
      { endpoint: E.create, handle: ({ body }) => json(200, this.createJson(this.create(body))) },
      {
        endpoint: E.queryByRefundId,
        handle: ({ params, query }) => {
          validateRefundIdParam(params.refund_id);
          return json(200, this.refundJson(this.byId(params.refund_id, querySubMchid(query))));
        },
      },
      {
        endpoint: E.queryByOutRefundNo,
        handle: ({ params, query }) => {
          const sub = querySubMchid(query);
          this.orders.state.checkSubMerchant(sub);
          const refund = this.state.find(params.out_refund_no, sub);
          if (!refund || refund.family !== 'ecommerce') throw new SimulatorHttpError(SIMULATOR_ERRORS.REFUND_NOT_EXISTS);
          return json(200, this.refundJson(refund));
        },
      },
      { endpoint: E.returnAdvance, handle: ({ params, body }) => json(200, this.returnAdvance(params.refund_id, validateReturnAdvanceBody(params.refund_id, body))) },
      {
        endpoint: E.queryReturnAdvance,
        handle: ({ params, query }) => {
          validateRefundIdParam(params.refund_id);
          const refund = this.byId(params.refund_id, querySubMchid(query));
          if (!refund.returnAdvance) throw new SimulatorHttpError(SIMULATOR_ERRORS.RETURN_ADVANCE_NOT_EXISTS);
          return json(200, this.returnAdvanceJson(refund));
        },
      },
      {
        endpoint: E.applyAbnormalRefund,
        handle: ({ params, body, headers }) => {
          validateAbnormalRefundBody(params.refund_id, body);
          const sub = body.sub_mchid as string;
          // The partner state accepts any refund_id; this family answers only its own.
          this.byId(params.refund_id, sub);
          const refund = this.state.reapply(params.refund_id, sub, body.out_refund_no as string, abnormalApplication(this.ctx.keyring(), body, headers));
          return json(200, this.refundJson(refund));
        },
      },
    ];
    return routes.map((route) => ({
      ...route,
      handle: (ctx) => {
        if (this.options.product !== 'ecommerce') throw new SimulatorHttpError(SIMULATOR_ERRORS.PRODUCT_NOT_ECOMMERCE);
        return route.handle(ctx);
      },
    }));
  }

  /**
   * Ends a PROCESSING return-advance (the simulator's `returnAdvanceResult: 'PROCESSING'`) with SUCCESS or FAILED.
   * Throws when there is none.
   */
  completeReturnAdvance(refundId: string, result: 'SUCCESS' | 'FAILED'): Record<string, unknown> {
    const refund = this.state.list().find((r) => r.refundId === refundId && r.family === 'ecommerce');
    const ra = refund?.returnAdvance;
    if (!refund || !ra) throw new Error(`completeReturnAdvance: no return-advance for refund ${refundId}`);
    if (ra.result !== 'PROCESSING') throw new Error(`completeReturnAdvance: the return-advance of ${refundId} is already ${ra.result}`);
    if (result !== 'SUCCESS' && result !== 'FAILED') throw new Error(`completeReturnAdvance: result must be SUCCESS or FAILED, got ${String(result)}`);
    ra.result = result;
    if (result === 'SUCCESS') ra.succeededAt = this.ctx.clock();
    this.ctx.changed();
    return this.returnAdvanceJson(refund);
  }

  private create(body: Record<string, unknown>): SimulatedRefund {
    validateEcommerceRefundBody(body);
    const c = this.ctx.credentials();
    const sub = this.orders.state.checkSubMerchant(body.sub_mchid as string);
    if (body.sp_appid !== c.spAppid) throw new SimulatorHttpError(SIMULATOR_ERRORS.APPID_MCHID_NOT_MATCH, `${SIMULATOR_ERRORS.APPID_MCHID_NOT_MATCH.message}: sp_appid`);
    if (body.sub_appid !== undefined && body.sub_appid !== sub.subAppid) {
      throw new SimulatorHttpError(SIMULATOR_ERRORS.APPID_MCHID_NOT_MATCH, `${SIMULATOR_ERRORS.APPID_MCHID_NOT_MATCH.message}: sub_appid is not bound to the 二级商户`);
    }
    const advance = body.refund_account === ADVANCE;
    // Asking for an advance only allows one; the simulator advances whenever it is allowed and permitted.
    if (advance && !this.options.advanceRefundPermission) throw new SimulatorHttpError(SIMULATOR_ERRORS.ADVANCE_NOT_PERMITTED);
    return this.state.accept(body, {
      family: 'ecommerce',
      refundAccount: advance ? ADVANCE : 'REFUND_SOURCE_SUB_MERCHANT',
      maxRefundsPerOrder: this.options.maxRefundsPerOrder,
    });
  }

  private byId(refundId: string, subMchid: string): SimulatedRefund {
    this.orders.state.checkSubMerchant(subMchid);
    const refund = this.state.list().find((r) => r.refundId === refundId && r.subMchid === subMchid && r.family === 'ecommerce');
    if (!refund) throw new SimulatorHttpError(SIMULATOR_ERRORS.REFUND_ID_NOT_EXISTS);
    return refund;
  }

  /**
   * POST …/{refund_id}/return-advance: only for a successful advance refund; keyed on refund_id, so a second request
   * answers the same return unless the first FAILED, which may be tried again [UNVERIFIED re-entry].
   */
  private returnAdvance(refundId: string, subMchid: string): Record<string, unknown> {
    const refund = this.byId(refundId, subMchid);
    if (refund.refundAccount !== ADVANCE) throw new SimulatorHttpError(SIMULATOR_ERRORS.NOT_ADVANCE_REFUND);
    if (refund.status !== 'SUCCESS') throw new SimulatorHttpError(SIMULATOR_ERRORS.ADVANCE_REFUND_NOT_SUCCESS, `${SIMULATOR_ERRORS.ADVANCE_REFUND_NOT_SUCCESS.message}: the refund is ${refund.status}`);
    if (!refund.returnAdvance || refund.returnAdvance.result === 'FAILED') {
      const now = this.ctx.clock();
      const result = this.options.returnAdvanceResult;
      refund.returnAdvance = { advanceReturnId: `${refund.refundId.slice(0, 8)}${digits(20)}`, amount: refund.amount.refund, result, requestedAt: now, ...(result === 'SUCCESS' ? { succeededAt: now } : {}) };
    }
    return this.returnAdvanceJson(refund);
  }

  private status(r: SimulatedRefund): string {
    return r.status === 'CLOSED' ? this.options.closedStatus : r.status;
  }

  private amountJson(r: SimulatedRefund): Record<string, unknown> {
    return {
      advance: r.refundAccount === ADVANCE ? r.amount.refund : 0,
      currency: 'CNY',
      discount_refund: 0,
      from: r.amount.from,
      payer_refund: r.amount.refund,
      refund: r.amount.refund,
    };
  }

  /** `Refund4Create`: partial, no status; `refund_account` is left out as the debit is not done yet [SDK javadoc]. */
  private createJson(r: SimulatedRefund): Record<string, unknown> {
    return sortKeys({ amount: this.amountJson(r), create_time: formatBeijingRfc3339(new Date(r.createdAt)), out_refund_no: r.outRefundNo, promotion_detail: [], refund_id: r.refundId });
  }

  /** `Refund` of the queries and of the abnormal refund answer. */
  private refundJson(r: SimulatedRefund): Record<string, unknown> {
    const order = this.orders.state.lookup(r.subMchid, { outTradeNo: r.outTradeNo });
    const out: Record<string, unknown> = {
      amount: this.amountJson(r),
      channel: r.channel,
      create_time: formatBeijingRfc3339(new Date(r.createdAt)),
      funds_account: r.fundsAccount ?? (isFrozen(order, this.options.stillFrozen) ? 'UNAVAILABLE' : 'AVAILABLE'),
      out_refund_no: r.outRefundNo,
      out_trade_no: r.outTradeNo,
      promotion_detail: [],
      refund_account: r.refundAccount,
      refund_id: r.refundId,
      status: this.status(r),
      transaction_id: r.transactionId,
      user_received_account: r.userReceivedAccount,
    };
    if (r.status === 'SUCCESS' && r.completedAt !== undefined) out.success_time = formatBeijingRfc3339(new Date(r.completedAt));
    return sortKeys(out);
  }

  private returnAdvanceJson(r: SimulatedRefund): Record<string, unknown> {
    const ra = r.returnAdvance!;
    const out: Record<string, unknown> = {
      advance_return_id: ra.advanceReturnId,
      payee_account: 'BASIC',
      payee_mchid: r.spMchid,
      payer_account: 'BASIC',
      payer_mchid: r.subMchid,
      refund_id: r.refundId,
      result: ra.result,
      return_amount: ra.amount,
    };
    if (ra.succeededAt !== undefined) out.success_time = formatBeijingRfc3339(new Date(ra.succeededAt));
    return sortKeys(out);
  }
}

/**
 * Whether the order's money is still frozen for profit sharing (placed with `settle_info.profit_sharing: true` and
 * not yet finished or unfrozen): its refunds then come from the unavailable balance by default (WeChat Pay's
 * `funds_account` rule), afterwards from the available one.
 */
function isFrozen(order: SimulatedOrder | undefined, stillFrozen?: (order: SimulatedOrder) => boolean): boolean {
  const settle = order?.request.settle_info as { profit_sharing?: unknown } | undefined;
  if (!order || settle?.profit_sharing !== true) return false;
  return stillFrozen ? stillFrozen(order) : true;
}
