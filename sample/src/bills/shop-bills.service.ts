import { HttpStatus, Injectable, HttpException } from '@nestjs/common';
import {
  beijingDate,
  type TradeBillRow,
  type TradeBillSummary,
  WechatPayApiError,
  WechatPayBillsService,
} from 'nestjs-wechat-partner-pay';

/** Rows shown on the page; the summary always covers the whole bill. */
const MAX_ROWS_SHOWN = 500;

/** A parsed trade bill (交易账单) of one day. */
export interface TradeBillView {
  bill_date: string;
  sub_mchid?: string;
  rows: TradeBillRow[];
  /** More rows than shown. */
  truncated: boolean;
  summary: TradeBillSummary;
}

/**
 * The most recent Beijing day whose trade bill exists at `now`: yesterday from `readyHour` (10:00 at WeChat Pay),
 * the day before until then.
 */
export function latestBillDate(now: number, readyHour: number): string {
  const beijingHour = new Date(now + 8 * 3_600_000).getUTCHours();
  return beijingDate(new Date(now - (beijingHour >= readyHour ? 1 : 2) * 86_400_000));
}

/** Reads trade bills through WechatPayBillsService and explains WeChat Pay's bill answers. */
@Injectable()
export class ShopBillsService {
  constructor(private readonly bills: WechatPayBillsService) {}

  /** Yesterday in Beijing: bills are generated the next day. */
  static yesterday(): string {
    return beijingDate(new Date(Date.now() - 86_400_000));
  }

  /**
   * Applies for, downloads and parses the bill as a stream. The rows are returned only once the whole file has been
   * read: the module checks the file's SHA1 at its end, so nothing is trusted before that.
   */
  async tradeBill(bill_date: string, sub_mchid?: string, maxRows = MAX_ROWS_SHOWN): Promise<TradeBillView> {
    try {
      const parsed = await this.bills.tradeBillRows({ bill_date, sub_mchid });
      const rows: TradeBillRow[] = [];
      for await (const row of parsed) if (rows.length < maxRows) rows.push(row);
      return {
        bill_date,
        sub_mchid,
        rows,
        truncated: parsed.rowCount > rows.length,
        summary: parsed.summary,
      };
    } catch (err) {
      throw explainBillError(err, bill_date);
    }
  }
}

/** WeChat Pay's bill codes as the cashier should read them; anything else is left to WechatPayErrorFilter. */
export function explainBillError(err: unknown, bill_date: string): unknown {
  if (!(err instanceof WechatPayApiError)) return err;
  switch (err.code) {
    case 'NO_STATEMENT_EXIST':
      return new HttpException(
        { code: err.code, message: `No trades on ${bill_date}: WeChat Pay has no bill for that day` },
        HttpStatus.NOT_FOUND,
      );
    case 'STATEMENT_CREATING':
      return new HttpException(
        {
          code: err.code,
          message: `The bill of ${bill_date} is still being generated: try again in a few minutes`,
        },
        HttpStatus.SERVICE_UNAVAILABLE,
      );
    default:
      return err;
  }
}
