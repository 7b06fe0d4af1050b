import { IsOptional, Matches } from 'class-validator';

/** `POST /api/reconciliation { day? }`. */
export class ReconcileDto {
  /** Beijing calendar day; default the latest day WeChat Pay has a bill for (yesterday, from 10:00). */
  @IsOptional()
  @Matches(/^\d{4}-\d{2}-\d{2}$/, { message: 'day must be a Beijing calendar day, YYYY-MM-DD' })
  day?: string;
}
