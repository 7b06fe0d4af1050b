import { Body, Controller, HttpCode, Post, UseFilters, UsePipes, ValidationPipe } from '@nestjs/common';
import {
  type ReconciliationReport,
  WechatPayReconciliationService,
} from 'nestjs-wechat-partner-pay/lifecycle';
import { explainBillError, latestBillDate } from '../bills/shop-bills.service';
import { SampleSettings } from '../settings';
import { WechatPayErrorFilter } from '../web/wechat-pay-error.filter';
import { EmbeddedSimulator } from '../wechat-pay/embedded-simulator';
import { OrdersRepository } from './orders.repository';
import { ReconcileDto } from './reconcile.dto';

/**
 * "Reconcile yesterday" (对账): WeChat Pay's trade bill of a day, SHA-1 verified before its first row, streamed
 * against the shop's own orders and refunds of that Beijing day (the repository is the `WechatPayLocalOrderSource`).
 * A production shop would run it daily (`reconciliation: { source, at: '10:30' }` of the lifecycle module) and alert
 * on differences; the button runs the same thing by hand.
 */
@Controller('api/reconciliation')
@UseFilters(WechatPayErrorFilter)
@UsePipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true }))
export class ReconciliationController {
  constructor(
    private readonly reconciliation: WechatPayReconciliationService,
    private readonly repo: OrdersRepository,
    private readonly embedded: EmbeddedSimulator,
    private readonly settings: SampleSettings,
  ) {}

  /** Bad days (not YYYY-MM-DD, today or later, older than WeChat Pay keeps bills) are a 400 before any request. */
  @Post()
  @HttpCode(200)
  async reconcile(@Body() dto: ReconcileDto): Promise<ReconciliationReport> {
    const day = dto?.day ?? latestBillDate(this.embedded.now(), this.settings.billReadyHour);
    try {
      return await this.reconciliation.reconcile(day, { source: this.repo });
    } catch (err) {
      // STATEMENT_CREATING before ~10:00: "try again later", as on the bill card (NO_STATEMENT_EXIST is an empty bill).
      throw explainBillError(err, day);
    }
  }
}
