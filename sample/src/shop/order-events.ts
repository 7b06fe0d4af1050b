import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { filter, Observable, Subject } from 'rxjs';
import type { ShopOrder } from './orders.repository';

/**
 * State changes of orders in this process, for the cashier's live view (SSE). Only a notice to redraw: the
 * database stays the source of truth, and a browser that misses an event still sees the state on its next read.
 */
@Injectable()
export class OrderEvents implements OnModuleDestroy {
  private readonly changes = new Subject<ShopOrder>();

  publish(order: ShopOrder): void {
    this.changes.next(order);
  }

  /** Changes of one order. */
  of(out_trade_no: string): Observable<ShopOrder> {
    return this.changes.pipe(filter((o) => o.out_trade_no === out_trade_no));
  }

  /** Changes of the sub-orders of one cart. */
  ofCart(cart_no: string): Observable<ShopOrder> {
    return this.changes.pipe(filter((o) => o.cart_no === cart_no));
  }

  /** Ends every open event stream, so that shutting down does not wait for browsers to disconnect. */
  onModuleDestroy(): void {
    this.changes.complete();
  }
}
