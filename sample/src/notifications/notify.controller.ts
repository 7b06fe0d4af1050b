import { Controller, Post } from '@nestjs/common';
import {
  NotificationResource,
  PartnerRefundResource,
  PartnerTransactionResource,
  WechatPayNotification,
} from 'nestjs-wechat-partner-pay';
import { ShopRefundsService } from '../shop/shop-refunds.service';
import { ShopService } from '../shop/shop.service';
import { NOTIFY_PATH, REFUND_NOTIFY_PATH } from '../wechat-pay/wechat-pay.config';

/**
 * Payment notifications (支付结果通知). By the time the handler runs the module has verified the signature over the
 * raw body and decrypted the resource; the handler compares it with the stored order and records the payment with
 * one conditional UPDATE. A duplicate or concurrent delivery finds the order already SUCCESS and changes nothing,
 * and any exception becomes a 4xx/5xx `{"code":"FAIL"}` reply, so WeChat Pay delivers again.
 */
@Controller()
export class NotifyController {
  constructor(
    private readonly shop: ShopService,
    private readonly refunds: ShopRefundsService,
  ) {}

  // The same constant builds the notify_url given to WeChat Pay.
  @Post(NOTIFY_PATH)
  @WechatPayNotification('TRANSACTION.SUCCESS')
  paid(@NotificationResource() tx: PartnerTransactionResource): void {
    this.shop.recordPayment(tx);
  }

  /** Refund results (退款结果通知), at the notify_url each refund carries: same guarantees as payments. */
  @Post(REFUND_NOTIFY_PATH)
  @WechatPayNotification('REFUND.SUCCESS', 'REFUND.ABNORMAL', 'REFUND.CLOSED')
  refunded(@NotificationResource() refund: PartnerRefundResource): void {
    this.refunds.recordRefund(refund);
  }
}
