import { WechatPayApiError } from '../core/errors/wechat-pay.errors';

/**
 * Why WeChat Pay refused a profit-sharing call, from its message. The HTTP status and `code`
 * labels of these answers are UNVERIFIED, so the reason is read from the message text; `OTHER` when none matches.
 */
export type ProfitSharingErrorReason =
  /** 非分账订单不支持分账: the order was placed without `settle_info.profit_sharing: true`, or a wrong transaction_id. */
  | 'NOT_PROFIT_SHARING_ORDER'
  /** 分账金额不足: refunded, fees, auto-unfrozen or over-split: call `queryAmounts()`. */
  | 'INSUFFICIENT_AMOUNT'
  /** 分账金额超出最大分账比例: the total exceeds the max ratio (供应链分账设置 / the sub-merchant's authorization). */
  | 'RATIO_EXCEEDED'
  /** 分账接收方关系不存在: call `addReceiver()` first (the platform must add itself too). */
  | 'RECEIVER_NOT_FOUND'
  /** 无分账权限 / 分账权限被处罚. */
  | 'NO_PERMISSION'
  /** 订单处理中，请稍后重试 / 请在到达结算周期之后再请求分账: not settled yet; retry the same request later. */
  | 'ORDER_PROCESSING'
  /** 分账接收方与原请求不一致 (or another 重入 mismatch): the same out_order_no / out_return_no with another body. */
  | 'REENTRY_MISMATCH'
  /** appid与openid不匹配. */
  | 'APPID_OPENID_MISMATCH'
  /** 微信用户姓名与实名不一致: `receiver_name` / `name` differs from the real name. */
  | 'NAME_MISMATCH'
  /** 订单已完结分账，不支持分账: finished (finish-order, `finish: true`, unfreeze, or the freeze period passed). */
  | 'ALREADY_FINISHED'
  /** 非电商商户暂不支持调用此API / 电商商户不允许调用非电商分账API: the `product` option does not match the account. */
  | 'WRONG_PRODUCT'
  /** Wechatpay-Serial missing, or a field expected encrypted was plain. */
  | 'ENCRYPTION'
  /** FREQUENCY_LIMITED (429). */
  | 'FREQUENCY_LIMITED'
  | 'OTHER';

const RULES: ReadonlyArray<readonly [RegExp, ProfitSharingErrorReason]> = [
  [/非分账订单不支持分账/, 'NOT_PROFIT_SHARING_ORDER'],
  [/最大分账比例/, 'RATIO_EXCEEDED'],
  [/分账金额不足/, 'INSUFFICIENT_AMOUNT'],
  [/分账接收方关系不存在/, 'RECEIVER_NOT_FOUND'],
  [/无分账权限|分账权限被处罚/, 'NO_PERMISSION'],
  [/订单处理中|请在到达结算周期之后/, 'ORDER_PROCESSING'],
  [/与原请求不一致|参数与首次请求时不一致/, 'REENTRY_MISMATCH'],
  [/appid与openid不匹配/i, 'APPID_OPENID_MISMATCH'],
  [/姓名与实名不一致/, 'NAME_MISMATCH'],
  [/已完结分账/, 'ALREADY_FINISHED'],
  [/非电商商户暂不支持调用此API|电商商户不允许调用非电商/, 'WRONG_PRODUCT'],
  [/Wechatpay-Serial|加密后的密文/, 'ENCRYPTION'],
];

const HINTS: Partial<Record<ProfitSharingErrorReason, string>> = {
  NOT_PROFIT_SHARING_ORDER: 'place the order with settle_info.profit_sharing: true (and split by the sub-order transaction_id of a combine order)',
  INSUFFICIENT_AMOUNT: 'call queryAmounts() for what is left (refunds, fees and unfreezes reduce it)',
  RATIO_EXCEEDED: 'the splits of one order may total at most its amount after fees times the max ratio',
  RECEIVER_NOT_FOUND: 'call addReceiver() first; the platform must add itself too',
  ORDER_PROCESSING: 'the order is not settled yet: send the same request again later',
  REENTRY_MISMATCH: 'use a new number, or resend the first request unchanged',
  ALREADY_FINISHED: 'the order is finished: nothing more can be split (returns are still possible)',
  WRONG_PRODUCT: "set the module's product option to the provider's real product ('ecommerce' for 平台收付通, 'partner' for 普通服务商)",
  ENCRYPTION: 'names must be encrypted with the key Wechatpay-Serial names: let the service encrypt them',
};

/** The reason of a WeChat Pay message about profit sharing. */
export function profitSharingErrorReason(code: string, message: string): ProfitSharingErrorReason {
  if (code === 'FREQUENCY_LIMITED') return 'FREQUENCY_LIMITED';
  for (const [re, reason] of RULES) if (re.test(message)) return reason;
  return 'OTHER';
}

/**
 * WeChat Pay refused a profit-sharing call. Still a `WechatPayApiError` (status, code, `wechatMessage`, requestId),
 * with a typed `reason` and whether the same request should be sent again later (`retryLater`, for
 * `ORDER_PROCESSING`: the funds are not settled yet). It is not retried automatically: settlement takes minutes.
 */
export class WechatPayProfitSharingError extends WechatPayApiError {
  /** What went wrong, from WeChat's message. */
  readonly reason: ProfitSharingErrorReason;
  /** Send the identical request again later (not at once): the order is not splittable yet. */
  readonly retryLater: boolean;

  constructor(err: WechatPayApiError) {
    super(err.status, err.code, err.wechatMessage, err.detail, err.requestId, err.method, err.path, err.retryAfterMs);
    this.reason = profitSharingErrorReason(err.code, err.wechatMessage);
    this.retryLater = this.reason === 'ORDER_PROCESSING' || this.reason === 'FREQUENCY_LIMITED';
    const hint = HINTS[this.reason];
    if (hint) this.message = `${this.message} [${this.reason}: ${hint}]`;
  }
}
