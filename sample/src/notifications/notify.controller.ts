import { Controller, Post } from '@nestjs/common';
import {
  CombineTransactionResource,
  NotificationResource,
  PartnerRefundResource,
  PartnerTransactionResource,
  WechatPayNotification,
} from 'nestjs-wechat-partner-pay';
import { ShopCartsService } from '../shop/shop-carts.service';
import { ShopRefundsService } from '../shop/shop-refunds.service';
import { ShopService } from '../shop/shop.service';
import { COMBINE_NOTIFY_PATH, NOTIFY_PATH, REFUND_NOTIFY_PATH } from '../wechat-pay/wechat-pay.config';

/**
 * Payment notifications (支付结果通知). By the time the handler runs the module has verified the signature over the
 * raw body and decrypted the resource; the handler compares it with the stored order and records the payment with
 * one conditional UPDATE (`... SET state = 'SUCCESS' WHERE out_trade_no = ? AND state = 'NOTPAY'`). The module
 * runs a handler at most once at a time per notification and never again after a recorded completion; the order
 * row's state closes the rest (see docs/notifications.md): a delivery whose UPDATE changes no row does nothing.
 * Any exception becomes a 4xx/5xx `{"code":"FAIL"}` reply, so WeChat Pay delivers again.
 */
@Controller()
export class NotifyController {
  constructor(
    private readonly shop: ShopService,
    private readonly carts: ShopCartsService,
    private readonly refunds: ShopRefundsService,
  ) {}

  // The same constant builds the notify_url given to WeChat Pay.
  @Post(NOTIFY_PATH)
  @WechatPayNotification('TRANSACTION.SUCCESS')
  paid(@NotificationResource() tx: PartnerTransactionResource): void {
    this.shop.recordPayment(tx);
  }

  /**
   * A paid cart (合单支付): one notification for all its sub-orders. The route lists the combine kind, so it never
   * gets a single order (and the single-order route never gets a cart). Same business-state pattern, on the cart row.
   */
  @Post(COMBINE_NOTIFY_PATH)
  @WechatPayNotification({ eventTypes: ['TRANSACTION.SUCCESS'], resources: ['combine-transaction'] })
  cartPaid(@NotificationResource() cart: CombineTransactionResource): void {
    this.carts.recordPayment(cart);
  }

  /** Refund results (退款结果通知), at the notify_url each refund carries: same guarantees as payments. */
  @Post(REFUND_NOTIFY_PATH)
  @WechatPayNotification('REFUND.SUCCESS', 'REFUND.ABNORMAL', 'REFUND.CLOSED')
  refunded(@NotificationResource() refund: PartnerRefundResource): void {
    this.refunds.recordRefund(refund);
  }
}
