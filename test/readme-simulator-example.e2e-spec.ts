// The example of docs/testing.md ("Testing your app with the simulator"), kept runnable: if this file changes, update
// docs/testing.md with it.
import { Controller, Injectable, type INestApplication, Module, Post } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  NotificationResource,
  PartnerTransactionResource,
  WechatPartnerPayModule,
  WechatPayNotification,
  WechatPayOrdersService,
} from 'nestjs-wechat-partner-pay';
import { WechatPaySimulator } from 'nestjs-wechat-partner-pay/testing';

// --- the application under test -------------------------------------------------------------------------------
@Injectable()
class ShopService {
  readonly paid = new Set<string>();
  constructor(private readonly orders: WechatPayOrdersService) {}

  /** `notify_url` normally comes from the module's `notifyUrl`; tests pass it because the port is chosen at listen(). */
  checkout(orderNo: string, fen: number, notify_url?: string) {
    return this.orders.nativePrepay({ sub_mchid: '1900000109', description: 'T-shirt', out_trade_no: orderNo, amount: { total: fen }, notify_url });
  }
}

@Controller('wechatpay')
class NotifyController {
  constructor(private readonly shop: ShopService) {}

  @Post('notify')
  @WechatPayNotification('TRANSACTION.SUCCESS')
  paid(@NotificationResource() tx: PartnerTransactionResource): void {
    this.shop.paid.add(tx.out_trade_no);
  }
}

@Module({ controllers: [NotifyController], providers: [ShopService] })
class ShopModule {}

// --- the test ----------------------------------------------------------------------------------------------------
describe('checkout (against the WeChat Pay simulator)', () => {
  let sim: WechatPaySimulator;
  let app: INestApplication;

  beforeAll(async () => {
    sim = await WechatPaySimulator.start();
    const ref = await Test.createTestingModule({
      imports: [
        WechatPartnerPayModule.forRoot({ ...sim.moduleOptions(), isGlobal: true }),
        ShopModule,
      ],
    }).compile();
    app = ref.createNestApplication({ rawBody: true }); // notifications are verified over the raw body
    await app.listen(0, '127.0.0.1');
  });

  afterAll(async () => {
    await app.close();
    await sim.close();
  });

  it('marks the order paid when WeChat Pay notifies', async () => {
    const shop = app.get(ShopService);
    const { code_url } = await shop.checkout('ORDER_0001', 9900, `${await app.getUrl()}/wechatpay/notify`);
    expect(code_url).toMatch(/^weixin:\/\//);

    await sim.pay('ORDER_0001', { sub_mchid: '1900000109' }); // the payer scans and pays
    await sim.notifications.flush(); // the signed, encrypted notification was delivered

    expect(shop.paid.has('ORDER_0001')).toBe(true);
    expect(sim.deliveries.map((d) => d.status)).toEqual([204]);
  });
});
