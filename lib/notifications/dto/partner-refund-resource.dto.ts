import { Type } from 'class-transformer';
import { IsIn, IsInt, IsNotEmpty, IsOptional, IsString, ValidateNested } from 'class-validator';

/**
 * `refund_status` values of refund notifications. `CLOSE` is how WxJava's ecommerce notify javadoc and
 * WeChat's OpenAPI enum spell `CLOSED`: accepted as the same state.
 */
export const REFUND_STATUSES = ['SUCCESS', 'CLOSED', 'CLOSE', 'ABNORMAL', 'PROCESSING'] as const;
/** State of a partner refund. */
export type RefundStatus = (typeof REFUND_STATUSES)[number];

/** `amount` of a refund notification, in fen. */
export class RefundResourceAmount {
  /** Order total. */
  @IsInt() total!: number;
  /** Refunded amount. */
  @IsInt() refund!: number;
  @IsOptional() @IsInt() payer_total?: number;
  @IsOptional() @IsInt() payer_refund?: number;
  @IsOptional() @IsInt() settlement_refund?: number;
  @IsOptional() @IsString() currency?: string;
  @IsOptional() @IsString() payer_currency?: string;
}

/** Decrypted resource of `REFUND.SUCCESS` / `REFUND.ABNORMAL` / `REFUND.CLOSED` notifications. */
export class PartnerRefundResource {
  @IsString() @IsNotEmpty() sp_mchid!: string;
  @IsString() @IsNotEmpty() sub_mchid!: string;
  @IsString() @IsNotEmpty() transaction_id!: string;
  @IsString() @IsNotEmpty() out_trade_no!: string;
  @IsString() @IsNotEmpty() refund_id!: string;
  @IsString() @IsNotEmpty() out_refund_no!: string;
  @IsIn(REFUND_STATUSES) refund_status!: RefundStatus;
  /** RFC 3339; only for `SUCCESS`. */
  @IsOptional() @IsString() success_time?: string;
  /** e.g. `招商银行信用卡0403`, `支付用户零钱`. */
  @IsOptional() @IsString() user_received_account?: string;
  @IsOptional() @IsString() fund_source?: string;
  /**
   * 平台收付通 refunds: where the money came from, `REFUND_SOURCE_SUB_MERCHANT` or `REFUND_SOURCE_PARTNER_ADVANCE`
   * (the platform advanced it; see `WechatPayRefundsService.returnAdvance()`). Absent on partner refunds.
   */
  @IsOptional() @IsString() refund_account?: 'REFUND_SOURCE_SUB_MERCHANT' | 'REFUND_SOURCE_PARTNER_ADVANCE' | (string & NonNullable<unknown>);
  @ValidateNested() @Type(() => RefundResourceAmount) @IsNotEmpty() amount!: RefundResourceAmount;
}
