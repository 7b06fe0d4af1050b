import { Controller, Get, Header, Query, Res, UseFilters, UsePipes, ValidationPipe } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { WechatPayErrorFilter } from '../web/wechat-pay-error.filter';
import { tradeBillCsv } from './bill-csv';
import { ShopBillsService, type TradeBillView } from './shop-bills.service';
import { TradeBillQueryDto } from './trade-bill-query.dto';

/** Trade bills of a day: as JSON for the page, and as a CSV download. */
@Controller('api/bills')
@UseFilters(WechatPayErrorFilter)
@UsePipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true }))
export class BillsController {
  constructor(
    private readonly bills: ShopBillsService,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  @Get('trade')
  trade(@Query() q: TradeBillQueryDto): Promise<TradeBillView> {
    return this.bills.tradeBill(q.date ?? ShopBillsService.yesterday(), q.sub_mchid);
  }

  @Get('trade.csv')
  @Header('Content-Type', 'text/csv; charset=utf-8')
  async tradeCsv(@Query() q: TradeBillQueryDto, @Res({ passthrough: true }) res: unknown): Promise<string> {
    const date = q.date ?? ShopBillsService.yesterday();
    // A demo shop's bill fits in memory; for big ones, WechatPayBillsService.downloadToFile() streams to disk.
    const bill = await this.bills.tradeBill(date, q.sub_mchid, Number.MAX_SAFE_INTEGER);
    // Set here rather than with @Header(): the file name carries the date, and only once there is a file.
    this.adapterHost.httpAdapter.setHeader(
      res,
      'Content-Disposition',
      `attachment; filename="tradebill-${date}${q.sub_mchid ? `-${q.sub_mchid}` : ''}.csv"`,
    );
    return tradeBillCsv(bill.rows);
  }
}
