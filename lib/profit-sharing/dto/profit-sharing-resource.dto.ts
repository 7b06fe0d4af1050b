import { Type } from 'class-transformer';
import { IsDefined, IsInt, IsNotEmpty, IsOptional, IsString, ValidateNested } from 'class-validator';

/** `receiver` of a profit-sharing notification: for a return, the original 分账方. */
export class ProfitSharingNotificationReceiver {
  @IsString() @IsNotEmpty() type!: string;
  @IsString() @IsNotEmpty() account!: string;
  @IsInt() amount!: number;
  @IsOptional() @IsString() description?: string;
}

/**
 * The decrypted resource of a profit-sharing notification (分账动账通知), sent only to
 * `MERCHANT_ID` receivers. For a return (`PROFITSHARING.RETURN`, summary 分账回退) `order_id` / `out_order_no` are the
 * **return's** numbers. It is not the final result: confirm with `queryOrder()` / `queryReturnOrder()`.
 */
export class ProfitSharingResource {
  /** The provider; present in partner and ecommerce mode (checked against `spMchid` when present). */
  @IsOptional() @IsString() sp_mchid?: string;
  /** The 出资方 sub-merchant. */
  @IsOptional() @IsString() sub_mchid?: string;
  /** Direct mode only. */
  @IsOptional() @IsString() mchid?: string;
  @IsString() @IsNotEmpty() transaction_id!: string;
  @IsString() @IsNotEmpty() order_id!: string;
  @IsOptional() @IsString() out_order_no?: string;
  @IsDefined() @ValidateNested() @Type(() => ProfitSharingNotificationReceiver) receiver!: ProfitSharingNotificationReceiver;
  /** RFC 3339. */
  @IsOptional() @IsString() success_time?: string;
}
