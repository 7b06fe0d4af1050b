import { Module } from '@nestjs/common';
import { NotifyController } from '../notifications/notify.controller';
import { SampleSettings } from '../settings';
import { EmbeddedSimulator } from '../wechat-pay/embedded-simulator';
import { WechatPaySetupModule } from '../wechat-pay/wechat-pay-setup.module';
import { ShopCatalog } from './catalog';
import { DemoHistory } from './demo-history';
import { OrderEvents } from './order-events';
import { OrdersRepository } from './orders.repository';
import { ShopController } from './shop.controller';
import { ShopRefundsService } from './shop-refunds.service';
import { ShopService } from './shop.service';

/** Orders: the cashier API, the payment notification route and the SQLite store. */
@Module({
  imports: [WechatPaySetupModule],
  controllers: [ShopController, NotifyController],
  providers: [
    ShopService,
    ShopRefundsService,
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
