import { Module } from '@nestjs/common';
import { NotifyController } from '../notifications/notify.controller';
import { SampleSettings } from '../settings';
import { EmbeddedSimulator } from '../wechat-pay/embedded-simulator';
import { WechatPaySetupModule } from '../wechat-pay/wechat-pay-setup.module';
import { CartsController } from './carts.controller';
import { MediaController } from './media.controller';
import { ShopCatalog } from './catalog';
import { DemoHistory } from './demo-history';
import { OrderEvents } from './order-events';
import { OrdersRepository } from './orders.repository';
import { ReconciliationController } from './reconciliation.controller';
import { ShopController } from './shop.controller';
import { ShopCartsService } from './shop-carts.service';
import { ShopCommissionsService } from './shop-commissions.service';
import { ShopPayments } from './shop-payments.service';
import { ShopRefundsService } from './shop-refunds.service';
import { ShopService } from './shop.service';

/** Orders and carts: the cashier API, the payment notification route and the SQLite store. */
@Module({
  imports: [WechatPaySetupModule],
  controllers: [ShopController, CartsController, MediaController, NotifyController, ReconciliationController],
  providers: [
    ShopService,
    ShopRefundsService,
    ShopCartsService,
    ShopCommissionsService,
    ShopPayments,
    DemoHistory,
    ShopCatalog,
    OrderEvents,
    {
      provide: OrdersRepository,
      inject: [SampleSettings, EmbeddedSimulator],
      useFactory: (s: SampleSettings, embedded: EmbeddedSimulator) =>
        new OrdersRepository(s.dbFile, () => embedded.now()),
    },
  ],
})
export class ShopModule {}
