import { WechatPayError } from '../core/errors/wechat-pay.errors';

/** Invalid `WechatPayLifecycleModule` options; `problems` lists every one found. */
export class WechatPayLifecycleConfigError extends WechatPayError {
  constructor(public readonly problems: readonly string[]) {
    super(
      `Invalid WechatPayLifecycleModule options (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        problems.map((p) => `  - ${p}`).join('\n'),
    );
  }
}

/** A lifecycle call that cannot work as made (what to change is in the message). */
export class WechatPayLifecycleError extends WechatPayError {}

/**
 * `watch.auto`: WeChat Pay accepted the order, but its watch could not be stored (the scheduler's Redis did not
 * answer), so the prepay call rejects instead of handing out pay parameters for an order nobody watches. Retry the
 * same call with the same parameters (WeChat Pay accepts a repeated prepay of an unpaid order with the same
 * parameters and returns a usable prepay_id), or close it.
 */
export class WechatPayOrderNotWatchedError extends WechatPayLifecycleError {
  constructor(
    /** The order as created: `out_trade_no` (or `combine_out_trade_no`) and its sub-merchant. */
    public readonly order: { type: 'order' | 'combine'; sub_mchid?: string; out_trade_no: string },
    cause: unknown,
  ) {
    const what = order.type === 'order' ? `order ${order.out_trade_no} of sub-merchant ${order.sub_mchid}` : `combine order ${order.out_trade_no}`;
    const why = cause instanceof Error ? `${cause.name}: ${cause.message.slice(0, 200)}` : typeof cause;
    super(
      `WeChat Pay created ${what}, but its watch could not be stored (${why}); no pay parameters are returned for an ` +
        'unwatched order. Retry the same call once the lifecycle scheduler is reachable (a repeated prepay with the ' +
        'same parameters succeeds and returns a usable prepay_id), or close the order.',
      { cause },
    );
  }
}
