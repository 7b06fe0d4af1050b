import { Injectable } from '@nestjs/common';

/** An order WeChat Pay has just accepted (its prepay answered 200), as the orders services tell it. */
export type WechatPayCreatedOrder =
  | { type: 'order'; sub_mchid: string; out_trade_no: string; time_expire?: Date | string }
  | { type: 'combine'; combine_out_trade_no: string; time_expire?: Date | string };

/** A listener of created orders; a rejection fails the prepay call that created the order (see `emit`). */
export type WechatPayOrderCreatedListener = (order: WechatPayCreatedOrder) => Promise<void> | void;

/**
 * Where the orders services announce each order they created, for the lifecycle's automatic watch
 * (`watch.auto`). Internal: the listeners run in the prepay call, after WeChat Pay's answer, before it returns.
 */
@Injectable()
export class WechatPayOrderCreatedHooks {
  private readonly listeners: WechatPayOrderCreatedListener[] = [];

  /** Adds a listener; returns its removal. */
  add(listener: WechatPayOrderCreatedListener): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  /** Runs every listener in turn; the first rejection propagates (the caller's prepay call then rejects). */
  async emit(order: WechatPayCreatedOrder): Promise<void> {
    for (const listener of [...this.listeners]) await listener(order);
  }
}
