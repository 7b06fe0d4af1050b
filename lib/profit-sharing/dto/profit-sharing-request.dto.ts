/**
 * Requests of profit sharing (分账), per family (both families, as WeChat Pay documents them). String sizes
 * are UTF-8 bytes, as WeChat Pay counts them. `appid` is filled in from the module's `spAppid`; names are given in
 * plain text and encrypted by the service.
 */
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsBoolean, IsIn, IsInt, IsOptional, IsString, Matches, Min, ValidateNested } from 'class-validator';
import { ByteLength } from '../../core/validation/byte-length';

/** `out_order_no` / `out_return_no`: 1–64 characters of `[0-9A-Za-z_-|*@]`. */
export const PROFIT_SHARING_NO_PATTERN = /^[0-9A-Za-z_\-|*@]{1,64}$/;
/** At most 50 receivers per split request (DOC create-order 2025-09-29; older docs said 5). */
export const MAX_RECEIVERS_PER_SPLIT = 50;

const SUB_MCHID = /^\d{1,32}$/;
const NO_MESSAGE = 'must be 1–64 characters of [0-9A-Za-z_-|*@]';

/** Receiver types of the ecommerce family. */
export type EcommerceReceiverType = 'MERCHANT_ID' | 'PERSONAL_OPENID' | (string & NonNullable<unknown>);
/** Receiver types of the partner family (`PERSONAL_SUB_OPENID`: an openid under `sub_appid`). */
export type PartnerReceiverType = 'MERCHANT_ID' | 'PERSONAL_OPENID' | 'PERSONAL_SUB_OPENID' | (string & NonNullable<unknown>);
/** `relation_type` of a receiver; the partner family also has `CUSTOM` (with `custom_relation`) and more. */
export type ReceiverRelationType =
  | 'SUPPLIER'
  | 'DISTRIBUTOR'
  | 'SERVICE_PROVIDER'
  | 'PLATFORM'
  | 'OTHERS'
  | 'STORE'
  | 'STAFF'
  | 'STORE_OWNER'
  | 'PARTNER'
  | 'HEADQUARTER'
  | 'BRAND'
  | 'USER'
  | 'CUSTOM'
  | (string & NonNullable<unknown>);

/** `POST /v3/ecommerce/profitsharing/receivers/add`: one platform-wide receiver; re-adding it is success. */
export class EcommerceAddReceiverRequest {
  @IsIn(['MERCHANT_ID', 'PERSONAL_OPENID'], { message: 'type must be MERCHANT_ID or PERSONAL_OPENID' }) type!: EcommerceReceiverType;
  /** A mchid, or an openid under the platform appid (`spAppid`). */
  @ByteLength(1, 64) account!: string;
  /**
   * `MERCHANT_ID`: the merchant's full name (required). `PERSONAL_OPENID`: optional real name, checked by WeChat.
   * Plain text in the current docs and in JAVA [WeChat Pay's documentation; the legacy `encrypted_name` is UNVERIFIED].
   */
  @IsOptional() @ByteLength(1, 256) name?: string;
  @ByteLength(1, 32) relation_type!: ReceiverRelationType;
}

/** `POST /v3/ecommerce/profitsharing/receivers/delete`. A deleted receiver can still be the subject of a return. */
export class EcommerceDeleteReceiverRequest {
  @IsIn(['MERCHANT_ID', 'PERSONAL_OPENID'], { message: 'type must be MERCHANT_ID or PERSONAL_OPENID' }) type!: EcommerceReceiverType;
  @ByteLength(1, 64) account!: string;
}

/** `POST /v3/profitsharing/receivers/add`: a receiver of one sub-merchant (每个子商户都要分别添加接收方). */
export class PartnerAddReceiverRequest {
  @IsString() @Matches(SUB_MCHID, { message: 'sub_mchid must be the sub-merchant id (digits)' }) sub_mchid!: string;
  /** Needed for `PERSONAL_SUB_OPENID`. */
  @IsOptional() @ByteLength(1, 32) sub_appid?: string;
  @IsIn(['MERCHANT_ID', 'PERSONAL_OPENID', 'PERSONAL_SUB_OPENID'], { message: 'type must be MERCHANT_ID, PERSONAL_OPENID or PERSONAL_SUB_OPENID' }) type!: PartnerReceiverType;
  @ByteLength(1, 64) account!: string;
  /** Plain text; sent RSA-OAEP encrypted. Required for `MERCHANT_ID` (the merchant's full name). */
  @IsOptional() @ByteLength(1, 200) name?: string;
  @ByteLength(1, 32) relation_type!: ReceiverRelationType;
  /** Required when `relation_type` is `CUSTOM`. */
  @IsOptional() @ByteLength(1, 10) custom_relation?: string;
}

/** `POST /v3/profitsharing/receivers/delete`. */
export class PartnerDeleteReceiverRequest {
  @IsString() @Matches(SUB_MCHID, { message: 'sub_mchid must be the sub-merchant id (digits)' }) sub_mchid!: string;
  @IsOptional() @ByteLength(1, 32) sub_appid?: string;
  @IsIn(['MERCHANT_ID', 'PERSONAL_OPENID', 'PERSONAL_SUB_OPENID'], { message: 'type must be MERCHANT_ID, PERSONAL_OPENID or PERSONAL_SUB_OPENID' }) type!: PartnerReceiverType;
  @ByteLength(1, 64) account!: string;
}

/** One receiver line of an ecommerce split. */
export class EcommerceSplitReceiver {
  @IsIn(['MERCHANT_ID', 'PERSONAL_OPENID'], { message: 'receivers[].type must be MERCHANT_ID or PERSONAL_OPENID' }) type!: EcommerceReceiverType;
  /** The platform's or a 二级商户's mchid, or an openid under the platform appid. */
  @ByteLength(1, 64) receiver_account!: string;
  @IsInt({ message: 'receivers[].amount must be an integer number of fen' }) @Min(1, { message: 'receivers[].amount must be at least 1 fen' }) amount!: number;
  /** Shown in bills and queries; 80 UTF-8 bytes. */
  @ByteLength(1, 80) description!: string;
  /** `PERSONAL_OPENID` only: the real name, checked by WeChat; plain text here, sent encrypted. */
  @IsOptional() @ByteLength(1, 200) receiver_name?: string;
}

/** `POST /v3/ecommerce/profitsharing/orders` (请求分账). */
export class EcommerceCreateSplitRequest {
  /** The 二级商户 (出资方). */
  @IsString() @Matches(SUB_MCHID, { message: 'sub_mchid must be the 二级商户 merchant id (digits)' }) sub_mchid!: string;
  /** For a combine order, the **sub-order's** transaction_id. */
  @ByteLength(1, 32) transaction_id!: string;
  /** A new number for each split and each finish; the same number is the same request. */
  @IsString() @Matches(PROFIT_SHARING_NO_PATTERN, { message: `out_order_no ${NO_MESSAGE}` }) out_order_no!: string;
  @IsArray() @ArrayMinSize(1, { message: 'receivers must have at least 1 line' }) @ArrayMaxSize(MAX_RECEIVERS_PER_SPLIT, { message: `receivers must have at most ${MAX_RECEIVERS_PER_SPLIT} lines` })
  @ValidateNested({ each: true }) @Type(() => EcommerceSplitReceiver) receivers!: EcommerceSplitReceiver[];
  /** `true`: the last split; only the platform may receive it, and the rest is unfrozen back to the 二级商户. */
  @IsBoolean() finish!: boolean;
}

/** One receiver line of a partner split. */
export class PartnerSplitReceiver {
  @IsIn(['MERCHANT_ID', 'PERSONAL_OPENID', 'PERSONAL_SUB_OPENID'], { message: 'receivers[].type must be MERCHANT_ID, PERSONAL_OPENID or PERSONAL_SUB_OPENID' }) type!: PartnerReceiverType;
  @ByteLength(1, 64) account!: string;
  /** Optional name, checked against the receiver's; plain text here, sent encrypted. */
  @IsOptional() @ByteLength(1, 200) name?: string;
  @IsInt({ message: 'receivers[].amount must be an integer number of fen' }) @Min(1, { message: 'receivers[].amount must be at least 1 fen' }) amount!: number;
  @ByteLength(1, 80) description!: string;
}

/** `POST /v3/profitsharing/orders` (请求分账). */
export class PartnerCreateSplitRequest {
  @IsString() @Matches(SUB_MCHID, { message: 'sub_mchid must be the sub-merchant id (digits)' }) sub_mchid!: string;
  @IsOptional() @ByteLength(1, 32) sub_appid?: string;
  @ByteLength(1, 32) transaction_id!: string;
  @IsString() @Matches(PROFIT_SHARING_NO_PATTERN, { message: `out_order_no ${NO_MESSAGE}` }) out_order_no!: string;
  @IsArray() @ArrayMinSize(1, { message: 'receivers must have at least 1 line' }) @ArrayMaxSize(MAX_RECEIVERS_PER_SPLIT, { message: `receivers must have at most ${MAX_RECEIVERS_PER_SPLIT} lines` })
  @ValidateNested({ each: true }) @Type(() => PartnerSplitReceiver) receivers!: PartnerSplitReceiver[];
  /** `true`: the rest of the order is unfrozen to the sub-merchant after this split. */
  @IsBoolean() unfreeze_unsplit!: boolean;
}

/** Identifies a split (or a finish) by your `out_order_no`. */
export class ProfitSharingOrderQuery {
  @IsString() @Matches(SUB_MCHID, { message: 'sub_mchid must be the sub-merchant id (digits)' }) sub_mchid!: string;
  @ByteLength(1, 32) transaction_id!: string;
  @IsString() @Matches(PROFIT_SHARING_NO_PATTERN, { message: `out_order_no ${NO_MESSAGE}` }) out_order_no!: string;
}

/** Finish (ecommerce `finish-order`, 解冻剩余资金) or unfreeze (partner `orders/unfreeze`): a **new** `out_order_no`. */
export class ProfitSharingFinishRequest extends ProfitSharingOrderQuery {
  @ByteLength(1, 80) description!: string;
}

/** `transaction_id` of the order whose unsplit amount (剩余待分金额) is asked for. */
export class ProfitSharingAmountsQuery {
  @ByteLength(1, 32) transaction_id!: string;
}

/** A return (分账回退) of part of a split to a `MERCHANT_ID` receiver; give `order_id` or `out_order_no`. */
export class ProfitSharingReturnRequest {
  /** The original 出资方; the return credits its available balance. */
  @IsString() @Matches(SUB_MCHID, { message: 'sub_mchid must be the sub-merchant id (digits)' }) sub_mchid!: string;
  @IsOptional() @ByteLength(1, 64) order_id?: string;
  @IsOptional() @IsString() @Matches(PROFIT_SHARING_NO_PATTERN, { message: `out_order_no ${NO_MESSAGE}` }) out_order_no?: string;
  @IsString() @Matches(PROFIT_SHARING_NO_PATTERN, { message: `out_return_no ${NO_MESSAGE}` }) out_return_no!: string;
  /** The receiver_account (mchid) that got the money. */
  @IsString() @Matches(/^\d{1,32}$/, { message: 'return_mchid must be the receiver merchant id (digits)' }) return_mchid!: string;
  @IsInt({ message: 'amount must be an integer number of fen' }) @Min(1, { message: 'amount must be at least 1 fen' }) amount!: number;
  @ByteLength(1, 80) description!: string;
}

/** Identifies a return by your `out_return_no` and the split (ecommerce: `order_id` or `out_order_no`; partner: `out_order_no`). */
export class ProfitSharingReturnQuery {
  @IsString() @Matches(SUB_MCHID, { message: 'sub_mchid must be the sub-merchant id (digits)' }) sub_mchid!: string;
  @IsString() @Matches(PROFIT_SHARING_NO_PATTERN, { message: `out_return_no ${NO_MESSAGE}` }) out_return_no!: string;
  @IsOptional() @ByteLength(1, 64) order_id?: string;
  @IsOptional() @IsString() @Matches(PROFIT_SHARING_NO_PATTERN, { message: `out_order_no ${NO_MESSAGE}` }) out_order_no?: string;
}
