import { IsOptional, Matches } from 'class-validator';

/** `?date=YYYY-MM-DD&sub_mchid=…`; both optional. */
export class TradeBillQueryDto {
  /** Beijing calendar day; default yesterday. */
  @IsOptional()
  @Matches(/^\d{4}-\d{2}-\d{2}$/, { message: 'date must be YYYY-MM-DD' })
  date?: string;

  /** One sub-merchant; all of them when absent. */
  @IsOptional()
  @Matches(/^\d{1,32}$/, { message: 'sub_mchid must be a sub-merchant id (digits)' })
  sub_mchid?: string;
}
