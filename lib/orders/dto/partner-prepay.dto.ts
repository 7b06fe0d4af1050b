import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  ValidateBy,
  ValidateNested,
} from 'class-validator';
import { ByteLength } from '../../core/validation/byte-length';

/** `[0-9A-Za-z_-|*]`, 6–32 characters. */
export const OUT_TRADE_NO_PATTERN = /^[0-9A-Za-z_\-|*]{6,32}$/;

/** Order amount: `total` in fen (分), at least 1. */
export class PartnerOrderAmount {
  @IsInt({ message: 'amount.total must be an integer number of fen (1 yuan = 100)' })
  @Min(1, { message: 'amount.total must be at least 1 fen' })
  total!: number;
  @IsOptional() @IsIn(['CNY'], { message: 'amount.currency must be CNY' }) currency?: 'CNY';
}

/** The payer of a JSAPI / mini-program order: an openid under sp_appid or under sub_appid. */
export class PartnerOrderPayer {
  @IsOptional() @IsString() @ByteLength(1, 128) sp_openid?: string;
  @IsOptional() @IsString() @ByteLength(1, 128) sub_openid?: string;
}

/** One item of `detail.goods_detail`. */
export class PartnerGoodsDetail {
  @IsString() @ByteLength(1, 32) merchant_goods_id!: string;
  @IsOptional() @IsString() @ByteLength(1, 32) wechatpay_goods_id?: string;
  @IsOptional() @IsString() @ByteLength(1, 256) goods_name?: string;
  @IsInt() @Min(1) quantity!: number;
  @IsInt() @Min(0) unit_price!: number;
}

/** `detail`: receipt information for discounts. */
export class PartnerOrderDetail {
  @IsOptional() @IsInt() @Min(0) cost_price?: number;
  @IsOptional() @IsString() @ByteLength(1, 32) invoice_id?: string;
  @IsOptional() @IsArray() @ArrayMinSize(1) @ArrayMaxSize(6000) @ValidateNested({ each: true }) @Type(() => PartnerGoodsDetail)
  goods_detail?: PartnerGoodsDetail[];
}

/** `scene_info.store_info`. */
export class PartnerStoreInfo {
  @IsString() @ByteLength(1, 32) id!: string;
  @IsOptional() @IsString() @ByteLength(1, 256) name?: string;
  @IsOptional() @IsString() @ByteLength(1, 32) area_code?: string;
  @IsOptional() @IsString() @ByteLength(1, 512) address?: string;
}

/** `scene_info.h5_info`, required for H5 orders. */
export class PartnerH5Info {
  @IsIn(['iOS', 'Android', 'Wap'], { message: "scene_info.h5_info.type must be 'iOS', 'Android' or 'Wap'" }) type!: 'iOS' | 'Android' | 'Wap';
  @IsOptional() @IsString() @ByteLength(1, 64) app_name?: string;
  @IsOptional() @IsString() @ByteLength(1, 128) app_url?: string;
  @IsOptional() @IsString() @ByteLength(1, 128) bundle_id?: string;
  @IsOptional() @IsString() @ByteLength(1, 128) package_name?: string;
}

/** `scene_info`. */
export class PartnerSceneInfo {
  @IsString() @ByteLength(1, 45) payer_client_ip!: string;
  @IsOptional() @IsString() @ByteLength(1, 32) device_id?: string;
  @IsOptional() @ValidateNested() @Type(() => PartnerStoreInfo) store_info?: PartnerStoreInfo;
}

/** `scene_info` of an H5 order, with `h5_info`. */
export class PartnerH5SceneInfo extends PartnerSceneInfo {
  @ValidateNested() @Type(() => PartnerH5Info) @IsNotEmpty({ message: 'scene_info.h5_info is required for H5 orders' })
  h5_info!: PartnerH5Info;
}

/** Largest `settle_info.subsidy_amount`: 5000 元 per order [3P WxJava `PartnerTransactionsRequest`; IMSITE partner jsapi]. */
export const MAX_SUBSIDY_AMOUNT = 500_000;

/** `subsidy_amount` counts only on a profit-sharing order, so it is refused without `profit_sharing: true`. */
function RequiresProfitSharing(): PropertyDecorator {
  return ValidateBy({
    name: 'requiresProfitSharing',
    validator: {
      validate: (_value: unknown, args) => (args?.object as PartnerSettleInfo | undefined)?.profit_sharing === true,
      defaultMessage: () => 'is allowed only with settle_info.profit_sharing: true (WeChat Pay applies a subsidy only to profit-sharing orders)',
    },
  });
}

/**
 * `settle_info` of a prepay request, on every scene. `profit_sharing: true` keeps the paid funds frozen until they
 * are split (or 180 days pass, for 平台收付通); an order placed without it cannot be split.
 */
export class PartnerSettleInfo {
  @IsOptional() @IsBoolean() profit_sharing?: boolean;
  /**
   * 补差 amount in fen (integer, at most 500000 = 5000 元), only with `profit_sharing: true`. Documented for
   * 平台收付通 platforms; accepted here for both products, as no source says WeChat refuses it for a 普通服务商.
   */
  @IsOptional()
  @IsInt({ message: 'settle_info.subsidy_amount must be an integer number of fen' })
  @Min(0, { message: 'settle_info.subsidy_amount must not be negative' })
  @Max(MAX_SUBSIDY_AMOUNT, { message: `settle_info.subsidy_amount must be at most ${MAX_SUBSIDY_AMOUNT} fen (5000 元)` })
  @RequiresProfitSharing()
  subsidy_amount?: number;
}

/** Fields common to every partner prepay request. `sp_mchid`, `sp_appid` and the default `notify_url` come from the module options. */
export class PartnerPrepayRequestBase {
  /** Sub-merchant receiving the money. */
  @IsString() @Matches(/^\d{1,32}$/, { message: 'sub_mchid must be the sub-merchant id (digits)' }) sub_mchid!: string;
  /** Sub-merchant AppID; required with `payer.sub_openid`. */
  @IsOptional() @IsString() @ByteLength(1, 32) sub_appid?: string;
  /** Shown on the payer's bill, at most 127 UTF-8 bytes (42 Chinese characters). */
  @IsString() @ByteLength(1, 127) description!: string;
  /** Your order number: 6–32 of `[0-9A-Za-z_-|*]`, unique under the provider. */
  @Matches(OUT_TRADE_NO_PATTERN, { message: 'out_trade_no must be 6–32 characters of [0-9A-Za-z_-|*]' }) out_trade_no!: string;
  /** Payment deadline: a Date or an RFC 3339 string with offset; must be in the future. */
  @IsOptional() time_expire?: Date | string;
  @IsOptional() @IsString() @ByteLength(1, 128) attach?: string;
  /** Overrides the module's `notifyUrl`. */
  @IsOptional() @IsString() notify_url?: string;
  @IsOptional() @IsString() @ByteLength(1, 32) goods_tag?: string;
  @IsOptional() @IsBoolean() support_fapiao?: boolean;
  @IsOptional() @IsArray() @IsIn(['no_balance', 'no_credit', 'no_debit', 'balance_only'], { each: true })
  limit_pay?: Array<'no_balance' | 'no_credit' | 'no_debit' | 'balance_only'>;
  @ValidateNested() @Type(() => PartnerOrderAmount) @IsNotEmpty({ message: 'amount is required' }) amount!: PartnerOrderAmount;
  @IsOptional() @ValidateNested() @Type(() => PartnerOrderDetail) detail?: PartnerOrderDetail;
  @IsOptional() @ValidateNested() @Type(() => PartnerSceneInfo) scene_info?: PartnerSceneInfo;
  @IsOptional() @ValidateNested() @Type(() => PartnerSettleInfo) settle_info?: PartnerSettleInfo;
}

/** JSAPI (official account) and mini-program order: `payer` is required. */
export class PartnerJsapiPrepayRequest extends PartnerPrepayRequestBase {
  @ValidateNested() @Type(() => PartnerOrderPayer) @IsNotEmpty({ message: 'payer is required for JSAPI / mini-program orders' })
  payer!: PartnerOrderPayer;
}

/** App order. */
export class PartnerAppPrepayRequest extends PartnerPrepayRequestBase {}

/** H5 (mobile browser outside WeChat) order: `scene_info.h5_info` is required. */
export class PartnerH5PrepayRequest extends PartnerPrepayRequestBase {
  @ValidateNested() @Type(() => PartnerH5SceneInfo) @IsNotEmpty({ message: 'scene_info with h5_info is required for H5 orders' })
  declare scene_info: PartnerH5SceneInfo;
}

/** Native (QR code) order. */
export class PartnerNativePrepayRequest extends PartnerPrepayRequestBase {}

/** Response of JSAPI and App orders. `prepay_id` is valid for 2 hours. */
export interface PrepayIdResponse {
  prepay_id: string;
}
/** Response of H5 orders. `h5_url` is valid for 5 minutes. */
export interface H5PrepayResponse {
  h5_url: string;
}
/** Response of Native orders. Render `code_url` as a QR code; valid for 2 hours. */
export interface NativePrepayResponse {
  code_url: string;
}

/** Parameters for `WeixinJSBridge.invoke('getBrandWCPayRequest')` and `wx.requestPayment`. */
export interface JsapiPayParams {
  appId: string;
  timeStamp: string;
  nonceStr: string;
  package: string;
  signType: 'RSA';
  paySign: string;
}

/** Parameters for the OpenSDK `PayReq` of App payments. */
export interface AppPayParams {
  appid: string;
  partnerid: string;
  prepayid: string;
  package: 'Sign=WXPay';
  noncestr: string;
  timestamp: string;
  sign: string;
}
