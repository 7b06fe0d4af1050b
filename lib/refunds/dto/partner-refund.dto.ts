import { Type } from 'class-transformer';
import { ArrayMinSize, IsArray, IsIn, IsInt, IsOptional, IsString, Matches, Min, ValidateNested } from 'class-validator';
import { ByteLength } from '../../core/validation/byte-length';

/** `[0-9A-Za-z_-|*@]`, 1–64 characters. */
export const OUT_REFUND_NO_PATTERN = /^[0-9A-Za-z_\-|*@]{1,64}$/;

/** One source account of a refund (`amount.from`). */
export class RefundFromAccount {
  @IsIn(['AVAILABLE', 'UNAVAILABLE']) account!: 'AVAILABLE' | 'UNAVAILABLE';
  @IsInt() @Min(1) amount!: number;
}

/** `amount` of a refund request, in fen. */
export class RefundRequestAmount {
  /** Amount to refund, at most the order total minus earlier refunds. */
  @IsInt({ message: 'amount.refund must be an integer number of fen' }) @Min(1, { message: 'amount.refund must be at least 1 fen' }) refund!: number;
  /** The original order total. */
  @IsInt({ message: 'amount.total must be an integer number of fen' }) @Min(1, { message: 'amount.total must be at least 1 fen' }) total!: number;
  @IsIn(['CNY'], { message: 'amount.currency must be CNY' }) currency!: 'CNY';
  @IsOptional() @IsArray() @ArrayMinSize(1) @ValidateNested({ each: true }) @Type(() => RefundFromAccount) from?: RefundFromAccount[];
}

/** One refunded goods line. */
export class RefundGoodsDetail {
  @IsString() @ByteLength(1, 32) merchant_goods_id!: string;
  @IsOptional() @IsString() @ByteLength(1, 32) wechatpay_goods_id?: string;
  @IsOptional() @IsString() @ByteLength(1, 256) goods_name?: string;
  @IsInt() @Min(0) unit_price!: number;
  @IsInt() @Min(1) refund_amount!: number;
  @IsInt() @Min(1) refund_quantity!: number;
}

/** Request of `POST /v3/refund/domestic/refunds` (partner). Give exactly one of `transaction_id` and `out_trade_no`. */
export class PartnerRefundRequest {
  @IsString() @Matches(/^\d{1,32}$/, { message: 'sub_mchid must be the sub-merchant id (digits)' }) sub_mchid!: string;
  @IsOptional() @IsString() @ByteLength(1, 32) transaction_id?: string;
  @IsOptional() @IsString() @Matches(/^[0-9A-Za-z_\-|*]{6,32}$/, { message: 'out_trade_no must be 6–32 characters of [0-9A-Za-z_-|*]' }) out_trade_no?: string;
  /** Your refund number: same number + same body = the same refund (safe to retry). */
  @Matches(OUT_REFUND_NO_PATTERN, { message: 'out_refund_no must be 1–64 characters of [0-9A-Za-z_-|*@]' }) out_refund_no!: string;
  /** Shown to the payer. */
  @IsOptional() @IsString() @ByteLength(1, 80) reason?: string;
  /** Overrides the module's notifyUrl for the refund notification. */
  @IsOptional() @IsString() notify_url?: string;
  @IsOptional() @IsIn(['AVAILABLE']) funds_account?: 'AVAILABLE';
  @ValidateNested() @Type(() => RefundRequestAmount) amount!: RefundRequestAmount;
  @IsOptional() @IsArray() @ValidateNested({ each: true }) @Type(() => RefundGoodsDetail) goods_detail?: RefundGoodsDetail[];
}

/** Refund status; an open union (a status WeChat Pay adds later still type-checks). */
export type PartnerRefundStatus = 'SUCCESS' | 'CLOSED' | 'PROCESSING' | 'ABNORMAL' | (string & NonNullable<unknown>);

/** A refund as WeChat Pay returns it. */
export interface PartnerRefund {
  refund_id: string;
  out_refund_no: string;
  transaction_id: string;
  out_trade_no: string;
  channel: 'ORIGINAL' | 'BALANCE' | 'OTHER_BALANCE' | 'OTHER_BANKCARD';
  user_received_account: string;
  success_time?: string;
  create_time: string;
  status: PartnerRefundStatus;
  funds_account?: 'UNSETTLED' | 'AVAILABLE' | 'UNAVAILABLE' | 'OPERATION' | 'BASIC';
  amount: {
    total: number;
    refund: number;
    from?: Array<{ account: string; amount: number }>;
    payer_total: number;
    payer_refund: number;
    settlement_refund: number;
    settlement_total: number;
    discount_refund: number;
    currency: string;
  };
  promotion_detail?: Array<{
    promotion_id: string;
    scope: 'GLOBAL' | 'SINGLE';
    type: 'COUPON' | 'DISCOUNT';
    amount: number;
    refund_amount: number;
    goods_detail?: RefundGoodsDetail[];
  }>;
}

/** How an ABNORMAL refund is paid out again: to a bank card of the payer, or to the merchant's bank account. */
export const ABNORMAL_REFUND_TYPES = ['USER_BANK_CARD', 'MERCHANT_BANK_CARD'] as const;

/** `type` of an abnormal refund application. */
export type AbnormalRefundType = (typeof ABNORMAL_REFUND_TYPES)[number];

/**
 * Request of `POST /v3/refund/domestic/refunds/{refund_id}/apply-abnormal-refund` (发起异常退款, partner). Give
 * `bank_account` and `real_name` in plain text: `applyAbnormalRefund()` encrypts them (RSA-OAEP) with the current
 * WeChat Pay public key or platform certificate and sends its id as `Wechatpay-Serial`. For `USER_BANK_CARD`,
 * `bank_type`, `bank_account` and `real_name` are required (WeChat Pay docs: "若退款至用户此字段必填").
 */
export class ApplyAbnormalRefundRequest {
  @IsString() @Matches(/^\d{1,32}$/, { message: 'sub_mchid must be the sub-merchant id (digits)' }) sub_mchid!: string;
  /** The refund's out_refund_no, as given when it was created. */
  @Matches(OUT_REFUND_NO_PATTERN, { message: 'out_refund_no must be 1–64 characters of [0-9A-Za-z_-|*@]' }) out_refund_no!: string;
  @IsIn(ABNORMAL_REFUND_TYPES, { message: 'type must be USER_BANK_CARD or MERCHANT_BANK_CARD' }) type!: AbnormalRefundType;
  /** Bank of the card, as a WeChat Pay bank type (e.g. `ICBC_DEBIT`); only debit cards of some banks are accepted. */
  @IsOptional() @IsString() @ByteLength(1, 16, { message: 'bank_type must be 1–16 characters (a WeChat Pay bank type such as ICBC_DEBIT)' }) bank_type?: string;
  /** The card number, in plain text (encrypted by the service before sending). */
  @IsOptional() @IsString({ message: 'bank_account must be a string' }) bank_account?: string;
  /** The card holder's name, in plain text (encrypted by the service before sending). */
  @IsOptional() @IsString({ message: 'real_name must be a string' }) real_name?: string;
}
