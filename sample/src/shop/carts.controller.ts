import {
  BadRequestException,
  Body,
  Controller,
  Get,
  Header,
  Injectable,
  Ip,
  type MessageEvent,
  Param,
  type PipeTransform,
  Post,
  Sse,
  UseFilters,
  UsePipes,
  ValidationPipe,
} from '@nestjs/common';
import { concat, defer, map, type Observable, of, takeWhile } from 'rxjs';
import { WechatPayErrorFilter } from '../web/wechat-pay-error.filter';
import { CreateCartDto } from './create-cart.dto';
import { OrderEvents } from './order-events';
import { isOpen } from './shop-refunds.service';
import {
  CART_NO_PATTERN,
  type CartView,
  type CheckedCart,
  type CreatedCart,
  ShopCartsService,
} from './shop-carts.service';

/** Rejects anything that cannot be one of this shop's cart numbers. */
@Injectable()
export class CartNoPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!CART_NO_PATTERN.test(value)) throw new BadRequestException('not a cart number');
    return value;
  }
}

const CART_NO = ':cartNo';

/** The cart API of the web cashier: one combine Native order for goods of several sub-merchants. */
@Controller('api/carts')
@UseFilters(WechatPayErrorFilter)
@UsePipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true }))
export class CartsController {
  constructor(
    private readonly carts: ShopCartsService,
    private readonly events: OrderEvents,
  ) {}

  @Post()
  create(@Body() dto: CreateCartDto, @Ip() ip: string): Promise<CreatedCart> {
    return this.carts.create(dto.items, ip);
  }

  @Get(CART_NO)
  find(@Param('cartNo', CartNoPipe) cartNo: string): CartView {
    return this.carts.view(cartNo);
  }

  @Get(`${CART_NO}/qr.svg`)
  @Header('Content-Type', 'image/svg+xml')
  @Header('Cache-Control', 'no-store')
  qr(@Param('cartNo', CartNoPipe) cartNo: string): Promise<string> {
    return this.carts.qrSvg(cartNo);
  }

  /** Live state of the cart: now, then on every change of a sub-order, until the cart is paid or closed. */
  @Sse(`${CART_NO}/events`)
  watch(@Param('cartNo', CartNoPipe) cartNo: string): Observable<MessageEvent> {
    return concat(
      defer(() => of(this.carts.view(cartNo))),
      this.events.ofCart(cartNo).pipe(map(() => this.carts.view(cartNo))),
    ).pipe(
      takeWhile((cart) => cart.state === 'NOTPAY' || cart.sub_orders.some(isOpen), true),
      map((cart) => ({ data: cart })),
    );
  }

  /** Asks WeChat Pay (combine query) for each sub-order's trade_state. */
  @Post(`${CART_NO}/check`)
  check(@Param('cartNo', CartNoPipe) cartNo: string): Promise<CheckedCart> {
    return this.carts.check(cartNo);
  }

  @Post(`${CART_NO}/close`)
  close(@Param('cartNo', CartNoPipe) cartNo: string): Promise<CartView> {
    return this.carts.close(cartNo);
  }
}
