import { Type } from 'class-transformer';
import { IsIn, IsInt, IsNotEmpty, IsOptional, IsString, ValidateNested } from 'class-validator';

/** `refund_status` values of refund notifications. */
export const REFUND_STATUSES = ['SUCCESS', 'CLOSED', 'ABNORMAL', 'PROCESSING'] as const;
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
  @ValidateNested() @Type(() => RefundResourceAmount) @IsNotEmpty() amount!: RefundResourceAmount;
}
