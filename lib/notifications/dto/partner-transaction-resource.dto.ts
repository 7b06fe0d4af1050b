import { IsNotEmpty, IsString } from 'class-validator';
import { PartnerTransaction } from '../../orders/dto/partner-transaction.dto';

/**
 * Decrypted resource of `TRANSACTION.*` notifications: the same object as the order query, with
 * `transaction_id` always present.
 */
export class PartnerTransactionResource extends PartnerTransaction {
  /** WeChat Pay's order number. */
  @IsString() @IsNotEmpty() declare transaction_id: string;
}
