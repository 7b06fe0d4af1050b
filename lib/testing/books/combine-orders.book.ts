/**
 * The combine orders book (合单支付): prepay in the four scenes, query, close; the payment of the
 * whole cart, which sends one TRANSACTION.SUCCESS; the cashier page pays a combine code_url / prepay_id through the
 * orders book's cashier. Sub-orders are orders of the orders book, so the refunds and bills books find them.
 */
import { COMBINE_ORDER_ENDPOINTS } from '../../combine-orders/combine-orders.endpoints';
import {
  type CombineBookState,
  type SimulatedCombineOrder,
  type SimulatorCombinePayOptions,
  SimulatorCombineOrderBook,
} from '../simulator-combine-orders';
import { json, noContent, type SimulatorBook, type SimulatorBookContext, type SimulatorRoute, toolingJson, type ToolingRoute } from '../simulator-routes';
import { type CombineValidationLimits, validateCombineCloseBody, validateCombineOrderBody, validateCombinePathParam } from './combine-orders.validation';
import { CASHIER_PATH, type CashierSource, type CashierTarget, type OrdersBook, prepayRoutes } from './orders.book';

/** Options of the combine book. */
export interface CombineOrdersBookOptions extends CombineValidationLimits {
  /**
   * `associated_data` of the notification's resource. The official sample shows `''`; production may say
   * `transaction` like single orders (UNVERIFIED). A correct receiver decrypts with either.
   */
  notificationAssociatedData: string;
}

/** Combine orders of one simulated provider. */
export class CombineOrdersBook implements SimulatorBook, CashierSource {
  readonly name = 'combineOrders';
  /** The combine state machine. */
  readonly state: SimulatorCombineOrderBook;

  constructor(
    private readonly ctx: SimulatorBookContext,
    orders: OrdersBook,
    private readonly options: CombineOrdersBookOptions,
  ) {
    this.state = new SimulatorCombineOrderBook({
      orders: orders.state,
      credentials: () => ctx.credentials(),
      clock: () => ctx.clock(),
      cashierUrl: () => `${ctx.baseUrl()}${CASHIER_PATH}`,
    });
    orders.addCashierSource(this);
  }

  routes(): SimulatorRoute[] {
    const E = COMBINE_ORDER_ENDPOINTS;
    return [
      ...prepayRoutes(E, (scene, body) => {
        validateCombineOrderBody(scene, body, this.options);
        return this.state.create(scene, body);
      }),
      {
        endpoint: E.query,
        handle: ({ params }) => {
          validateCombinePathParam(params.combine_out_trade_no, this.options);
          return json(200, this.state.combineJson(this.state.require(params.combine_out_trade_no)));
        },
      },
      {
        endpoint: E.close,
        handle: ({ params, body }) => {
          validateCombinePathParam(params.combine_out_trade_no, this.options);
          validateCombineCloseBody(body, this.options);
          this.state.close(params.combine_out_trade_no, body);
          return noContent();
        },
      },
    ];
  }

  tooling(): ToolingRoute[] {
    return [
      { method: 'GET', path: '/__sim/combine-orders', handle: () => toolingJson(200, this.state.list().map((c) => this.state.combineJson(c))) },
      {
        method: 'POST',
        path: '/__sim/pay-combine',
        handle: ({ body }) => {
          const combine = this.pay(String(body.combine_out_trade_no ?? ''), {
            openid: typeof body.openid === 'string' ? body.openid : undefined,
            bank_type: typeof body.bank_type === 'string' ? body.bank_type : undefined,
            fail: body.fail === true,
            loseNotification: body.lose_notification === true,
          });
          return toolingJson(200, this.state.combineJson(combine));
        },
      },
    ];
  }

  /**
   * Pays a whole cart as the payer would and schedules its one TRANSACTION.SUCCESS (lost with `loseNotification`);
   * `fail` leaves it NOTPAY.
   */
  pay(combineOutTradeNo: string, options: SimulatorCombinePayOptions = {}): SimulatedCombineOrder {
    const combine = this.state.require(combineOutTradeNo);
    this.state.pay(combine, options);
    this.ctx.changed();
    if (!options.fail) {
      this.ctx.notify(combine.notifyUrl, 'TRANSACTION.SUCCESS', this.state.combineJson(combine), {
        associatedData: this.options.notificationAssociatedData,
        originalType: 'transaction',
      }, options.loseNotification === true ? true : undefined);
    }
    return combine;
  }

  /** The cashier page's view of a combine code_url / prepay_id: the initiator's page for the whole cart. */
  cashierTarget(token: string): CashierTarget | undefined {
    const found = this.state.cashierLookup(token);
    if (!found) return undefined;
    const { combine } = found;
    const subs = this.state.subOrders(combine);
    return {
      token: found.token,
      expired: found.expired,
      tradeState: this.state.state(combine),
      page: {
        // WeChat's cashier shows the initiator, not the sub-merchants.
        merchantName: '合单支付 Combine payment',
        subMchid: combine.combineMchid,
        description: subs.map((s) => s.description).join(' + '),
        outTradeNo: combine.combineOutTradeNo,
        total: subs.reduce((sum, s) => sum + s.amount.total, 0),
      },
      pay: (options = {}) => {
        this.pay(combine.combineOutTradeNo, { loseNotification: options.loseNotification });
        return {
          combine_out_trade_no: combine.combineOutTradeNo,
          sub_orders: this.state.subOrders(combine).map((s) => ({ out_trade_no: s.outTradeNo, transaction_id: s.transactionId })),
        };
      },
    };
  }

  exportState(): Record<string, unknown> {
    return { ...this.state.exportState() };
  }

  importState(state: Readonly<Record<string, unknown>>): void {
    this.state.importState(state as Partial<CombineBookState>);
  }
}
