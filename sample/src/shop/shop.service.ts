import {
  BadRequestException,
  ConflictException,
  Injectable,
  Logger,
  NotFoundException,
} from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import {
  assertNotificationMatchesOrder,
  type AppPayParams,
  type JsapiPayParams,
  type PartnerTransaction,
  type TradeState,
  WechatPayApiError,
  WechatPayOrdersService,
  WechatPayValidationError,
} from 'nestjs-wechat-partner-pay';
import { SampleSettings } from '../settings';
import { EmbeddedSimulator } from '../wechat-pay/embedded-simulator';
import { ShopCatalog } from './catalog';
import type { CreateOrderDto } from './create-order.dto';
import { OrderEvents } from './order-events';
import { type ConfirmedBy, OrdersRepository, type PaymentOutcome, type ShopOrder } from './orders.repository';

/** How long a payer may take: well inside the 2 h a prepay_id / code_url lives. */
const PAYMENT_WINDOW_MS = 30 * 60_000;
/** An h5_url lives 5 minutes: the cashier shows its deadline. */
const H5_URL_LIFETIME_MS = 5 * 60_000;

/** The order and what the payer needs to pay it, per scene. */
export interface CreatedOrder {
  order: ShopOrder;
  /** Native: the code_url and where to get its QR code (SVG rendered by the module). */
  code_url?: string;
  qr_svg_url?: string;
  /** JSAPI / App: signed parameters for WeixinJSBridge / wx.requestPayment / the OpenSDK PayReq. */
  pay_params?: JsapiPayParams | AppPayParams;
  /** H5: h5_url as returned, the redirect_url, and the URL to send the payer to (h5_url + redirect_url). */
  h5?: { h5_url: string; redirect_url: string; url: string; expires_at: string };
  /** Simulator only: its cashier page for this order, standing in for the WeChat app. */
  pay_page_url?: string;
  /**
   * Simulator only: the same page with "lose the notification" ticked, to see the order watch find the payment by
   * query (the notification never arrives).
   */
  pay_page_url_lost_notification?: string;
}

/** An order and WeChat Pay's trade_state from a query. */
export interface CheckedOrder {
  order: ShopOrder;
  trade_state?: TradeState;
}

/** The shop's payment logic on top of WechatPayOrdersService. */
@Injectable()
export class ShopService {
  private readonly logger = new Logger(ShopService.name);

  constructor(
    private readonly orders: WechatPayOrdersService,
    private readonly repo: OrdersRepository,
    private readonly events: OrderEvents,
    private readonly catalog: ShopCatalog,
    private readonly embedded: EmbeddedSimulator,
    private readonly settings: SampleSettings,
  ) {}

  /**
   * Stores the order first, then asks WeChat Pay for it: the local order (and its amount) exists before any
   * notification about it can arrive. The prepay call also puts the order under watch (the lifecycle module's
   * `watch.auto`): it is queried on a schedule until paid or expired, in case its notification never arrives.
   */
  async create(input: CreateOrderDto, clientIp: string): Promise<CreatedOrder> {
    const product = this.catalog.product(input.productId);
    if (!product) throw new BadRequestException('unknown product');
    if (!this.catalog.subMerchant(input.subMchid)) throw new BadRequestException('unknown sub-merchant');
    const order = this.repo.insert({
      out_trade_no: newOutTradeNo(this.embedded.now()),
      sub_mchid: input.subMchid,
      product_id: product.id,
      description: product.name,
      total: product.price,
      scene: input.scene,
    });
    const time_expire = new Date(this.embedded.now() + PAYMENT_WINDOW_MS);
    try {
      const created = await this.prepay(order, input, clientIp, time_expire);
      return { ...created, order: this.repo.get(order.out_trade_no) };
    } catch (err) {
      // Only a definite "no" fails the order. After a timeout or a 5xx the order may exist at WeChat Pay: it stays
      // NOTPAY, and "Check payment" (a query) tells what happened.
      if (
        err instanceof WechatPayValidationError ||
        (err instanceof WechatPayApiError && err.status < 500 && !err.retryable)
      ) {
        this.leaveNotpay(order.out_trade_no, 'FAILED');
      }
      throw err;
    }
  }

  private async prepay(
    order: ShopOrder,
    input: CreateOrderDto,
    clientIp: string,
    time_expire: Date,
  ): Promise<Omit<CreatedOrder, 'order'>> {
    const sim = this.embedded.simulator;
    const base = {
      sub_mchid: order.sub_mchid,
      description: order.description,
      out_trade_no: order.out_trade_no,
      amount: { total: order.total },
      time_expire,
      // The money stays frozen for the platform's commission (分账), taken after settlement.
      settle_info: { profit_sharing: true },
    };
    const simulatedPayPage = (prepayId: string): string | undefined => sim?.cashierUrl(prepayId);
    switch (input.scene) {
      case 'native': {
        const { code_url } = await this.orders.nativePrepay(base);
        this.repo.setCodeUrl(order.out_trade_no, code_url);
        return {
          code_url,
          qr_svg_url: `/api/orders/${order.out_trade_no}/qr.svg`,
          pay_page_url: sim?.cashierUrl(code_url),
          pay_page_url_lost_notification: sim?.cashierUrl(code_url, { loseNotification: true }),
        };
      }
      case 'jsapi': {
        const { prepay_id, payParams } = await this.orders.jsapiPrepayWithPayParams({
          ...base,
          payer: { sp_openid: input.openid ?? 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' },
        });
        return { pay_params: payParams, pay_page_url: simulatedPayPage(prepay_id) };
      }
      case 'app': {
        const { prepay_id, payParams } = await this.orders.appPrepayWithPayParams(base);
        return { pay_params: payParams, pay_page_url: simulatedPayPage(prepay_id) };
      }
      case 'h5': {
        const { h5_url } = await this.orders.h5Prepay({
          ...base,
          scene_info: { payer_client_ip: clientIp, h5_info: { type: 'Wap' } },
        });
        const redirect_url = `${this.settings.publicUrl}/h5-return?out_trade_no=${encodeURIComponent(order.out_trade_no)}`;
        return {
          h5: {
            h5_url,
            redirect_url,
            url: this.orders.buildH5RedirectUrl(h5_url, redirect_url),
            expires_at: new Date(this.embedded.now() + H5_URL_LIFETIME_MS).toISOString(),
          },
        };
      }
    }
  }

  /**
   * Records a payment that WeChat Pay reported (notification or query: `confirmedBy`), after comparing it with the
   * stored order (防止假通知: the amount must be the order's). Safe to call any number of times, concurrently too:
   * only the first call changes the row (and sets `confirmed_by`).
   */
  recordPayment(tx: PartnerTransaction, confirmedBy: ConfirmedBy): PaymentOutcome {
    const order = this.repo.find(tx.out_trade_no);
    // Unknown order: fail, so that WeChat Pay retries (and someone notices) rather than dropping a payment.
    if (!order) throw new NotFoundException('no such order');
    assertNotificationMatchesOrder(tx, {
      out_trade_no: order.out_trade_no,
      sub_mchid: order.sub_mchid,
      total: order.total,
    });
    // REFUND: a query after a refund (the order was paid, then refunded).
    if ((tx.trade_state !== 'SUCCESS' && tx.trade_state !== 'REFUND') || !tx.transaction_id)
      throw new BadRequestException('not a successful payment');
    const outcome = this.repo.markPaid({
      out_trade_no: order.out_trade_no,
      sub_mchid: order.sub_mchid,
      total: tx.amount.total,
      transaction_id: tx.transaction_id,
      paid_at: isoTime(tx.success_time, this.embedded.now()),
      confirmed_by: confirmedBy,
    });
    if (outcome === 'recorded') this.events.publish(this.repo.get(order.out_trade_no));
    if (outcome === 'conflict') {
      // Acknowledged anyway: WeChat Pay repeating it cannot change the outcome. A person must look at it.
      this.logger.error(
        `Order ${order.out_trade_no} was paid (transaction ${tx.transaction_id}) but is ${this.repo.get(order.out_trade_no).state} here: deliver or refund by hand`,
      );
    }
    return outcome;
  }

  /**
   * Asks WeChat Pay (查询订单), for when the notification is late: the user presses "Check payment". Never done
   * automatically on the H5 return page, which WeChat may open before the payment ended.
   */
  async check(out_trade_no: string): Promise<CheckedOrder> {
    const order = this.mustFind(out_trade_no);
    if (order.state !== 'NOTPAY') return { order };
    // The single-order query does not find a combine sub-order (ORDER_NOT_EXIST): query the cart.
    if (order.cart_no)
      throw new ConflictException(`the order is part of cart ${order.cart_no}: check the cart`);
    const tx = await this.orders.queryByOutTradeNo(out_trade_no, order.sub_mchid);
    if (tx.trade_state === 'SUCCESS') this.recordPayment(tx, 'query');
    else if (tx.trade_state === 'CLOSED') this.leaveNotpay(out_trade_no, 'CLOSED');
    return { order: this.repo.get(out_trade_no), trade_state: tx.trade_state };
  }

  /** Closes an unpaid order at WeChat Pay, then locally; a paid order cannot be closed. */
  async close(out_trade_no: string): Promise<ShopOrder> {
    const order = this.mustFind(out_trade_no);
    if (order.state === 'SUCCESS')
      throw new ConflictException('the order is paid: refund it instead of closing it');
    if (order.state !== 'NOTPAY') return order;
    // A combine order is closed whole, never one sub-order.
    if (order.cart_no)
      throw new ConflictException(`the order is part of cart ${order.cart_no}: close the cart`);
    try {
      await this.orders.close(out_trade_no, order.sub_mchid);
    } catch (err) {
      if (err instanceof WechatPayApiError && err.code === 'ORDER_PAID') {
        await this.check(out_trade_no);
        throw new ConflictException('the order was paid in the meantime');
      }
      throw err;
    }
    this.leaveNotpay(out_trade_no, 'CLOSED');
    return this.repo.get(out_trade_no);
  }

  /** The order watch closed an order still unpaid at its time_expire (WeChat Pay no longer accepts it). */
  markExpired(out_trade_no: string): void {
    this.leaveNotpay(out_trade_no, 'CLOSED');
  }

  /** The Native QR code as SVG, rendered by the module from the stored code_url. */
  async qrSvg(out_trade_no: string): Promise<string> {
    const order = this.mustFind(out_trade_no);
    if (!order.code_url) throw new NotFoundException('not a Native order');
    return this.orders.renderNativeQrCode(order.code_url, { format: 'svg', size: 256 });
  }

  find(out_trade_no: string): ShopOrder {
    return this.mustFind(out_trade_no);
  }

  recent(): ShopOrder[] {
    return this.repo.recent();
  }

  private mustFind(out_trade_no: string): ShopOrder {
    const order = this.repo.find(out_trade_no);
    if (!order) throw new NotFoundException('no such order');
    return order;
  }

  private leaveNotpay(out_trade_no: string, state: 'CLOSED' | 'FAILED'): void {
    if (this.repo.leaveNotpay(out_trade_no, state)) this.events.publish(this.repo.get(out_trade_no));
  }
}

/** `S` + UTC timestamp + random hex: unique and sortable, 23 characters of [0-9A-Za-z] (WeChat allows 6–32). */
export function newOutTradeNo(now: number): string {
  const stamp = new Date(now).toISOString().replace(/\D/g, '').slice(0, 14);
  return `S${stamp}${randomBytes(4).toString('hex')}`;
}

/** success_time (RFC 3339, Beijing offset) as UTC ISO like the other timestamps of the table. */
export function isoTime(rfc3339: string | undefined, now: number = Date.now()): string {
  const t = rfc3339 ? new Date(rfc3339) : new Date(now);
  return Number.isNaN(t.getTime()) ? new Date(now).toISOString() : t.toISOString();
}
