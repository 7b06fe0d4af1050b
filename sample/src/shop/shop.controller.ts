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
import { EmbeddedSimulator } from '../wechat-pay/embedded-simulator';
import { ShopCatalog } from './catalog';
import { CreateOrderDto } from './create-order.dto';
import { OrderEvents } from './order-events';
import { OutTradeNoPipe } from './out-trade-no.pipe';
import type { ShopOrder } from './orders.repository';
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
  ) {}

  /** What the cashier offers, and whether payments are simulated. */
  @Get('config')
  config(): {
    mode: 'simulator' | 'live';
    simulator_url?: string;
    products: ShopCatalog['products'];
    sub_merchants: ShopCatalog['subMerchants'];
  } {
    return {
      mode: this.embedded.mode,
      simulator_url: this.embedded.simulator?.baseUrl,
      products: this.catalog.products,
      sub_merchants: this.catalog.subMerchants,
    };
  }

  @Get('orders')
  recent(): ShopOrder[] {
    return this.shop.recent();
  }

  @Post('orders')
  create(@Body() dto: CreateOrderDto, @Ip() ip: string): Promise<CreatedOrder> {
    return this.shop.create(dto, ip);
  }

  @Get(`orders/${ORDER_NO}`)
  find(@Param('outTradeNo', OutTradeNoPipe) outTradeNo: string): ShopOrder {
    return this.shop.find(outTradeNo);
  }

  @Get(`orders/${ORDER_NO}/qr.svg`)
  @Header('Content-Type', 'image/svg+xml')
  @Header('Cache-Control', 'no-store')
  qr(@Param('outTradeNo', OutTradeNoPipe) outTradeNo: string): Promise<string> {
    return this.shop.qrSvg(outTradeNo);
  }

  /** Live state for the cashier: the current state at once, then every change until the order is settled. */
  @Sse(`orders/${ORDER_NO}/events`)
  watch(@Param('outTradeNo', OutTradeNoPipe) outTradeNo: string): Observable<MessageEvent> {
    return concat(
      defer(() => of(this.shop.find(outTradeNo))),
      this.events.of(outTradeNo),
    ).pipe(
      takeWhile((order) => order.state === 'NOTPAY', true),
      map((order) => ({ data: order })),
    );
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
