import { Injectable, type OnModuleInit } from '@nestjs/common';
import { WechatPayOrderWatchService } from 'nestjs-wechat-partner-pay/lifecycle';
import { ShopCartsService } from './shop-carts.service';
import { ShopService } from './shop.service';

/**
 * The one handler of paid orders and carts, for both paths: WeChat Pay's notification (the routes of
 * NotifyController call `watch.handleNotificationResource()`) and the order watch's query when the notification did
 * not arrive. The module runs it once per payment through the same dedupe key, and `paid.source` says which path
 * came first: it is stored as the order's `confirmed_by`. The shop's conditional UPDATE stays the last word (a
 * "Check payment" may have recorded the payment already: the handler then changes nothing).
 */
@Injectable()
export class ShopPayments implements OnModuleInit {
  constructor(
    private readonly watch: WechatPayOrderWatchService,
    private readonly shop: ShopService,
    private readonly carts: ShopCartsService,
  ) {}

  onModuleInit(): void {
    this.watch.onPaid((paid) => {
      if (paid.type === 'order') this.shop.recordPayment(paid.transaction, paid.source);
      else this.carts.recordPayment(paid.transaction, paid.source);
    });
    // Unpaid at time_expire: the watch closed it at WeChat Pay, the shop closes it too.
    this.watch.onClosed((closed) => {
      if (closed.type === 'order') this.shop.markExpired(closed.out_trade_no);
      else this.carts.markExpired(closed.out_trade_no);
    });
  }
}
