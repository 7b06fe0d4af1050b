/**
 * The combine order state machine (合单支付): a cart of sub-orders of several sub-merchants, paid
 * all or nothing. The sub-orders live in the order book (as orders marked with `combineOutTradeNo`), so that refunds
 * and bills find them by their own `transaction_id` / `out_trade_no`, while the single-order query and close do not
 * (ORDER_NOT_EXIST). The cart's deadline is each sub-order's, so lazy expiry closes all of them together.
 */
import type { OrderScene } from './books/orders.validation';
import type { SimulatorCredentials } from './simulator-credentials';
import { SIMULATOR_ERRORS, SimulatorHttpError } from './simulator-errors';
import {
  type CashierToken,
  fakeOpenid,
  isPaid,
  newPaymentLink,
  orderDeadline,
  type SimulatedOrder,
  type SimulatedTradeState,
  type SimulatorOrderBook,
  TRADE_TYPES,
} from './simulator-orders';
import { jsonEqual, sortKeys } from './simulator-validation';

/** A combine order as the simulator stores it. Read through `sim.getCombineOrder()`, which returns a copy. */
export interface SimulatedCombineOrder {
  combineAppid: string;
  combineMchid: string;
  combineOutTradeNo: string;
  scene: OrderScene;
  notifyUrl: string;
  /** The parsed body of the first order request; re-entry compares against it. */
  request: Record<string, unknown>;
  /** The sub-orders, in the order of the request; their state is in the order book. */
  subOrderIds: Array<{ subMchid: string; outTradeNo: string }>;
  /** `combine_payer_info.openid`: as ordered (JSAPI), else set at payment. */
  payerOpenid?: string;
  deviceId?: string;
  /** ms */
  createdAt: number;
  /** ms: the deadline of every sub-order. */
  timeExpire: number;
  prepayIds: string[];
  codeUrl?: string;
  h5Url?: string;
  /** Failed payment attempts (the cart stays NOTPAY). */
  failedAttempts: number;
}

/** A copy of a combine order with copies of its sub-orders and the cart's state (every sub-order shares it). */
export interface SimulatedCombineCart extends SimulatedCombineOrder {
  /** SUCCESS once paid (even after a sub-order was refunded), CLOSED when closed or expired, else NOTPAY. */
  tradeState: Exclude<SimulatedTradeState, 'REFUND'>;
  subOrders: SimulatedOrder[];
}

/** Options of a simulated combine payment. */
export interface SimulatorCombinePayOptions {
  /** The payer's openid under combine_appid; default the ordered one, else a random one. */
  openid?: string;
  /** Default `OTHERS`. */
  bank_type?: string;
  /** Simulate a failed attempt: the cart stays NOTPAY and nothing is notified. */
  fail?: boolean;
  /** When the payment happened (Date or ms since the epoch); default the simulator clock. */
  at?: Date | number;
  /** Pay, but lose the cart's one TRANSACTION.SUCCESS notification (never posted, `lost: true` in `sim.deliveries`). */
  loseNotification?: boolean;
}

/** Persistable content of the combine book (`--state-file`). */
export interface CombineBookState {
  combineOrders: SimulatedCombineOrder[];
  combineTokens: Array<[string, CashierToken]>;
}

/** What the combine book needs from the simulator. */
export interface CombineBookContext {
  orders: SimulatorOrderBook;
  credentials(): SimulatorCredentials;
  clock(): number;
  /** Absolute URL of the cashier page, which an h5_url points at. */
  cashierUrl(): string;
}

/** A request's sub-order, as validated. */
interface SubOrderBody {
  mchid: string;
  sub_mchid: string;
  sub_appid?: string;
  out_trade_no: string;
  attach: string;
  description: string;
  amount: { total_amount: number };
  settle_info?: unknown;
}

function withoutSettleInfo(body: Record<string, unknown>): unknown {
  return { ...body, sub_orders: (body.sub_orders as SubOrderBody[]).map(({ settle_info: _, ...rest }) => rest) };
}

/** Combine orders of one simulated provider. */
export class SimulatorCombineOrderBook {
  private readonly combines = new Map<string, SimulatedCombineOrder>();
  private readonly tokens = new Map<string, CashierToken>();

  constructor(private readonly ctx: CombineBookContext) {}

  /** POST /v3/combine-transactions/{scene}: the body was validated already. */
  create(scene: OrderScene, body: Record<string, unknown>): Record<string, string> {
    const c = this.ctx.credentials();
    if (body.combine_mchid !== c.spMchid) throw new SimulatorHttpError(SIMULATOR_ERRORS.MCHID_MISMATCH, 'http header中的mchid与combine_mchid不匹配 (combine_mchid must be the provider that signs)');
    if (body.combine_appid !== c.spAppid) {
      throw new SimulatorHttpError(SIMULATOR_ERRORS.APPID_MCHID_NOT_MATCH, `${SIMULATOR_ERRORS.APPID_MCHID_NOT_MATCH.message}: combine_appid is not bound to combine_mchid`);
    }
    const no = body.combine_out_trade_no as string;
    const existing = this.combines.get(no);
    if (existing) {
      const state = this.state(existing);
      if (state === 'SUCCESS') throw new SimulatorHttpError(SIMULATOR_ERRORS.ORDER_PAID);
      if (state === 'CLOSED') throw new SimulatorHttpError(SIMULATOR_ERRORS.ORDER_CLOSED);
      if (existing.scene === scene && !jsonEqual(existing.request, body) && jsonEqual(withoutSettleInfo(existing.request), withoutSettleInfo(body))) {
        throw new SimulatorHttpError(SIMULATOR_ERRORS.COMBINE_SETTLE_MISMATCH);
      }
      if (existing.scene !== scene || !jsonEqual(existing.request, body)) throw new SimulatorHttpError(SIMULATOR_ERRORS.OUT_TRADE_NO_USED);
      return this.issuePrepay(existing);
    }
    const subs = body.sub_orders as SubOrderBody[];
    for (const s of subs) {
      const sub = this.ctx.orders.checkSubMerchant(s.sub_mchid);
      if (s.sub_appid !== undefined && s.sub_appid !== sub.subAppid) {
        throw new SimulatorHttpError(SIMULATOR_ERRORS.APPID_MCHID_NOT_MATCH, 'sub_appid和sub_mchid不匹配 (sub_appid is not bound to sub_mchid)');
      }
      if (this.ctx.orders.has(s.sub_mchid, s.out_trade_no)) {
        throw new SimulatorHttpError(SIMULATOR_ERRORS.COMBINE_SUB_ORDER_NO_USED, `${SIMULATOR_ERRORS.COMBINE_SUB_ORDER_NO_USED.message}: ${s.out_trade_no}`);
      }
    }
    const now = this.ctx.clock();
    const timeExpire = orderDeadline(now, body.time_expire);
    const deviceId = (body.scene_info as { device_id?: string } | undefined)?.device_id;
    const combine: SimulatedCombineOrder = {
      combineAppid: body.combine_appid as string,
      combineMchid: c.spMchid,
      combineOutTradeNo: no,
      scene,
      notifyUrl: body.notify_url as string,
      request: structuredClone(body),
      subOrderIds: subs.map((s) => ({ subMchid: s.sub_mchid, outTradeNo: s.out_trade_no })),
      payerOpenid: (body.combine_payer_info as { openid?: string } | undefined)?.openid,
      deviceId,
      createdAt: now,
      timeExpire,
      prepayIds: [],
      failedAttempts: 0,
    };
    this.ctx.orders.adopt(
      subs.map((s) => ({
        spMchid: c.spMchid,
        spAppid: combine.combineAppid,
        subMchid: s.sub_mchid,
        subAppid: s.sub_appid,
        outTradeNo: s.out_trade_no,
        scene,
        tradeType: TRADE_TYPES[scene],
        description: s.description,
        attach: s.attach,
        notifyUrl: combine.notifyUrl,
        amount: { total: s.amount.total_amount, currency: 'CNY' },
        deviceId,
        request: structuredClone(s) as unknown as Record<string, unknown>,
        tradeState: 'NOTPAY',
        createdAt: now,
        timeExpire,
        prepayIds: [],
        failedAttempts: 0,
        combineOutTradeNo: no,
      })),
    );
    this.combines.set(no, combine);
    return this.issuePrepay(combine);
  }

  private issuePrepay(combine: SimulatedCombineOrder): Record<string, string> {
    const link = newPaymentLink(combine.scene, combine.combineOutTradeNo, this.ctx.clock(), this.ctx.cashierUrl());
    combine.prepayIds.push(link.prepayId);
    this.tokens.set(link.token, link.entry);
    if ('code_url' in link.answer) combine.codeUrl = link.answer.code_url;
    if ('h5_url' in link.answer) combine.h5Url = link.answer.h5_url;
    return link.answer;
  }

  /** The combine order, or 404 ORDER_NOT_EXIST. */
  require(combineOutTradeNo: string): SimulatedCombineOrder {
    const combine = this.combines.get(combineOutTradeNo);
    if (!combine) throw new SimulatorHttpError(SIMULATOR_ERRORS.ORDER_NOT_EXIST, `${SIMULATOR_ERRORS.ORDER_NOT_EXIST.message}: ${combineOutTradeNo}`);
    return combine;
  }

  /** The sub-orders of a combine order (after lazy expiry), in the order of the request. */
  subOrders(combine: SimulatedCombineOrder): SimulatedOrder[] {
    return combine.subOrderIds.map(({ subMchid, outTradeNo }) => {
      const order = this.ctx.orders.find(outTradeNo, subMchid);
      if (!order) throw new Error(`combine order ${combine.combineOutTradeNo}: sub-order ${outTradeNo} is missing from the order book`);
      return order;
    });
  }

  /** The cart's state: every sub-order shares it (a refund turns one sub-order to REFUND; the cart stays paid). */
  state(combine: SimulatedCombineOrder): SimulatedCombineCart['tradeState'] {
    const subs = this.subOrders(combine);
    if (subs.some(isPaid)) return 'SUCCESS';
    if (subs.some((s) => s.tradeState === 'CLOSED')) return 'CLOSED';
    return 'NOTPAY';
  }

  /**
   * POST …/out-trade-no/{combine_out_trade_no}/close: `sub_orders` must name every sub-order (no partial close);
   * closing again is harmless; a paid cart cannot be closed.
   */
  close(combineOutTradeNo: string, body: Record<string, unknown>): void {
    const combine = this.require(combineOutTradeNo);
    if (body.combine_appid !== combine.combineAppid) {
      throw new SimulatorHttpError(SIMULATOR_ERRORS.APPID_MCHID_NOT_MATCH, `${SIMULATOR_ERRORS.APPID_MCHID_NOT_MATCH.message}: combine_appid differs from the order's`);
    }
    const given = body.sub_orders as Array<{ mchid: string; sub_mchid: string; out_trade_no: string }>;
    const key = (sub: string, no: string): string => `${sub}\u0000${no}`;
    const wanted = new Set(combine.subOrderIds.map((s) => key(s.subMchid, s.outTradeNo)));
    const named = new Set(given.map((s) => key(s.sub_mchid, s.out_trade_no)));
    const identical =
      given.length === wanted.size && named.size === wanted.size && [...named].every((k) => wanted.has(k)) && given.every((s) => s.mchid === combine.combineMchid);
    if (!identical) throw new SimulatorHttpError(SIMULATOR_ERRORS.COMBINE_CLOSE_MISMATCH);
    if (this.state(combine) === 'SUCCESS') throw new SimulatorHttpError(SIMULATOR_ERRORS.ORDER_PAID, '订单已支付，不能关单 (a paid combine order cannot be closed: refund its sub-orders instead)');
    for (const s of this.subOrders(combine)) this.ctx.orders.closeUnpaid(s);
  }

  /** Pays the whole cart: every sub-order SUCCESS with its own transaction_id, or none. Throws when not payable. */
  pay(combine: SimulatedCombineOrder, options: SimulatorCombinePayOptions = {}): SimulatedCombineOrder {
    const state = this.state(combine);
    if (state === 'SUCCESS') throw new SimulatorHttpError(SIMULATOR_ERRORS.ORDER_PAID);
    if (state === 'CLOSED') throw new SimulatorHttpError(SIMULATOR_ERRORS.ORDER_CLOSED);
    if (options.fail) {
      combine.failedAttempts++;
      return combine;
    }
    const at = options.at === undefined ? this.ctx.clock() : new Date(options.at).getTime();
    if (!Number.isFinite(at)) throw new Error('payCombine(): options.at is not a valid date');
    const openid = options.openid ?? combine.payerOpenid ?? fakeOpenid();
    const subOpenid = (combine.request.combine_payer_info as { sub_openid?: string } | undefined)?.sub_openid;
    for (const s of this.subOrders(combine)) {
      this.ctx.orders.pay(s, { payer: { sp_openid: openid, ...(s.subAppid && subOpenid ? { sub_openid: subOpenid } : {}) }, bank_type: options.bank_type, at });
    }
    combine.payerOpenid = openid;
    return combine;
  }

  /** The combine transaction of query answers and of the notification, keys sorted. */
  combineJson(combine: SimulatedCombineOrder): Record<string, unknown> {
    const subOrders = this.subOrders(combine).map((o) => {
      const paid = isPaid(o);
      const out: Record<string, unknown> = {
        amount: paid
          ? { currency: 'CNY', payer_amount: o.payerTotal, payer_currency: 'CNY', total_amount: o.amount.total }
          : { currency: 'CNY', total_amount: o.amount.total },
        attach: o.attach,
        mchid: combine.combineMchid,
        out_trade_no: o.outTradeNo,
        sub_mchid: o.subMchid,
        trade_state: o.tradeState,
      };
      if (o.subAppid !== undefined) out.sub_appid = o.subAppid;
      if (paid) {
        Object.assign(out, { bank_type: o.bankType, success_time: o.successTime, trade_type: o.tradeType, transaction_id: o.transactionId });
        if (o.payer?.sub_openid !== undefined) out.sub_openid = o.payer.sub_openid;
      }
      return out;
    });
    const out: Record<string, unknown> = {
      combine_appid: combine.combineAppid,
      combine_mchid: combine.combineMchid,
      combine_out_trade_no: combine.combineOutTradeNo,
      scene_info: { device_id: combine.deviceId ?? '' },
      sub_orders: subOrders,
    };
    if (combine.payerOpenid !== undefined) out.combine_payer_info = { openid: combine.payerOpenid };
    return sortKeys(out);
  }

  /** The combine order behind a cashier token and whether the token expired. */
  cashierLookup(token: string): { combine: SimulatedCombineOrder; token: CashierToken; expired: boolean } | undefined {
    const t = this.tokens.get(token);
    const combine = t && this.combines.get(t.orderKey);
    if (!t || !combine) return undefined;
    return { combine, token: t, expired: this.ctx.clock() >= t.expiresAt };
  }

  /** A copy of a combine order with its sub-orders and state. */
  cart(combine: SimulatedCombineOrder): SimulatedCombineCart {
    return structuredClone({ ...combine, tradeState: this.state(combine), subOrders: this.subOrders(combine) });
  }

  /** Every combine order, in creation order. */
  list(): SimulatedCombineOrder[] {
    return [...this.combines.values()];
  }

  /** A snapshot for `--state-file`. */
  exportState(): CombineBookState {
    return structuredClone({ combineOrders: this.list(), combineTokens: [...this.tokens] });
  }

  /** Restores a snapshot made by `exportState` (after the order book, which holds the sub-orders). */
  importState(state: Partial<CombineBookState>): void {
    this.combines.clear();
    this.tokens.clear();
    for (const c of structuredClone(state.combineOrders ?? [])) this.combines.set(c.combineOutTradeNo, c);
    for (const [token, t] of state.combineTokens ?? []) this.tokens.set(token, { ...t });
  }
}
