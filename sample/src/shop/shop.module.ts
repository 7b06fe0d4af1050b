import { Module } from '@nestjs/common';
import { NotifyController } from '../notifications/notify.controller';
import { SampleSettings } from '../settings';
import { WechatPaySetupModule } from '../wechat-pay/wechat-pay-setup.module';
import { ShopCatalog } from './catalog';
import { OrderEvents } from './order-events';
import { OrdersRepository } from './orders.repository';
import { ShopController } from './shop.controller';
import { ShopService } from './shop.service';

/** Orders: the cashier API, the payment notification route and the SQLite store. */
@Module({
  imports: [WechatPaySetupModule],
  controllers: [ShopController, NotifyController],
  providers: [
    ShopService,
    ShopCatalog,
    OrderEvents,
    {
      provide: OrdersRepository,
      inject: [SampleSettings],
      useFactory: (s: SampleSettings) => new OrdersRepository(s.dbFile),
    },
  ],
})
export class ShopModule {}
