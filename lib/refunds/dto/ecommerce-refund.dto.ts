/**
 * Wire types of 平台收付通 (ecommerce) refunds, `/v3/ecommerce/refunds/...`. String sizes
 * are UTF-8 bytes, as WeChat Pay counts them. Response enums are open unions: the sources disagree on some spellings
 * (`CLOSED` vs `CLOSE`), and both are accepted.
 */
import { Type } from 'class-transformer';
import { ArrayMinSize, IsArray, IsIn, IsInt, IsOptional, IsString, Matches, Min, ValidateNested } from 'class-validator';
import { ByteLength } from '../../core/validation/byte-length';
import { OUT_REFUND_NO_PATTERN } from './partner-refund.dto';

/** Where the money of an ecommerce refund comes from [SDK wechatpay-java `CreateRefundRequest.refundAccount`]. */
export const ECOMMERCE_REFUND_ACCOUNTS = ['REFUND_SOURCE_SUB_MERCHANT', 'REFUND_SOURCE_PARTNER_ADVANCE'] as const;

/**
 * `refund_account`: `REFUND_SOURCE_SUB_MERCHANT` (the 二级商户 pays, the default) or `REFUND_SOURCE_PARTNER_ADVANCE`
 * (the platform advances the money; needs the 垫付 permission). Sent in a request it only *allows* an advance; the
 * real source is in the query answer.
 */
export type EcommerceRefundAccount = (typeof ECOMMERCE_REFUND_ACCOUNTS)[number] | (string & NonNullable<unknown>);

/** One source account of an ecommerce refund (`amount.from`). */
export class EcommerceRefundFromAccount {
  @IsIn(['AVAILABLE', 'UNAVAILABLE'], { message: 'amount.from[].account must be AVAILABLE or UNAVAILABLE' }) account!: 'AVAILABLE' | 'UNAVAILABLE';
  @IsInt({ message: 'amount.from[].amount must be an integer number of fen' }) @Min(1, { message: 'amount.from[].amount must be at least 1 fen' }) amount!: number;
}

/** `amount` of an ecommerce refund request, in fen. */
export class EcommerceRefundRequestAmount {
  /** Amount to refund: at most what is left of the paid amount. */
  @IsInt({ message: 'amount.refund must be an integer number of fen' }) @Min(1, { message: 'amount.refund must be at least 1 fen' }) refund!: number;
  /** The original order total. */
  @IsInt({ message: 'amount.total must be an integer number of fen' }) @Min(1, { message: 'amount.total must be at least 1 fen' }) total!: number;
  /**
   * Always `CNY`; sent even when left out here, since the sources disagree on whether it is required [UNVERIFIED].
   */
  @IsOptional() @IsIn(['CNY'], { message: 'amount.currency must be CNY' }) currency?: 'CNY';
  /**
   * Which balances pay the refund; must add up to `refund`, one entry per account. Only for a profit-sharing order
   * that is not yet (fully) split, not with `funds_account`, and not for an advance refund [SDK javadoc].
   */
  @IsOptional() @IsArray() @ArrayMinSize(1) @ValidateNested({ each: true }) @Type(() => EcommerceRefundFromAccount) from?: EcommerceRefundFromAccount[];
}

/**
 * Request of `POST /v3/ecommerce/refunds/apply` (平台收付通 申请退款). `sp_appid` comes from the module options and the
 * default `notify_url` from the module's notify URL. Give exactly one of `transaction_id` and `out_trade_no`; for a
 * combine order, those of the sub-order.
 */
export class EcommerceRefundRequest {
  /** The 二级商户 whose order is refunded. */
  @IsString() @Matches(/^\d{1,32}$/, { message: 'sub_mchid must be the 二级商户 merchant id (digits)' }) sub_mchid!: string;
  /** The 二级商户's AppID, only if it is bound to it. */
  @IsOptional() @ByteLength(1, 32) sub_appid?: string;
  @IsOptional() @ByteLength(1, 32) transaction_id?: string;
  @IsOptional() @IsString() @Matches(/^[0-9A-Za-z_\-|*@]{1,32}$/, { message: 'out_trade_no must be 1–32 characters of [0-9A-Za-z_-|*@]' }) out_trade_no?: string;
  /** Your refund number: the same number and body again is the same refund ("同一退款单号多次请求只退一笔"). */
  @Matches(OUT_REFUND_NO_PATTERN, { message: 'out_refund_no must be 1–64 characters of [0-9A-Za-z_-|*@]' }) out_refund_no!: string;
  /** Shown to the payer (except on partial refunds of at most 1 元); 80 UTF-8 bytes. */
  @IsOptional() @ByteLength(1, 80) reason?: string;
  @ValidateNested() @Type(() => EcommerceRefundRequestAmount) amount!: EcommerceRefundRequestAmount;
  /** Overrides the module's notify URL for the REFUND.* notification; https, no query string, 256 bytes. */
  @IsOptional() @IsString() notify_url?: string;
  /** Allow an advance by the platform (`REFUND_SOURCE_PARTNER_ADVANCE`) when the 二级商户's balance is short. */
  @IsOptional() @IsIn(ECOMMERCE_REFUND_ACCOUNTS, { message: 'refund_account must be REFUND_SOURCE_SUB_MERCHANT or REFUND_SOURCE_PARTNER_ADVANCE' })
  refund_account?: (typeof ECOMMERCE_REFUND_ACCOUNTS)[number];
  /** `AVAILABLE`: take the refund from the available balance while the order is still waiting to be split. */
  @IsOptional() @IsIn(['AVAILABLE'], { message: 'funds_account must be AVAILABLE' }) funds_account?: 'AVAILABLE';
}

/** `amount` of an ecommerce refund answer, in fen. */
export interface EcommerceRefundAmount {
  refund: number;
  /** Not in the SDK's model of either answer; kept optional in case WeChat Pay sends it. */
  total?: number;
  from?: Array<{ account: string; amount: number }>;
  payer_refund?: number;
  payer_total?: number;
  discount_refund?: number;
  currency?: string;
  /** The part the platform advanced (垫付). */
  advance?: number;
}

/** One promotion of an ecommerce refund. */
export interface EcommerceRefundPromotion {
  promotion_id: string;
  scope?: 'GLOBAL' | 'SINGLE' | (string & NonNullable<unknown>);
  type?: 'COUPON' | 'DISCOUNT' | (string & NonNullable<unknown>);
  amount?: number;
  refund_amount?: number;
}

/**
 * The answer of `POST /v3/ecommerce/refunds/apply` (`Refund4Create`): partial, with no `status`: acceptance is not
 * success. Query (`queryByRefundId` / `queryByOutRefundNo`) or wait for the REFUND.* notification for the outcome.
 * `refund_account` is absent while the debit is not done yet.
 */
export interface EcommerceRefundCreated {
  refund_id: string;
  out_refund_no: string;
  create_time: string;
  amount: EcommerceRefundAmount;
  promotion_detail?: EcommerceRefundPromotion[];
  refund_account?: EcommerceRefundAccount;
}

/**
 * Status of an ecommerce refund: `PROCESSING` → `SUCCESS` | `CLOSED` | `ABNORMAL`. WeChat's OpenAPI enum and some
 * docs spell the closed state `CLOSE`; both are accepted (compare with `isRefundClosed()`).
 */
export type EcommerceRefundStatus = 'PROCESSING' | 'SUCCESS' | 'CLOSED' | 'CLOSE' | 'ABNORMAL' | (string & NonNullable<unknown>);

/** Whether a refund status (of either family, or a notification's `refund_status`) means closed: `CLOSED` or `CLOSE`. */
export function isRefundClosed(status: string | undefined): boolean {
  return status === 'CLOSED' || status === 'CLOSE';
}

/** An ecommerce refund as the query answers it (`Refund`), and as `applyAbnormalRefund()` answers it. */
export interface EcommerceRefund {
  refund_id: string;
  out_refund_no: string;
  transaction_id?: string;
  out_trade_no?: string;
  channel?: 'ORIGINAL' | 'BALANCE' | 'OTHER_BALANCE' | 'OTHER_BANKCARD' | (string & NonNullable<unknown>);
  /** Free text: `支付用户零钱`, `招商银行信用卡0403`, `商户基本账户`, ... */
  user_received_account?: string;
  success_time?: string;
  create_time?: string;
  status: EcommerceRefundStatus;
  amount?: EcommerceRefundAmount;
  promotion_detail?: EcommerceRefundPromotion[];
  /** The real source of the money: `REFUND_SOURCE_PARTNER_ADVANCE` means the platform advanced it (see `returnAdvance()`). */
  refund_account?: EcommerceRefundAccount;
  funds_account?: 'UNSETTLED' | 'AVAILABLE' | 'UNAVAILABLE' | 'OPERATION' | 'BASIC' | 'ECNY_BASIC' | (string & NonNullable<unknown>);
}

/** `result` of a return-advance (垫付回补): `FAILED` when the 二级商户's balance is short; `FAIL` is accepted too. */
export type ReturnAdvanceResult = 'SUCCESS' | 'FAILED' | 'FAIL' | 'PROCESSING' | (string & NonNullable<unknown>);

/** The answer of `POST`/`GET /v3/ecommerce/refunds/{refund_id}/return-advance` (`ReturnAdvance` [SDK]). */
export interface EcommerceReturnAdvance {
  refund_id: string;
  advance_return_id?: string;
  return_amount?: number;
  /** The 二级商户 paying the advance back. */
  payer_mchid?: string;
  payer_account?: 'BASIC' | 'OPERATION' | (string & NonNullable<unknown>);
  /** The platform receiving it. */
  payee_mchid?: string;
  payee_account?: 'BASIC' | 'OPERATION' | (string & NonNullable<unknown>);
  result: ReturnAdvanceResult;
  success_time?: string;
}
