import { IsNotEmpty, IsString } from 'class-validator';
import { PartnerTransactionFields } from '../../orders/dto/partner-transaction.dto';

/**
 * Decrypted resource of `TRANSACTION.*` notifications: the same object as the order query, with
 * `transaction_id` and `amount` always present.
 */
export class PartnerTransactionResource extends PartnerTransactionFields {
  /** WeChat Pay's order number. */
  @IsString() @IsNotEmpty() transaction_id!: string;
}
