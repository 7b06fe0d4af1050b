import {
  Body,
  Controller,
  Get,
  Header,
  Ip,
  type MessageEvent,
  Param,
  Post,
  Sse,
  UseFilters,
  UsePipes,
  ValidationPipe,
} from '@nestjs/common';
import { concat, defer, map, type Observable, of, takeWhile } from 'rxjs';
import { WechatPayErrorFilter } from '../web/wechat-pay-error.filter';
import { latestBillDate } from '../bills/shop-bills.service';
import { SampleSettings } from '../settings';
import { EmbeddedSimulator } from '../wechat-pay/embedded-simulator';
import { LIVE_WATCH_SCHEDULE_MS, watchSchedule } from '../wechat-pay/lifecycle.config';
import { ShopCatalog } from './catalog';
import { CreateOrderDto } from './create-order.dto';
import { OrderEvents } from './order-events';
import { OutTradeNoPipe } from './out-trade-no.pipe';
import type { ShopOrder } from './orders.repository';
import { RefundOrderDto } from './refund-order.dto';
import { type BalancesView, ShopCommissionsService } from './shop-commissions.service';
import { isOpen, type OrderView, ShopRefundsService } from './shop-refunds.service';
import { type CheckedOrder, type CreatedOrder, ShopService } from './shop.service';

/** Route parameter of every order route, checked by OutTradeNoPipe. */
const ORDER_NO = ':outTradeNo';

/** The JSON API of the web cashier. */
@Controller('api')
@UseFilters(WechatPayErrorFilter)
@UsePipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true }))
export class ShopController {
  constructor(
    private readonly shop: ShopService,
    private readonly catalog: ShopCatalog,
    private readonly events: OrderEvents,
    private readonly embedded: EmbeddedSimulator,
    private readonly refunds: ShopRefundsService,
    private readonly settings: SampleSettings,
    private readonly commissions: ShopCommissionsService,
  ) {}

  /** What the cashier offers, and whether payments are simulated. */
  @Get('config')
  config(): {
    mode: 'simulator' | 'live';
    /** 'ecommerce' (平台收付通) or 'partner' (普通服务商): which refund API the shop uses. */
    product?: string;
    simulator_url?: string;
    /** The most recent day whose trade bill WeChat Pay has (Beijing): the bill card's default. */
    latest_bill_date: string;
    /** Percent of each paid order the platform takes by profit sharing. */
    commission_percent: number;
    /** When the order watch queries an order whose notification has not arrived, in ms after it was created. */
    watch_schedule_ms: readonly number[];
    products: ShopCatalog['products'];
    sub_merchants: ShopCatalog['subMerchants'];
  } {
    return {
      mode: this.embedded.mode,
      product: this.embedded.product,
      simulator_url: this.embedded.simulator?.baseUrl,
      latest_bill_date: latestBillDate(this.embedded.now(), this.settings.billReadyHour),
      commission_percent: this.settings.commissionPercent,
      watch_schedule_ms: watchSchedule(this.settings, this.embedded) ?? LIVE_WATCH_SCHEDULE_MS,
      products: this.catalog.products,
      sub_merchants: this.catalog.subMerchants,
    };
  }

  @Get('orders')
  recent(): OrderView[] {
    return this.shop.recent().map((o) => this.refunds.viewOf(o));
  }

  @Post('orders')
  create(@Body() dto: CreateOrderDto, @Ip() ip: string): Promise<CreatedOrder> {
    return this.shop.create(dto, ip);
  }

  @Get(`orders/${ORDER_NO}`)
  find(@Param('outTradeNo', OutTradeNoPipe) outTradeNo: string): OrderView {
    return this.refunds.view(outTradeNo);
  }

  @Get(`orders/${ORDER_NO}/qr.svg`)
  @Header('Content-Type', 'image/svg+xml')
  @Header('Cache-Control', 'no-store')
  qr(@Param('outTradeNo', OutTradeNoPipe) outTradeNo: string): Promise<string> {
    return this.shop.qrSvg(outTradeNo);
  }

  /**
   * Live state for the cashier: the current state at once, then every change until nothing is pending any more
   * (paid or closed, and no refund PROCESSING).
   */
  @Sse(`orders/${ORDER_NO}/events`)
  watch(@Param('outTradeNo', OutTradeNoPipe) outTradeNo: string): Observable<MessageEvent> {
    return concat(
      defer(() => of(this.shop.find(outTradeNo))),
      this.events.of(outTradeNo),
    ).pipe(
      map((order) => this.refunds.viewOf(order)),
      takeWhile((view) => isOpen(view), true),
      map((view) => ({ data: view })),
    );
  }

  /** Refunds a paid order, in full or in part; the refund's state then arrives by notification. */
  @Post(`orders/${ORDER_NO}/refunds`)
  refund(
    @Param('outTradeNo', OutTradeNoPipe) outTradeNo: string,
    @Body() dto: RefundOrderDto,
  ): Promise<OrderView> {
    return this.refunds.refund(outTradeNo, dto.amount);
  }

  /** Queries WeChat Pay about the order's refunds that are still PROCESSING (queryByOutRefundNo). */
  @Post(`orders/${ORDER_NO}/refunds/check`)
  checkRefunds(@Param('outTradeNo', OutTradeNoPipe) outTradeNo: string): Promise<OrderView> {
    return this.refunds.checkRefunds(outTradeNo);
  }

  /**
   * Takes the platform's commission of a paid order by profit sharing. Before settlement the order's commission is
   * WAITING (WeChat Pay: 订单处理中，请稍后重试): press again later, the same request is sent.
   */
  @Post(`orders/${ORDER_NO}/commission`)
  async takeCommission(@Param('outTradeNo', OutTradeNoPipe) outTradeNo: string): Promise<OrderView> {
    await this.commissions.take(outTradeNo);
    return this.refunds.view(outTradeNo);
  }

  /** Frozen and available balance of each sub-merchant (simulator mode only). */
  @Get('balances')
  balances(): BalancesView {
    return this.commissions.balances();
  }

  @Post(`orders/${ORDER_NO}/check`)
  check(@Param('outTradeNo', OutTradeNoPipe) outTradeNo: string): Promise<CheckedOrder> {
    return this.shop.check(outTradeNo);
  }

  @Post(`orders/${ORDER_NO}/close`)
  close(@Param('outTradeNo', OutTradeNoPipe) outTradeNo: string): Promise<ShopOrder> {
    return this.shop.close(outTradeNo);
  }
}
