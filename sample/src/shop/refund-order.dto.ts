import { IsInt, IsOptional, Max, Min } from 'class-validator';

/** A refund asked for by the cashier: `amount` in fen, or everything not refunded yet when absent. */
export class RefundOrderDto {
  @IsOptional()
  @IsInt({ message: 'amount must be whole fen' })
  @Min(1, { message: 'amount must be at least 1 fen' })
  @Max(100_000_000, { message: 'amount is larger than any order of this shop' })
  amount?: number;
}
