/**
 * The orders book: prepay in the four scenes, query by either id, close; the payment that sends
 * TRANSACTION.SUCCESS; and the tooling a test or a person pays with: `/__sim/pay`, the cashier page and its buttons.
 */
import type { WechatPayEndpoint } from '../../core/http/endpoint';
import { parseRfc3339 } from '../../core/time';
import { ORDER_ENDPOINTS } from '../../orders/orders.endpoints';
import { type CashierPageModel, renderCashierError, renderCashierPage } from '../simulator-cashier-page';
import { SIMULATOR_ERRORS, SimulatorHttpError } from '../simulator-errors';
import { type CashierToken, type OrderBookState, type SimulatedOrder, SimulatorOrderBook, type SimulatorPayOptions } from '../simulator-orders';
import {
  json,
  noContent,
  type SimulatorBook,
  type SimulatorBookContext,
  type SimulatorRoute,
  type ToolingAnswer,
  toolingJson,
  type ToolingRoute,
} from '../simulator-routes';
import { type OrderScene, validateCloseBody, validateOrderBody, validatePathParam, validateQueryIds } from './orders.validation';

/** The cashier page: where a Native code_url, an H5 h5_url or a prepay_id is "paid". */
export const CASHIER_PATH = '/__sim/cashier';
/** Query parameter of the cashier page that ticks its "lose the notification" box (`…&lose_notification=1`). */
export const LOSE_NOTIFICATION_PARAM = 'lose_notification';

/** What a cashier token pays, as the cashier page shows it: an order of this book, or another book's payment. */
export interface CashierTarget {
  token: CashierToken;
  expired: boolean;
  tradeState: string;
  page: Pick<CashierPageModel, 'merchantName' | 'subMchid' | 'description' | 'outTradeNo' | 'total'>;
  /** Pays as the payer would (losing the notification if asked); returns what the Pay button answers besides `result`. */
  pay(options?: { loseNotification?: boolean }): Record<string, unknown>;
}

/** Another book whose payments the cashier page takes (the combine book's carts). */
export interface CashierSource {
  cashierTarget(token: string): CashierTarget | undefined;
}

/** The four prepay routes of a family whose descriptors are named `<scene>Prepay` (single and combine orders). */
export function prepayRoutes(
  endpoints: Readonly<Record<`${OrderScene}Prepay`, WechatPayEndpoint>>,
  create: (scene: OrderScene, body: Record<string, unknown>) => Record<string, string>,
): SimulatorRoute[] {
  const scenes: OrderScene[] = ['jsapi', 'app', 'h5', 'native'];
  return scenes.map((scene) => ({ endpoint: endpoints[`${scene}Prepay`], handle: ({ body }) => json(200, create(scene, body)) }));
}

/** Options of the orders book. */
export interface OrdersBookOptions {
  /** Reject an out_trade_no already used by another sub-merchant of the provider. */
  strictOutTradeNoScope: boolean;
}

/** Partner orders of one simulated provider. */
export class OrdersBook implements SimulatorBook {
  readonly name = 'orders';
  /** The order state machine (also read by the refunds and bills books). */
  readonly state: SimulatorOrderBook;
  private readonly cashierSources: CashierSource[] = [];

  constructor(
    private readonly ctx: SimulatorBookContext,
    options: OrdersBookOptions,
  ) {
    this.state = new SimulatorOrderBook({
      credentials: () => ctx.credentials(),
      clock: () => ctx.clock(),
      baseUrl: () => ctx.baseUrl(),
      cashierPath: CASHIER_PATH,
      strictOutTradeNoScope: options.strictOutTradeNoScope,
    });
  }

  routes(): SimulatorRoute[] {
    const E = ORDER_ENDPOINTS;
    return [
      ...prepayRoutes(E, (scene, body) => {
        validateOrderBody(scene, body);
        return this.state.create(scene, body);
      }),
      {
        endpoint: E.queryByOutTradeNo,
        handle: ({ params, query }) => {
          validatePathParam('out_trade_no', params.out_trade_no);
          return json(200, this.state.queryByOutTradeNo(validateQueryIds(query).subMchid, params.out_trade_no));
        },
      },
      {
        endpoint: E.queryByTransactionId,
        handle: ({ params, query }) => {
          validatePathParam('transaction_id', params.transaction_id);
          return json(200, this.state.queryByTransactionId(validateQueryIds(query).subMchid, params.transaction_id));
        },
      },
      {
        endpoint: E.close,
        handle: ({ params, body }) => {
          validatePathParam('out_trade_no', params.out_trade_no);
          validateCloseBody(body);
          this.state.close(body.sub_mchid as string, params.out_trade_no);
          return noContent();
        },
      },
    ];
  }

  tooling(): ToolingRoute[] {
    return [
      { method: 'GET', path: '/__sim/orders', handle: () => toolingJson(200, this.state.list().map((o) => this.state.transactionJson(o))) },
      { method: 'POST', path: '/__sim/pay', handle: ({ body }) => this.payFromTooling(body) },
      { method: 'GET', path: CASHIER_PATH, handle: ({ query }) => this.cashierPage(query) },
      { method: 'POST', path: `${CASHIER_PATH}/pay`, handle: ({ body }) => this.cashierButton(body, 'pay') },
      { method: 'POST', path: `${CASHIER_PATH}/cancel`, handle: ({ body }) => this.cashierButton(body, 'cancel') },
    ];
  }

  /**
   * Pays an order as the payer would and schedules TRANSACTION.SUCCESS (lost with `loseNotification`); with `fail`
   * the attempt fails and the order stays NOTPAY. Throws `SimulatorHttpError` when the order cannot be paid.
   */
  pay(order: SimulatedOrder, options: SimulatorPayOptions): void {
    if (order.combineOutTradeNo !== undefined) {
      throw new SimulatorHttpError(SIMULATOR_ERRORS.ORDER_NOT_EXIST, `订单不存在: ${order.outTradeNo} is a sub-order of combine order ${order.combineOutTradeNo}: pay the whole cart (sim.payCombine)`);
    }
    this.state.pay(order, options);
    this.ctx.changed();
    if (order.tradeState !== 'SUCCESS') return;
    this.ctx.notify(order.notifyUrl, 'TRANSACTION.SUCCESS', this.state.transactionJson(order), undefined, options.loseNotification === true ? true : undefined);
  }

  /** The cashier page URL of a Native `code_url` or of a `prepay_id`; `loseNotification` ticks the page's box. */
  cashierUrl(codeUrlOrPrepayId: string, options: { loseNotification?: boolean } = {}): string {
    const lose = options.loseNotification === true ? `&${LOSE_NOTIFICATION_PARAM}=1` : '';
    const pr = /^weixin:\/\/wxpay\/bizpayurl\?pr=([^&]+)$/.exec(codeUrlOrPrepayId)?.[1];
    if (pr) return `${this.ctx.baseUrl()}${CASHIER_PATH}?pr=${encodeURIComponent(pr)}${lose}`;
    if (/^wx[0-9A-Za-z]{8,64}$/.test(codeUrlOrPrepayId)) return `${this.ctx.baseUrl()}${CASHIER_PATH}?prepay_id=${encodeURIComponent(codeUrlOrPrepayId)}${lose}`;
    throw new Error(
      'cashierUrl: expected a Native code_url (weixin://wxpay/bizpayurl?pr=…) or a prepay_id (wx…); an H5 h5_url ' +
        'already points at the cashier page',
    );
  }

  /** Lets the cashier page pay another book's payment links too. */
  addCashierSource(source: CashierSource): void {
    this.cashierSources.push(source);
  }

  exportState(): Record<string, unknown> {
    return { ...this.state.exportState() };
  }

  importState(state: Readonly<Record<string, unknown>>): void {
    this.state.importState(state as unknown as OrderBookState);
  }

  private payFromTooling(input: Record<string, unknown>): ToolingAnswer {
    const order = this.state.find(String(input.out_trade_no ?? ''), typeof input.sub_mchid === 'string' ? input.sub_mchid : undefined);
    if (!order) throw new SimulatorHttpError(SIMULATOR_ERRORS.ORDER_NOT_EXIST);
    const payer = (input.payer as SimulatorPayOptions['payer']) ?? (typeof input.payer_openid === 'string' ? { sp_openid: input.payer_openid } : undefined);
    const at = typeof input.success_time === 'string' ? parseRfc3339(input.success_time) : undefined;
    if (input.success_time !== undefined && !at) throw new SimulatorHttpError(SIMULATOR_ERRORS.PARAM_ERROR, 'success_time must be RFC 3339, e.g. 2024-05-20T13:29:35+08:00');
    this.pay(order, { payer, bank_type: typeof input.bank_type === 'string' ? input.bank_type : undefined, fail: input.fail === true, at, loseNotification: input.lose_notification === true });
    return toolingJson(200, this.state.transactionJson(order));
  }

  /** The payment behind a cashier token: an order of this book, else one of another book. */
  private cashierTarget(token: string): CashierTarget | undefined {
    const found = this.state.cashierLookup(token);
    if (!found) {
      for (const source of this.cashierSources) {
        const target = source.cashierTarget(token);
        if (target) return target;
      }
      return undefined;
    }
    const { order } = found;
    const sub = this.ctx.credentials().subMerchants.find((s) => s.subMchid === order.subMchid);
    return {
      token: found.token,
      expired: found.expired,
      tradeState: order.tradeState,
      page: { merchantName: sub?.name ?? order.subMchid, subMchid: order.subMchid, description: order.description, outTradeNo: order.outTradeNo, total: order.amount.total },
      pay: (options = {}) => {
        this.pay(order, { loseNotification: options.loseNotification });
        return { out_trade_no: order.outTradeNo, transaction_id: order.transactionId };
      },
    };
  }

  private cashierButton(input: Record<string, unknown>, action: 'pay' | 'cancel'): ToolingAnswer {
    const token = typeof input.pr === 'string' ? input.pr : typeof input.prepay_id === 'string' ? input.prepay_id : '';
    const target = this.cashierTarget(token);
    if (!target) throw new SimulatorHttpError(SIMULATOR_ERRORS.ORDER_NOT_EXIST, 'unknown payment link (pr / prepay_id)');
    if (target.expired) throw new SimulatorHttpError(SIMULATOR_ERRORS.ORDER_CLOSED, 'the payment link expired: order again to get a new one');
    if (action === 'cancel') return toolingJson(200, { result: 'cancelled', out_trade_no: target.page.outTradeNo });
    const loseNotification = input.lose_notification === true;
    return toolingJson(200, { result: 'paid', ...target.pay({ loseNotification }), ...(loseNotification ? { notification: 'lost' } : {}) });
  }

  private cashierPage(q: URLSearchParams): ToolingAnswer {
    const tokenParam = q.has('pr') ? 'pr' : 'prepay_id';
    const token = q.get(tokenParam) ?? '';
    const target = this.cashierTarget(token);
    let status = 200;
    let html: string;
    if (!target) {
      status = 404;
      html = renderCashierError('支付链接无效 Unknown payment link');
    } else if (target.expired && target.tradeState === 'NOTPAY') {
      status = 410;
      html = renderCashierError('支付链接已过期 This payment link expired: the merchant must order again');
    } else {
      html = renderCashierPage({
        tokenParam,
        token,
        ...target.page,
        tradeState: target.tradeState,
        loseNotification: q.get(LOSE_NOTIFICATION_PARAM) === '1',
        redirectUrl: target.token.kind === 'h5' ? (q.get('redirect_url') ?? undefined) : undefined,
      });
    }
    return { status, body: html, contentType: 'text/html; charset=utf-8', headers: { 'Cache-Control': 'no-store' } };
  }
}
