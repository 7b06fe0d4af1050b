import { Type } from 'class-transformer';
import { ArrayMinSize, IsArray, IsDefined, IsInt, IsNotEmpty, IsOptional, IsString, ValidateNested } from 'class-validator';
import type { PromotionDetail, TradeType } from '../../orders/dto/partner-transaction.dto';

/**
 * `trade_state` of a sub-order (OPENAPI; WXJAVA adds USERPAYING). Open: a value WeChat Pay adds later still parses.
 * Sub-orders never split into paid and unpaid: all are SUCCESS, or none (REFUND once one was refunded).
 */
export type CombineSubOrderTradeState = 'SUCCESS' | 'REFUND' | 'NOTPAY' | 'CLOSED' | 'PAYERROR' | 'USERPAYING' | (string & NonNullable<unknown>);

/** `amount` of a sub-order, in fen: `total_amount` (not `total`) and, once paid, `payer_amount`. */
export class CombineSubOrderTransactionAmount {
  @IsInt() total_amount!: number;
  @IsOptional() @IsString() currency?: string;
  /** What the payer paid for this sub-order (less coupons); present once paid. */
  @IsOptional() @IsInt() payer_amount?: number;
  @IsOptional() @IsString() payer_currency?: string;
  @IsOptional() @IsInt() settlement_rate?: number;
}

/**
 * Fields of one sub-order in a query answer and in a notification alike. `trade_state` and `transaction_id` are
 * declared by the subclasses, because class-validator merges a parent's `@IsOptional()` into every subclass.
 */
export abstract class CombineSubOrderFields {
  /** The provider (`spMchid`). */
  @IsString() @IsNotEmpty() mchid!: string;
  @IsString() @IsNotEmpty() sub_mchid!: string;
  @IsOptional() @IsString() sub_appid?: string;
  @IsOptional() @IsString() sub_openid?: string;
  @IsString() @IsNotEmpty() out_trade_no!: string;
  abstract trade_state?: CombineSubOrderTradeState;
  abstract transaction_id?: string;
  @IsOptional() @IsString() trade_type?: TradeType | (string & NonNullable<unknown>);
  @IsOptional() @IsString() bank_type?: string;
  @IsOptional() @IsString() attach?: string;
  /** RFC 3339, e.g. `2018-06-08T10:34:56+08:00`. */
  @IsOptional() @IsString() success_time?: string;
  @IsDefined() @ValidateNested() @Type(() => CombineSubOrderTransactionAmount) amount!: CombineSubOrderTransactionAmount;
  @IsOptional() @IsArray() promotion_detail?: PromotionDetail[];
}

/** A sub-order as the query answers it: before payment it has no `transaction_id`. */
export class CombineSubOrder extends CombineSubOrderFields {
  @IsOptional() @IsString() trade_state?: CombineSubOrderTradeState;
  @IsOptional() @IsString() transaction_id?: string;
}

/** A sub-order of a combine notification: paid, with its own `transaction_id` (refund and split by it). */
export class CombineSubOrderResource extends CombineSubOrderFields {
  @IsString() @IsNotEmpty() trade_state!: CombineSubOrderTradeState;
  @IsString() @IsNotEmpty() transaction_id!: string;
}

/** `scene_info` of a combine transaction. */
export class CombineTransactionSceneInfo {
  @IsOptional() @IsString() device_id?: string;
}

/** `combine_payer_info` of a combine transaction: the payer's openid under `combine_appid`. */
export class CombineTransactionPayerInfo {
  @IsOptional() @IsString() openid?: string;
}

/** The fields of a combine order, in a query answer and in a notification alike. */
export abstract class CombineTransactionFields {
  @IsString() @IsNotEmpty() combine_appid!: string;
  @IsString() @IsNotEmpty() combine_mchid!: string;
  @IsString() @IsNotEmpty() combine_out_trade_no!: string;
  @IsOptional() @ValidateNested() @Type(() => CombineTransactionSceneInfo) scene_info?: CombineTransactionSceneInfo;
  @IsOptional() @ValidateNested() @Type(() => CombineTransactionPayerInfo) combine_payer_info?: CombineTransactionPayerInfo;
}

/**
 * A combine order as `query()` answers it: no top-level `trade_state` or `transaction_id`; each of `sub_orders` has
 * its own `trade_state`, and once paid its `transaction_id` and `amount.payer_amount`.
 */
export class CombineTransaction extends CombineTransactionFields {
  @IsArray() @ValidateNested({ each: true }) @Type(() => CombineSubOrder) sub_orders!: CombineSubOrder[];
}

/**
 * Decrypted resource of the combine payment notification (`TRANSACTION.SUCCESS`, `original_type` `transaction`):
 * one for the whole cart, every sub-order with its `transaction_id`.
 */
export class CombineTransactionResource extends CombineTransactionFields {
  @IsArray() @ArrayMinSize(1) @ValidateNested({ each: true }) @Type(() => CombineSubOrderResource) sub_orders!: CombineSubOrderResource[];
}
