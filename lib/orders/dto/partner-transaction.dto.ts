import { Type } from 'class-transformer';
import { IsArray, IsDefined, IsIn, IsInt, IsNotEmpty, IsOptional, IsString, ValidateNested } from 'class-validator';

/** `trade_state` values of a partner transaction. */
export const TRADE_STATES = ['SUCCESS', 'REFUND', 'NOTPAY', 'CLOSED', 'REVOKED', 'USERPAYING', 'PAYERROR', 'ACCEPT'] as const;
/** State of a partner order. */
export type TradeState = (typeof TRADE_STATES)[number];
/** `trade_type` values (MWEB is H5). */
export type TradeType = 'JSAPI' | 'NATIVE' | 'APP' | 'MWEB' | 'MICROPAY' | 'FACEPAY';

/** `amount` of a transaction, in fen. */
export class TransactionAmount {
  @IsInt() total!: number;
  @IsOptional() @IsInt() payer_total?: number;
  @IsOptional() @IsString() currency?: string;
  @IsOptional() @IsString() payer_currency?: string;
}

/** `payer` of a paid transaction. */
export class TransactionPayer {
  @IsOptional() @IsString() sp_openid?: string;
  @IsOptional() @IsString() sub_openid?: string;
}

/** `scene_info` of a transaction. */
export class TransactionSceneInfo {
  @IsOptional() @IsString() device_id?: string;
}

/** One goods line of a promotion. */
export interface PromotionGoodsDetail {
  goods_id: string;
  quantity: number;
  unit_price: number;
  discount_amount: number;
  goods_remark?: string;
}

/** One coupon used on a transaction. */
export interface PromotionDetail {
  coupon_id: string;
  name?: string;
  scope?: 'GLOBAL' | 'SINGLE';
  type?: 'CASH' | 'NOCASH';
  amount: number;
  stock_id?: string;
  wechatpay_contribute?: number;
  merchant_contribute?: number;
  other_contribute?: number;
  currency?: string;
  goods_detail?: PromotionGoodsDetail[];
}

/**
 * The fields every partner transaction has, in a query answer and in a notification alike. `transaction_id` is
 * declared by the two subclasses, because class-validator merges a parent's `@IsOptional()` into every subclass.
 */
export abstract class PartnerTransactionFields {
  @IsString() @IsNotEmpty() sp_appid!: string;
  @IsString() @IsNotEmpty() sp_mchid!: string;
  @IsOptional() @IsString() sub_appid?: string;
  @IsString() @IsNotEmpty() sub_mchid!: string;
  @IsString() @IsNotEmpty() out_trade_no!: string;
  abstract transaction_id?: string;
  @IsOptional() @IsString() trade_type?: TradeType | '';
  @IsIn(TRADE_STATES) trade_state!: TradeState;
  @IsOptional() @IsString() trade_state_desc?: string;
  @IsOptional() @IsString() bank_type?: string;
  @IsOptional() @IsString() attach?: string;
  /** RFC 3339, e.g. `2018-06-08T10:34:56+08:00`. */
  @IsOptional() @IsString() success_time?: string;
  @IsOptional() @ValidateNested() @Type(() => TransactionPayer) payer?: TransactionPayer;
  /** Always present: `@IsDefined()` because `@ValidateNested()` alone lets a missing object through. */
  @IsDefined() @ValidateNested() @Type(() => TransactionAmount) amount!: TransactionAmount;
  @IsOptional() @ValidateNested() @Type(() => TransactionSceneInfo) scene_info?: TransactionSceneInfo;
  @IsOptional() @IsArray() promotion_detail?: PromotionDetail[];
}

/**
 * A partner transaction as returned by the query endpoints. Fields that exist only once paid are optional
 * (`transaction_id`, `success_time`, `payer`).
 */
export class PartnerTransaction extends PartnerTransactionFields {
  @IsOptional() @IsString() transaction_id?: string;
}
