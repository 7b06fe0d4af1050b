import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsDefined,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';
import { ByteLength } from '../../core/validation/byte-length';
import { OUT_TRADE_NO_PATTERN, PartnerH5Info } from '../../orders/dto/partner-prepay.dto';

/**
 * `combine_out_trade_no`: the pages disagree on the charset (2–32 without `@`, 6–32, or with `@`;
 * UNVERIFIED), so the client accepts the widest, 2–32 of `[0-9A-Za-z_-|*@]`, and lets WeChat Pay decide.
 * Generate yours conservatively: 6–32 of `[0-9A-Za-z_-]` is valid on every page.
 */
export const COMBINE_OUT_TRADE_NO_PATTERN = /^[0-9A-Za-z_\-|*@]{2,32}$/;

/** Sub-orders of one combine order in partner / 平台收付通 mode (direct merchants: 2–10). */
export const MAX_COMBINE_SUB_ORDERS = 50;

/** One sub-order may carry at most 1000 万 yuan. */
export const MAX_SUB_ORDER_TOTAL_AMOUNT = 1_000_000_000;

/**
 * Amount of a sub-order. Note the field name: **`total_amount`**, not `total` as in single orders; `currency` is
 * required on the wire (the client sends `CNY` when you leave it out).
 */
export class CombineSubOrderAmount {
  @IsInt({ message: 'amount.total_amount must be an integer number of fen (1 yuan = 100); combine sub-orders use total_amount, not total' })
  @Min(1, { message: 'amount.total_amount must be at least 1 fen' })
  @Max(MAX_SUB_ORDER_TOTAL_AMOUNT, { message: 'amount.total_amount must be at most 1000万 yuan (1000000000 fen) per sub-order' })
  total_amount!: number;
  @IsOptional() @IsIn(['CNY'], { message: 'amount.currency must be CNY' }) currency?: 'CNY';
}

/** `settle_info` of a sub-order: `profit_sharing` to split it later; `subsidy_amount` counts only with it. */
export class CombineSettleInfo {
  @IsOptional() @IsBoolean() profit_sharing?: boolean;
  @IsOptional() @IsInt() @Min(0) subsidy_amount?: number;
}

/** One sub-order: the goods of one sub-merchant. `mchid` is the provider (`spMchid`), set by the client. */
export class CombineSubOrderRequest {
  /** The provider (合单发起方); defaults to `spMchid` and must equal it. */
  @IsOptional() @IsString() @ByteLength(1, 32) mchid?: string;
  /** The sub-merchant (二级商户 / 特约商户) receiving this sub-order's money. */
  @IsString() @Matches(/^\d{1,32}$/, { message: 'sub_mchid must be the sub-merchant id (digits)' }) sub_mchid!: string;
  /** AppID bound to `sub_mchid`; needed when the payer is a `sub_openid`. */
  @IsOptional() @IsString() @ByteLength(1, 32) sub_appid?: string;
  /** Your sub-order number: 6–32 of `[0-9A-Za-z_-|*]`, unique under the provider; refunds use it. */
  @Matches(OUT_TRADE_NO_PATTERN, { message: 'out_trade_no must be 6–32 characters of [0-9A-Za-z_-|*]' }) out_trade_no!: string;
  /** Required for combine sub-orders, at most 128 UTF-8 bytes; echoed in the query, the notification and the bill. */
  @IsString() @ByteLength(1, 128) attach!: string;
  /** `{ total_amount, currency }` — `total_amount`, not `total`. */
  @ValidateNested() @Type(() => CombineSubOrderAmount) @IsNotEmpty({ message: 'amount is required: { total_amount, currency }' })
  amount!: CombineSubOrderAmount;
  /** Shown on the payer's bill, at most 127 UTF-8 bytes (42 Chinese characters). */
  @IsString() @ByteLength(1, 127) description!: string;
  /** A string here (up to 6000 bytes), not the object of single orders. */
  @IsOptional() @IsString() @ByteLength(1, 6000) detail?: string;
  @IsOptional() @IsString() @ByteLength(1, 32) goods_tag?: string;
  @IsOptional() @ValidateNested() @Type(() => CombineSettleInfo) settle_info?: CombineSettleInfo;
}

/** `scene_info` of a combine order. */
export class CombineSceneInfo {
  /** The payer's IPv4 or IPv6 address. */
  @IsString() @ByteLength(1, 45) payer_client_ip!: string;
  @IsOptional() @IsString() @ByteLength(1, 16) device_id?: string;
}

/** `scene_info` of an H5 combine order, with `h5_info`. */
export class CombineH5SceneInfo extends CombineSceneInfo {
  @ValidateNested() @Type(() => PartnerH5Info) @IsNotEmpty({ message: 'scene_info.h5_info is required for H5 orders' })
  h5_info!: PartnerH5Info;
}

/**
 * The payer of a JSAPI / mini-program combine order: `openid` under `combine_appid`, or `sub_openid` under a
 * sub-order's `sub_appid`.
 */
export class CombinePayerInfo {
  @IsOptional() @IsString() @ByteLength(1, 128) openid?: string;
  @IsOptional() @IsString() @ByteLength(1, 128) sub_openid?: string;
}

/** `limit_pay` values of combine orders (OPENAPI `combine-transactions`). */
export type CombineLimitPay = 'no_balance' | 'no_debit' | 'balance_only';

/**
 * Fields common to every combine prepay request (partner / 平台收付通 variant).
 * `combine_appid` and `combine_mchid` default from `spAppid` / `spMchid`; `notify_url` from the module options.
 */
export abstract class CombinePrepayRequestBase {
  /** The provider's AppID, bound to `spMchid`; default `spAppid`. The payer's `openid` belongs to it. */
  @IsOptional() @IsString() @ByteLength(1, 32) combine_appid?: string;
  /** The provider (服务商和电商模式下传服务商商户号); defaults to `spMchid` and must equal it. */
  @IsOptional() @IsString() @ByteLength(1, 32) combine_mchid?: string;
  /** Your number for the whole cart, unique per provider; the close and the query use it. */
  @Matches(COMBINE_OUT_TRADE_NO_PATTERN, { message: 'combine_out_trade_no must be 2–32 characters of [0-9A-Za-z_-|*@] (6–32 of [0-9A-Za-z_-] is accepted everywhere)' })
  combine_out_trade_no!: string;
  /** 1–50 sub-orders, each with its own `out_trade_no`; the same `sub_mchid` may appear in several. */
  @IsArray({ message: 'sub_orders must be an array of 1–50 sub-orders' })
  @ArrayMinSize(1, { message: 'sub_orders must have at least 1 sub-order' })
  @ArrayMaxSize(MAX_COMBINE_SUB_ORDERS, { message: `sub_orders must have at most ${MAX_COMBINE_SUB_ORDERS} sub-orders` })
  @ValidateNested({ each: true })
  @Type(() => CombineSubOrderRequest)
  sub_orders!: CombineSubOrderRequest[];
  // scene_info and combine_payer_info are declared by each scene: class-validator merges a parent's @IsOptional()
  // into every subclass, which would make them optional where they are required.
  abstract scene_info?: CombineSceneInfo;
  abstract combine_payer_info?: CombinePayerInfo;
  /** When the order was created: a Date or an RFC 3339 string with offset. */
  @IsOptional() time_start?: Date | string;
  /** Payment deadline for the whole cart: a Date or an RFC 3339 string with offset; must be in the future. Default 7 days. */
  @IsOptional() time_expire?: Date | string;
  /** Overrides the module's `notifyUrl`. One notification arrives for the whole cart. */
  @IsOptional() @IsString() notify_url?: string;
  @IsOptional() @IsArray() @IsIn(['no_balance', 'no_debit', 'balance_only'], { each: true }) limit_pay?: CombineLimitPay[];
}

/** JSAPI (official account) and mini-program combine order: `combine_payer_info` is required. */
export class CombineJsapiPrepayRequest extends CombinePrepayRequestBase {
  @IsOptional() @ValidateNested() @Type(() => CombineSceneInfo) scene_info?: CombineSceneInfo;
  /** The payer: `openid` (user of `combine_appid`) or `sub_openid` (user of a sub-order's `sub_appid`). */
  @IsDefined({ message: 'combine_payer_info is required for JSAPI / mini-program combine orders' })
  @ValidateNested()
  @Type(() => CombinePayerInfo)
  combine_payer_info!: CombinePayerInfo;
}

/** App combine order. */
export class CombineAppPrepayRequest extends CombinePrepayRequestBase {
  @IsOptional() @ValidateNested() @Type(() => CombineSceneInfo) scene_info?: CombineSceneInfo;
  @IsOptional() @ValidateNested() @Type(() => CombinePayerInfo) combine_payer_info?: CombinePayerInfo;
}

/** H5 combine order: `scene_info.h5_info` is required (and `h5_url` is valid 5 minutes). */
export class CombineH5PrepayRequest extends CombinePrepayRequestBase {
  @IsDefined({ message: 'scene_info with payer_client_ip and h5_info is required for H5 orders' })
  @ValidateNested()
  @Type(() => CombineH5SceneInfo)
  scene_info!: CombineH5SceneInfo;
  @IsOptional() @ValidateNested() @Type(() => CombinePayerInfo) combine_payer_info?: CombinePayerInfo;
}

/** Native (QR code) combine order: the fields of an App combine order. */
export class CombineNativePrepayRequest extends CombineAppPrepayRequest {}

/** One sub-order named in a close request. */
export class CombineCloseSubOrder {
  @Matches(OUT_TRADE_NO_PATTERN, { message: 'out_trade_no must be 6–32 characters of [0-9A-Za-z_-|*]' }) out_trade_no!: string;
  @IsString() @Matches(/^\d{1,32}$/, { message: 'sub_mchid must be the sub-merchant id (digits)' }) sub_mchid!: string;
  @IsOptional() @IsString() @ByteLength(1, 32) sub_appid?: string;
}

/**
 * Close of an unpaid combine order. There is no partial close: `sub_orders` must list **every** sub-order of the
 * order, as ordered; WeChat Pay refuses any other list ("请求关单的子单信息与下单时的子单信息不一致").
 */
export class CombineCloseRequest {
  @Matches(COMBINE_OUT_TRADE_NO_PATTERN, { message: 'combine_out_trade_no must be 2–32 characters of [0-9A-Za-z_-|*@]' })
  combine_out_trade_no!: string;
  /** Default `spAppid`; must be the `combine_appid` of the order. */
  @IsOptional() @IsString() @ByteLength(1, 32) combine_appid?: string;
  @IsArray({ message: 'sub_orders must list every sub-order of the combine order' })
  @ArrayMinSize(1, { message: 'sub_orders must list every sub-order of the combine order' })
  @ArrayMaxSize(MAX_COMBINE_SUB_ORDERS, { message: `sub_orders must have at most ${MAX_COMBINE_SUB_ORDERS} sub-orders` })
  @ValidateNested({ each: true })
  @Type(() => CombineCloseSubOrder)
  sub_orders!: CombineCloseSubOrder[];
}
