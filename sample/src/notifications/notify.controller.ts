import { Controller, Post } from '@nestjs/common';
import {
  CombineTransactionResource,
  NotificationResource,
  PartnerRefundResource,
  PartnerTransactionResource,
  WechatPayNotification,
} from 'nestjs-wechat-partner-pay';
import { WechatPayOrderWatchService } from 'nestjs-wechat-partner-pay/lifecycle';
import { ShopRefundsService } from '../shop/shop-refunds.service';
import { COMBINE_NOTIFY_PATH, NOTIFY_PATH, REFUND_NOTIFY_PATH } from '../wechat-pay/wechat-pay.config';

/**
 * Payment notifications (支付结果通知). By the time the route runs the module has verified the signature over the
 * raw body and decrypted the resource. The payment routes hand it to the order watch
 * (`watch.handleNotificationResource()`), which runs the shop's one paid handler (ShopPayments) exactly once per
 * payment, under the same key as a query of the watch would, and ends the order's watch; hence `dedupe: false` on
 * the route (the watch claims the key itself). The handler compares the payment with the stored order and records
 * it with one conditional UPDATE (`... SET state = 'SUCCESS' WHERE out_trade_no = ? AND state = 'NOTPAY'`); the
 * order row's state closes what exactly-once handling leaves open (see docs/notifications.md). Any exception
 * becomes a 4xx/5xx `{"code":"FAIL"}` reply, so WeChat Pay delivers again.
 */
@Controller()
export class NotifyController {
  constructor(
    private readonly watch: WechatPayOrderWatchService,
    private readonly refunds: ShopRefundsService,
  ) {}

  // The same constant builds the notify_url given to WeChat Pay.
  @Post(NOTIFY_PATH)
  @WechatPayNotification({ eventTypes: ['TRANSACTION.SUCCESS'], resources: ['partner-transaction'], dedupe: false })
  async paid(@NotificationResource() tx: PartnerTransactionResource): Promise<void> {
    await this.watch.handleNotificationResource(tx);
  }

  /**
   * A paid cart (合单支付): one notification for all its sub-orders. The route lists the combine kind, so it never
   * gets a single order (and the single-order route never gets a cart). Same business-state pattern, on the cart row.
   */
  @Post(COMBINE_NOTIFY_PATH)
  @WechatPayNotification({ eventTypes: ['TRANSACTION.SUCCESS'], resources: ['combine-transaction'], dedupe: false })
  async cartPaid(@NotificationResource() cart: CombineTransactionResource): Promise<void> {
    await this.watch.handleNotificationResource(cart);
  }

  /** Refund results (退款结果通知), at the notify_url each refund carries: same guarantees as payments. */
  @Post(REFUND_NOTIFY_PATH)
  @WechatPayNotification('REFUND.SUCCESS', 'REFUND.ABNORMAL', 'REFUND.CLOSED')
  refunded(@NotificationResource() refund: PartnerRefundResource): void {
    this.refunds.recordRefund(refund);
  }
}
