/**
 * The simulator's order book and the partner order state machine: create with re-entry rules, query by
 * out_trade_no or transaction_id, close, pay. Orders expire lazily: whenever one is read, an unpaid order past its
 * time_expire becomes CLOSED, so a test moves the clock instead of waiting.
 */
import { randomInt } from 'node:crypto';
import { generateHex, generateNonce } from '../core/crypto/nonce';
import { beijingDate, formatBeijingRfc3339, parseRfc3339 } from '../core/time';
import type { SimulatorCredentials, SimulatorSubMerchant } from './simulator-credentials';
import { SIMULATOR_ERRORS, SimulatorHttpError } from './simulator-errors';
import type { OrderScene } from './books/orders.validation';
import { jsonEqual, sortKeys } from './simulator-validation';

/** `trade_state` values the simulator produces. */
export type SimulatedTradeState = 'NOTPAY' | 'SUCCESS' | 'CLOSED' | 'REFUND';

/** `trade_type` of each scene. */
export const TRADE_TYPES: Record<OrderScene, 'JSAPI' | 'APP' | 'MWEB' | 'NATIVE'> = { jsapi: 'JSAPI', app: 'APP', h5: 'MWEB', native: 'NATIVE' };

const TRADE_STATE_DESC: Record<SimulatedTradeState, string> = { NOTPAY: '订单未支付', SUCCESS: '支付成功', CLOSED: '订单已关闭', REFUND: '转入退款' };

/** Whether an order was paid: SUCCESS, or REFUND once a refund was accepted. */
export function isPaid(order: SimulatedOrder): boolean {
  return order.tradeState === 'SUCCESS' || order.tradeState === 'REFUND';
}

const MINUTE = 60_000;
/** prepay_id and code_url validity. */
const PREPAY_VALIDITY_MS = 120 * MINUTE;
/** h5_url validity. */
const H5_VALIDITY_MS = 5 * MINUTE;
/** Default payment deadline when time_expire is absent. */
const DEFAULT_EXPIRY_MS = 7 * 24 * 60 * MINUTE;

/** An order as the simulator stores it. Read through `sim.getOrder()` / `sim.listOrders()`, which return copies. */
export interface SimulatedOrder {
  spMchid: string;
  spAppid: string;
  subMchid: string;
  subAppid?: string;
  outTradeNo: string;
  scene: OrderScene;
  tradeType: 'JSAPI' | 'APP' | 'MWEB' | 'NATIVE';
  description: string;
  attach?: string;
  notifyUrl: string;
  amount: { total: number; currency: 'CNY' };
  deviceId?: string;
  /** The parsed body of the first order request; re-entry compares against it. */
  request: Record<string, unknown>;
  tradeState: SimulatedTradeState;
  /** ms */
  createdAt: number;
  /** ms: the payment deadline after WeChat's "at least 1 minute" bump. */
  timeExpire: number;
  closedAt?: number;
  closeReason?: 'closed' | 'expired';
  /** Every prepay_id handed out (all stay valid for 2 h). */
  prepayIds: string[];
  codeUrl?: string;
  h5Url?: string;
  transactionId?: string;
  /** RFC 3339, Beijing time. */
  successTime?: string;
  payer?: { sp_openid?: string; sub_openid?: string };
  payerTotal?: number;
  bankType?: string;
  /** Failed payment attempts (the order stays NOTPAY). */
  failedAttempts: number;
  /**
   * Set on the sub-orders of a combine order: paid, closed and expired with the whole cart, never found by the
   * single-order query or close (ORDER_NOT_EXIST), but refunded and billed like any order.
   */
  combineOutTradeNo?: string;
}

/** Options of a simulated payment. */
export interface SimulatorPayOptions {
  /** Needed only when the same out_trade_no exists under several sub-merchants. */
  sub_mchid?: string;
  payer?: { sp_openid?: string; sub_openid?: string };
  /** Default `OTHERS`. */
  bank_type?: string;
  /** Simulate a failed attempt (wrong password, declined card): the order stays NOTPAY and nothing is notified. */
  fail?: boolean;
  /**
   * When the payment happened (Date or ms since the epoch); default: the simulator clock. Lets a test pay "yesterday"
   * for a bill without moving the clock. The notification is still sent now.
   */
  at?: Date | number;
  /**
   * Pay, but lose the TRANSACTION.SUCCESS notification, as when WeChat Pay's notification never arrives: it is never
   * posted nor retried, and `sim.deliveries` records it once with `lost: true`. Queries find the order SUCCESS.
   */
  loseNotification?: boolean;
}

/** What a cashier token (`pr` of a code_url, or a prepay_id) points to. */
export interface CashierToken {
  orderKey: string;
  kind: 'code' | 'prepay' | 'h5';
  expiresAt: number;
}

/** Persistable content of the order book (`--state-file`). */
export interface OrderBookState {
  version: 1;
  orders: SimulatedOrder[];
  tokens: Array<[string, CashierToken]>;
}

/** What the order book needs from the simulator. */
export interface OrderBookContext {
  credentials(): SimulatorCredentials;
  clock(): number;
  baseUrl(): string;
  /** Path of the cashier page, which an h5_url points at. */
  cashierPath: string;
  strictOutTradeNoScope: boolean;
}

/** Key of an order: the provider is fixed, so sub_mchid + out_trade_no. */
export function orderKey(subMchid: string, outTradeNo: string): string {
  return `${subMchid}\u0000${outTradeNo}`;
}

/** `n` random decimal digits (for WeChat-looking ids). */
export function digits(n: number): string {
  let out = '';
  while (out.length < n) out += String(randomInt(1e9)).padStart(9, '0');
  return out.slice(0, n);
}

/** A WeChat-looking openid for a payer the order did not name. */
export function fakeOpenid(): string {
  return `o${generateNonce(27)}`;
}

/** A prepay answer: the fresh prepay_id, the answer body of the scene, and the cashier token to store. */
export interface PaymentLink {
  prepayId: string;
  answer: { prepay_id: string } | { code_url: string } | { h5_url: string };
  token: string;
  entry: CashierToken;
}

/**
 * A fresh prepay_id and the payment link of a scene: a Native `code_url` with its `pr`, an H5 `h5_url`
 * to the cashier page (valid 5 min), or the prepay_id itself (valid 2 h). `key` is what the cashier token pays.
 */
export function newPaymentLink(scene: OrderScene, key: string, now: number, cashierUrl: string): PaymentLink {
  const stamp = formatBeijingRfc3339(new Date(now)).slice(0, 19).replace(/\D/g, '');
  const prepayId = `wx${stamp}${generateHex(20)}`;
  if (scene === 'native') {
    const pr = generateNonce(9);
    return { prepayId, answer: { code_url: `weixin://wxpay/bizpayurl?pr=${pr}` }, token: pr, entry: { orderKey: key, kind: 'code', expiresAt: now + PREPAY_VALIDITY_MS } };
  }
  if (scene === 'h5') {
    const h5Url = `${cashierUrl}?prepay_id=${prepayId}&package=${digits(10)}`;
    return { prepayId, answer: { h5_url: h5Url }, token: prepayId, entry: { orderKey: key, kind: 'h5', expiresAt: now + H5_VALIDITY_MS } };
  }
  return { prepayId, answer: { prepay_id: prepayId }, token: prepayId, entry: { orderKey: key, kind: 'prepay', expiresAt: now + PREPAY_VALIDITY_MS } };
}

/** The payment deadline of a new order: 7 days by default; WeChat bumps one earlier than now + 1 minute to that. */
export function orderDeadline(now: number, timeExpire: unknown): number {
  const requested = typeof timeExpire === 'string' ? parseRfc3339(timeExpire)?.getTime() : undefined;
  return requested === undefined ? now + DEFAULT_EXPIRY_MS : Math.max(requested, now + MINUTE);
}

/** Orders of one simulated provider. */
export class SimulatorOrderBook {
  private readonly orders = new Map<string, SimulatedOrder>();
  private readonly byTransactionId = new Map<string, string>();
  private readonly tokens = new Map<string, CashierToken>();

  constructor(private readonly ctx: OrderBookContext) {}

  /** Sub-merchant rules shared by every endpoint. */
  checkSubMerchant(subMchid: string): SimulatorSubMerchant {
    const c = this.ctx.credentials();
    if (subMchid === c.spMchid) throw new SimulatorHttpError(SIMULATOR_ERRORS.SUB_MCHID_IS_SELF);
    const sub = c.subMerchants.find((s) => s.subMchid === subMchid);
    if (!sub) throw new SimulatorHttpError(SIMULATOR_ERRORS.MCH_NOT_EXISTS, `${SIMULATOR_ERRORS.MCH_NOT_EXISTS.message}: ${subMchid}`);
    if (!sub.authorized) throw new SimulatorHttpError(SIMULATOR_ERRORS.NO_AUTH);
    return sub;
  }

  /** POST /v3/pay/partner/transactions/{scene}: the body was validated already. */
  create(scene: OrderScene, body: Record<string, unknown>): Record<string, string> {
    const c = this.ctx.credentials();
    const subMchid = body.sub_mchid as string;
    const outTradeNo = body.out_trade_no as string;
    const sub = this.checkSubMerchant(subMchid);
    if (body.sp_appid !== c.spAppid) {
      throw new SimulatorHttpError(SIMULATOR_ERRORS.APPID_MCHID_NOT_MATCH, `${SIMULATOR_ERRORS.APPID_MCHID_NOT_MATCH.message}: sp_appid is not bound to sp_mchid`);
    }
    if (body.sub_appid !== undefined && body.sub_appid !== sub.subAppid) {
      throw new SimulatorHttpError(SIMULATOR_ERRORS.APPID_MCHID_NOT_MATCH, 'sub_mch_id与sub_appid不匹配 (sub_appid is not bound to sub_mchid)');
    }
    const key = orderKey(subMchid, outTradeNo);
    const existing = this.refresh(this.orders.get(key));
    if (existing) {
      if (existing.combineOutTradeNo !== undefined) throw new SimulatorHttpError(SIMULATOR_ERRORS.OUT_TRADE_NO_USED, '商户订单号重复 (out_trade_no is a sub-order of a combine order)');
      if (isPaid(existing)) throw new SimulatorHttpError(SIMULATOR_ERRORS.ORDER_PAID);
      if (existing.tradeState === 'CLOSED') throw new SimulatorHttpError(SIMULATOR_ERRORS.ORDER_CLOSED);
      if (existing.scene !== scene || !jsonEqual(existing.request, body)) throw new SimulatorHttpError(SIMULATOR_ERRORS.OUT_TRADE_NO_USED);
      return this.issuePrepay(existing);
    }
    if (this.ctx.strictOutTradeNoScope && this.list().some((o) => o.outTradeNo === outTradeNo)) {
      throw new SimulatorHttpError(SIMULATOR_ERRORS.OUT_TRADE_NO_USED, '商户订单号在同一商户号下（含所有子商户号）必须唯一 (out_trade_no is used by another sub-merchant)');
    }
    const now = this.ctx.clock();
    const amount = body.amount as { total: number };
    const sceneInfo = body.scene_info as { device_id?: string } | undefined;
    const order: SimulatedOrder = {
      spMchid: c.spMchid,
      spAppid: c.spAppid,
      subMchid,
      subAppid: body.sub_appid as string | undefined,
      outTradeNo,
      scene,
      tradeType: TRADE_TYPES[scene],
      description: body.description as string,
      attach: body.attach as string | undefined,
      notifyUrl: body.notify_url as string,
      amount: { total: amount.total, currency: 'CNY' },
      deviceId: sceneInfo?.device_id,
      request: structuredClone(body),
      tradeState: 'NOTPAY',
      createdAt: now,
      timeExpire: orderDeadline(now, body.time_expire),
      prepayIds: [],
      failedAttempts: 0,
    };
    this.orders.set(key, order);
    return this.issuePrepay(order);
  }

  private issuePrepay(order: SimulatedOrder): Record<string, string> {
    const link = newPaymentLink(order.scene, orderKey(order.subMchid, order.outTradeNo), this.ctx.clock(), `${this.ctx.baseUrl()}${this.ctx.cashierPath}`);
    order.prepayIds.push(link.prepayId);
    this.tokens.set(link.token, link.entry);
    if ('code_url' in link.answer) order.codeUrl = link.answer.code_url;
    if ('h5_url' in link.answer) order.h5Url = link.answer.h5_url;
    return link.answer;
  }

  /** Applies lazy expiry and returns the order. */
  private refresh(order: SimulatedOrder | undefined): SimulatedOrder | undefined {
    if (order && order.tradeState === 'NOTPAY' && this.ctx.clock() >= order.timeExpire) {
      order.tradeState = 'CLOSED';
      order.closeReason = 'expired';
      order.closedAt = order.timeExpire;
    }
    return order;
  }

  /** The order of a sub-merchant, or 404: unknown, or known under another sub_mchid. */
  private require(subMchid: string, outTradeNo: string): SimulatedOrder {
    const order = this.refresh(this.orders.get(orderKey(subMchid, outTradeNo)));
    // The single-order API does not know combine sub-orders.
    if (order && order.combineOutTradeNo === undefined) return order;
    if (this.list().some((o) => o.outTradeNo === outTradeNo && o.combineOutTradeNo === undefined)) throw new SimulatorHttpError(SIMULATOR_ERRORS.ORDER_MCH_MISMATCH);
    throw new SimulatorHttpError(SIMULATOR_ERRORS.ORDER_NOT_EXIST);
  }

  /** GET …/out-trade-no/{out_trade_no} */
  queryByOutTradeNo(subMchid: string, outTradeNo: string): Record<string, unknown> {
    this.checkSubMerchant(subMchid);
    return this.transactionJson(this.require(subMchid, outTradeNo));
  }

  /** GET …/id/{transaction_id} */
  queryByTransactionId(subMchid: string, transactionId: string): Record<string, unknown> {
    this.checkSubMerchant(subMchid);
    const key = this.byTransactionId.get(transactionId);
    const order = key === undefined ? undefined : this.orders.get(key);
    if (!order || order.combineOutTradeNo !== undefined) throw new SimulatorHttpError(SIMULATOR_ERRORS.ORDER_NOT_EXIST);
    if (order.subMchid !== subMchid) throw new SimulatorHttpError(SIMULATOR_ERRORS.ORDER_MCH_MISMATCH);
    return this.transactionJson(order);
  }

  /** POST …/out-trade-no/{out_trade_no}/close: re-entrant; a paid order cannot be closed. */
  close(subMchid: string, outTradeNo: string): void {
    this.checkSubMerchant(subMchid);
    const order = this.require(subMchid, outTradeNo);
    if (isPaid(order)) throw new SimulatorHttpError(SIMULATOR_ERRORS.ORDER_PAID, '订单已支付，不能关单 (a paid order cannot be closed: refund it instead)');
    this.closeUnpaid(order);
  }

  /** Closes an order that is NOTPAY (a CLOSED one stays as it is). */
  closeUnpaid(order: SimulatedOrder): void {
    if (this.refresh(order)?.tradeState !== 'NOTPAY') return;
    order.tradeState = 'CLOSED';
    order.closeReason = 'closed';
    order.closedAt = this.ctx.clock();
  }

  /** Whether a sub-merchant already has an order (or combine sub-order) with this out_trade_no. */
  has(subMchid: string, outTradeNo: string): boolean {
    return this.orders.has(orderKey(subMchid, outTradeNo));
  }

  /** Adds orders built elsewhere (the sub-orders of a combine order), all at once; their numbers must be free. */
  adopt(orders: readonly SimulatedOrder[]): void {
    for (const o of orders) if (this.has(o.subMchid, o.outTradeNo)) throw new Error(`adopt: ${o.subMchid}/${o.outTradeNo} exists`);
    for (const o of orders) this.orders.set(orderKey(o.subMchid, o.outTradeNo), o);
  }

  /** Finds the order to pay: by sub_mchid when given, else the only order with this out_trade_no. */
  find(outTradeNo: string, subMchid?: string): SimulatedOrder | undefined {
    if (subMchid !== undefined) return this.refresh(this.orders.get(orderKey(subMchid, outTradeNo)));
    const matches = this.list().filter((o) => o.outTradeNo === outTradeNo);
    if (matches.length > 1) throw new Error(`out_trade_no ${outTradeNo} exists under several sub-merchants: pass sub_mchid`);
    return matches[0];
  }

  /** A sub-merchant's order by out_trade_no or transaction_id (after lazy expiry); undefined when it has none. */
  lookup(subMchid: string, ids: { outTradeNo?: string; transactionId?: string }): SimulatedOrder | undefined {
    const key = ids.transactionId !== undefined ? this.byTransactionId.get(ids.transactionId) : orderKey(subMchid, ids.outTradeNo ?? '');
    const order = key === undefined ? undefined : this.refresh(this.orders.get(key));
    return order?.subMchid === subMchid ? order : undefined;
  }

  /** Marks an order paid (or records a failed attempt). Throws `SimulatorHttpError` when it is not payable. */
  pay(order: SimulatedOrder, options: SimulatorPayOptions = {}): SimulatedOrder {
    this.refresh(order);
    if (isPaid(order)) throw new SimulatorHttpError(SIMULATOR_ERRORS.ORDER_PAID);
    if (order.tradeState === 'CLOSED') throw new SimulatorHttpError(SIMULATOR_ERRORS.ORDER_CLOSED);
    if (options.fail) {
      order.failedAttempts++;
      return order;
    }
    const now = options.at === undefined ? this.ctx.clock() : new Date(options.at).getTime();
    if (!Number.isFinite(now)) throw new Error('pay(): options.at is not a valid date');
    let transactionId: string;
    do transactionId = `42000${digits(5)}${beijingDate(new Date(now)).replace(/-/g, '')}${digits(10)}`;
    while (this.byTransactionId.has(transactionId));
    const requested = (order.request.payer ?? {}) as { sp_openid?: string; sub_openid?: string };
    const sp = options.payer?.sp_openid ?? requested.sp_openid ?? fakeOpenid();
    const subOpenid = options.payer?.sub_openid ?? requested.sub_openid ?? (order.subAppid ? fakeOpenid() : undefined);
    order.tradeState = 'SUCCESS';
    order.transactionId = transactionId;
    order.successTime = formatBeijingRfc3339(new Date(now));
    order.payer = subOpenid === undefined ? { sp_openid: sp } : { sp_openid: sp, sub_openid: subOpenid };
    order.payerTotal = order.amount.total;
    order.bankType = options.bank_type ?? 'OTHERS';
    this.byTransactionId.set(transactionId, orderKey(order.subMchid, order.outTradeNo));
    return order;
  }

  /** The order behind a cashier token (`pr` or prepay_id) and whether the token expired. */
  cashierLookup(token: string): { order: SimulatedOrder; token: CashierToken; expired: boolean } | undefined {
    const t = this.tokens.get(token);
    const order = t && this.refresh(this.orders.get(t.orderKey));
    if (!t || !order) return undefined;
    return { order, token: t, expired: this.ctx.clock() >= t.expiresAt };
  }

  /** The Transaction object of query responses and notifications, keys sorted like WeChat's. */
  transactionJson(order: SimulatedOrder): Record<string, unknown> {
    const paid = isPaid(order);
    const out: Record<string, unknown> = {
      amount: paid
        ? { currency: 'CNY', payer_currency: 'CNY', payer_total: order.payerTotal, total: order.amount.total }
        : { currency: 'CNY', payer_currency: 'CNY', total: order.amount.total },
      out_trade_no: order.outTradeNo,
      promotion_detail: [],
      scene_info: { device_id: order.deviceId ?? '' },
      sp_appid: order.spAppid,
      sp_mchid: order.spMchid,
      sub_mchid: order.subMchid,
      trade_state: order.tradeState,
      trade_state_desc: TRADE_STATE_DESC[order.tradeState],
    };
    if (order.subAppid !== undefined) out.sub_appid = order.subAppid;
    if (order.attach !== undefined) out.attach = order.attach;
    // Observed unpaid orders carry no trade_type, transaction_id, payer, bank_type or success_time.
    if (paid) Object.assign(out, { bank_type: order.bankType, payer: order.payer, success_time: order.successTime, trade_type: order.tradeType, transaction_id: order.transactionId });
    return sortKeys(out);
  }

  /** Every order (after lazy expiry). */
  list(): SimulatedOrder[] {
    return [...this.orders.values()].map((o) => this.refresh(o)!);
  }

  /** A snapshot for `--state-file`. */
  exportState(): OrderBookState {
    return structuredClone({ version: 1 as const, orders: this.list(), tokens: [...this.tokens] });
  }

  /** Restores a snapshot made by `exportState` (replaces everything). */
  importState(state: OrderBookState): void {
    if (state?.version !== 1 || !Array.isArray(state.orders)) throw new Error('Unsupported simulator state file (expected version 1)');
    this.orders.clear();
    this.byTransactionId.clear();
    this.tokens.clear();
    for (const o of structuredClone(state.orders)) {
      const key = orderKey(o.subMchid, o.outTradeNo);
      this.orders.set(key, o);
      if (o.transactionId) this.byTransactionId.set(o.transactionId, key);
    }
    for (const [token, t] of state.tokens ?? []) this.tokens.set(token, { ...t });
  }
}
