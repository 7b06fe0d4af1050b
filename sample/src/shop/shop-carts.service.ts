import {
  BadRequestException,
  ConflictException,
  Injectable,
  Logger,
  NotFoundException,
} from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { randomBytes } from 'node:crypto';
import {
  assertNotificationMatchesCart,
  type CombineSubOrderTradeState,
  type CombineTransaction,
  type CombineTransactionResource,
  WechatPayApiError,
  WechatPayCombineOrdersService,
  WechatPayOrdersService,
  WechatPayValidationError,
} from 'nestjs-wechat-partner-pay';
import { SampleSettings } from '../settings';
import { EmbeddedSimulator } from '../wechat-pay/embedded-simulator';
import { COMBINE_NOTIFY_PATH, notifyBaseUrl } from '../wechat-pay/wechat-pay.config';
import { ShopCatalog } from './catalog';
import type { CartItemDto } from './create-cart.dto';
import { OrderEvents } from './order-events';
import { type ConfirmedBy, OrdersRepository, type PaymentOutcome, type ShopCart } from './orders.repository';
import { type OrderView, ShopRefundsService } from './shop-refunds.service';
import { isoTime, newOutTradeNo } from './shop.service';

/** As for single orders: well inside the 2 h a code_url lives. */
const PAYMENT_WINDOW_MS = 30 * 60_000;

/** A cart with its sub-orders (each with its refunds), as the cashier shows it. */
export interface CartView extends ShopCart {
  sub_orders: OrderView[];
}

/** A new cart and its one QR code. */
export interface CreatedCart {
  cart: CartView;
  code_url: string;
  qr_svg_url: string;
  /** Simulator only: its cashier page for the combine code_url, standing in for the WeChat app. */
  pay_page_url?: string;
  /** Simulator only: the same page with "lose the notification" ticked (the watch then finds the payment). */
  pay_page_url_lost_notification?: string;
}

/** A cart and each sub-order's trade_state as WeChat Pay's combine query reports it. */
export interface CheckedCart {
  cart: CartView;
  wechat_sub_orders: Array<{
    out_trade_no: string;
    sub_mchid: string;
    trade_state?: CombineSubOrderTradeState;
  }>;
}

/**
 * A cart of goods from several sub-merchants, paid once with a combine order (合单支付) on top of
 * WechatPayCombineOrdersService: one combine_out_trade_no, one sub-order per cart line, one QR code, one notification.
 * Each sub-order is then an ordinary order of this shop: refunded by its out_trade_no and sub_mchid.
 */
@Injectable()
export class ShopCartsService {
  private readonly logger = new Logger(ShopCartsService.name);

  constructor(
    private readonly combine: WechatPayCombineOrdersService,
    private readonly orders: WechatPayOrdersService,
    private readonly repo: OrdersRepository,
    private readonly events: OrderEvents,
    private readonly catalog: ShopCatalog,
    private readonly refunds: ShopRefundsService,
    private readonly embedded: EmbeddedSimulator,
    private readonly settings: SampleSettings,
    private readonly config: ConfigService,
  ) {}

  /** Stores the cart first, then asks WeChat Pay for one combine Native order covering every line. */
  async create(items: readonly CartItemDto[], clientIp: string): Promise<CreatedCart> {
    const now = this.embedded.now();
    const lines = items.map((item) => {
      const product = this.catalog.product(item.productId);
      if (!product) throw new BadRequestException('unknown product');
      if (!this.catalog.subMerchant(item.subMchid)) throw new BadRequestException('unknown sub-merchant');
      return {
        out_trade_no: newOutTradeNo(now),
        sub_mchid: item.subMchid,
        product_id: product.id,
        description: product.name,
        total: product.price,
        scene: 'native' as const,
      };
    });
    const cart_no = newCartNo(now);
    this.repo.insertCart(cart_no, lines);
    const time_expire = new Date(now + PAYMENT_WINDOW_MS);
    try {
      const { code_url } = await this.combine.nativePrepay({
        combine_out_trade_no: cart_no,
        sub_orders: lines.map((l) => ({
          sub_mchid: l.sub_mchid,
          out_trade_no: l.out_trade_no,
          description: l.description,
          // Required on every sub-order; echoed in the notification, the query and the bill.
          attach: `cart:${cart_no}`,
          amount: { total_amount: l.total },
        })),
        scene_info: { payer_client_ip: clientIp },
        time_expire,
        // The module's notifyUrl is the single-order route, which never accepts a cart.
        notify_url: `${notifyBaseUrl(this.settings, this.embedded)}${COMBINE_NOTIFY_PATH}`,
      });
      this.repo.setCartCodeUrl(cart_no, code_url);
      return {
        cart: this.view(cart_no),
        code_url,
        qr_svg_url: `/api/carts/${cart_no}/qr.svg`,
        pay_page_url: this.embedded.simulator?.cashierUrl(code_url),
        pay_page_url_lost_notification: this.embedded.simulator?.cashierUrl(code_url, { loseNotification: true }),
      };
    } catch (err) {
      // As for single orders: only a definite "no" fails the cart; after a timeout or a 5xx a query tells.
      if (
        err instanceof WechatPayValidationError ||
        (err instanceof WechatPayApiError && err.status < 500 && !err.retryable)
      ) {
        this.leaveNotpay(cart_no, 'FAILED');
      }
      throw err;
    }
  }

  /**
   * Records a paid cart that WeChat Pay reported (the combine notification, or a query): every sub-order must be
   * this cart's, of its sub-merchant and amount (防止假通知), and all of them paid. Safe to repeat, concurrently too:
   * only the first call changes the rows (and sets `confirmed_by`).
   */
  recordPayment(tx: CombineTransactionResource | CombineTransaction, confirmedBy: ConfirmedBy): PaymentOutcome {
    const cart = this.repo.findCart(tx.combine_out_trade_no);
    // Unknown cart: fail, so that WeChat Pay retries (and someone notices) rather than dropping a payment.
    if (!cart) throw new NotFoundException('no such cart');
    const subs = this.repo.subOrders(cart.cart_no);
    assertNotificationMatchesCart(tx, {
      combine_out_trade_no: cart.cart_no,
      combine_mchid: this.spMchid(),
      sub_orders: subs.map((o) => ({
        out_trade_no: o.out_trade_no,
        sub_mchid: o.sub_mchid,
        total_amount: o.total,
      })),
    });
    const paid = tx.sub_orders.map((s) => {
      // A sub-order refunded already (a query after a refund) was paid: the cart was.
      if ((s.trade_state !== 'SUCCESS' && s.trade_state !== 'REFUND') || !s.transaction_id)
        throw new BadRequestException('not a successful payment of every sub-order');
      return {
        out_trade_no: s.out_trade_no,
        sub_mchid: s.sub_mchid,
        total: s.amount.total_amount,
        transaction_id: s.transaction_id,
        success_time: s.success_time,
      };
    });
    const outcome = this.repo.markCartPaid(
      cart.cart_no,
      isoTime(paid[0]?.success_time, this.embedded.now()),
      paid,
      confirmedBy,
    );
    if (outcome === 'recorded') this.publish(cart.cart_no);
    if (outcome === 'conflict') {
      // Acknowledged anyway, as for single orders: a repeat cannot change it. A person must look at it.
      this.logger.error(
        `Cart ${cart.cart_no} was paid but is ${this.repo.getCart(cart.cart_no).state} here: deliver or refund by hand`,
      );
    }
    return outcome;
  }

  /** Queries WeChat Pay (combine query) for each sub-order's trade_state, and records a payment it reports. */
  async check(cart_no: string): Promise<CheckedCart> {
    const cart = this.mustFind(cart_no);
    // A FAILED cart was refused by WeChat Pay: there is nothing to ask about.
    if (cart.state === 'FAILED') return { cart: this.view(cart_no), wechat_sub_orders: [] };
    const tx = await this.combine.query({ combine_out_trade_no: cart_no });
    if (cart.state === 'NOTPAY') {
      if (tx.sub_orders.every((s) => s.trade_state === 'SUCCESS' || s.trade_state === 'REFUND'))
        this.recordPayment(tx, 'query');
      else if (tx.sub_orders.every((s) => s.trade_state === 'CLOSED')) this.leaveNotpay(cart_no, 'CLOSED');
    }
    return {
      cart: this.view(cart_no),
      wechat_sub_orders: tx.sub_orders.map((s) => ({
        out_trade_no: s.out_trade_no,
        sub_mchid: s.sub_mchid,
        trade_state: s.trade_state,
      })),
    };
  }

  /** Closes an unpaid cart at WeChat Pay (all its sub-orders: there is no partial close), then locally. */
  async close(cart_no: string): Promise<CartView> {
    const cart = this.mustFind(cart_no);
    if (cart.state === 'SUCCESS')
      throw new ConflictException('the cart is paid: refund its sub-orders instead of closing it');
    if (cart.state !== 'NOTPAY') return this.view(cart_no);
    try {
      await this.combine.close({
        combine_out_trade_no: cart_no,
        sub_orders: this.repo
          .subOrders(cart_no)
          .map((o) => ({ out_trade_no: o.out_trade_no, sub_mchid: o.sub_mchid })),
      });
    } catch (err) {
      if (err instanceof WechatPayApiError && err.code === 'ORDER_PAID') {
        await this.check(cart_no);
        throw new ConflictException('the cart was paid in the meantime');
      }
      throw err;
    }
    this.leaveNotpay(cart_no, 'CLOSED');
    return this.view(cart_no);
  }

  /** The order watch closed a cart still unpaid at its time_expire. */
  markExpired(cart_no: string): void {
    this.leaveNotpay(cart_no, 'CLOSED');
  }

  /** The cart's one QR code as SVG, rendered by the module from the combine code_url. */
  async qrSvg(cart_no: string): Promise<string> {
    const cart = this.mustFind(cart_no);
    if (!cart.code_url) throw new NotFoundException('the cart has no code_url');
    return this.orders.renderNativeQrCode(cart.code_url, { format: 'svg', size: 256 });
  }

  view(cart_no: string): CartView {
    const cart = this.mustFind(cart_no);
    return { ...cart, sub_orders: this.repo.subOrders(cart_no).map((o) => this.refunds.viewOf(o)) };
  }

  /** The provider's merchant number: a combine notification names it as combine_mchid. */
  private spMchid(): string | undefined {
    return (
      this.embedded.simulator?.credentials.spMchid ??
      (this.config.get<string>('WECHATPAY_SP_MCHID')?.trim() || undefined)
    );
  }

  private mustFind(cart_no: string): ShopCart {
    const cart = this.repo.findCart(cart_no);
    if (!cart) throw new NotFoundException('no such cart');
    return cart;
  }

  private leaveNotpay(cart_no: string, state: 'CLOSED' | 'FAILED'): void {
    if (this.repo.leaveCartNotpay(cart_no, state)) this.publish(cart_no);
  }

  /** Every sub-order changed: the cart's live view listens to its sub-orders. */
  private publish(cart_no: string): void {
    for (const order of this.repo.subOrders(cart_no)) this.events.publish(order);
  }
}

/** `C` + UTC timestamp + random hex: 23 characters, within combine_out_trade_no's 2–32 of [0-9A-Za-z_-|*@]. */
function newCartNo(now: number): string {
  const stamp = new Date(now).toISOString().replace(/\D/g, '').slice(0, 14);
  return `C${stamp}${randomBytes(4).toString('hex')}`;
}

/** What a cart number looks like, checked before it reaches the database or WeChat Pay. */
export const CART_NO_PATTERN = /^C\d{14}[0-9a-f]{8}$/;
