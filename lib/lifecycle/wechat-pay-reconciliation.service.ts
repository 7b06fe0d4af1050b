import { Inject, Injectable, Logger } from '@nestjs/common';
import type { TradeBillRow } from '../bills/dto/trade-bill.dto';
import { WechatPayBillsService } from '../bills/wechat-pay-bills.service';
import { WechatPayApiError } from '../core/errors/wechat-pay.errors';
import { beijingDate } from '../core/time';
import { LIFECYCLE_OPTIONS } from './lifecycle.constants';
import { WechatPayLifecycleError } from './lifecycle.errors';
import type { ResolvedLifecycleOptions } from './lifecycle.options';
import { WechatPayLifecycleMetrics } from './lifecycle-metrics';
import type { WechatPayLocalOrderSource } from './reconciliation/local-order-source';
import { type ReconcileOptions, reconcileTradeBill } from './reconciliation/reconcile-trade-bill';
import type { ReconciliationReport } from './reconciliation/reconciliation-report';

/** Options of one `reconcile()` call. */
export interface ReconcileDayOptions extends ReconcileOptions {
  /** Overrides the module's `reconciliation.source`. */
  source?: WechatPayLocalOrderSource;
}

/**
 * The daily reconciliation (§3.2.9–3.2.10): yesterday's trade bill, verified before its first row, streamed
 * against your orders of that Beijing day; the report goes to the `onReport()` listeners of the instance that ran it.
 */
@Injectable()
export class WechatPayReconciliationService {
  private readonly logger = new Logger('WechatPayLifecycle');
  private readonly listeners: Array<(report: ReconciliationReport) => unknown> = [];

  constructor(
    @Inject(LIFECYCLE_OPTIONS) private readonly options: ResolvedLifecycleOptions,
    private readonly bills: WechatPayBillsService,
    private readonly metrics: WechatPayLifecycleMetrics,
  ) {}

  /** Registers a listener of every report (daily and manual runs). */
  onReport(listener: (report: ReconciliationReport) => unknown): void {
    this.listeners.push(listener);
  }

  /**
   * Reconciles one Beijing day (default yesterday, by the module's clock): `NO_STATEMENT_EXIST` is an empty bill
   * (every paid local order is then `local_not_at_wechat`); `STATEMENT_CREATING` and other errors reject. Yesterday's
   * bill is ready from about 10:00 Beijing time: a run before that gets `STATEMENT_CREATING` (the daily job retries
   * it; a button in your back office should pass the day before yesterday until then).
   */
  async reconcile(day?: string | Date, options: ReconcileDayOptions = {}): Promise<ReconciliationReport> {
    const source = options.source ?? this.options.source;
    if (!source) throw new WechatPayLifecycleError('reconcile needs a local order source: reconciliation.source in the module options, or { source }');
    const billDate = day === undefined ? beijingDate(new Date(this.options.clock() - 86_400_000)) : typeof day === 'string' ? day : beijingDate(day);
    let rows: AsyncIterable<TradeBillRow> | undefined;
    try {
      rows = await this.bills.tradeBillRows({ bill_date: billDate, bill_type: 'ALL' });
    } catch (e) {
      if (!(e instanceof WechatPayApiError && e.code === 'NO_STATEMENT_EXIST')) throw e;
    }
    const report = await reconcileTradeBill(billDate, rows, source, {
      maxDifferences: options.maxDifferences ?? this.options.maxDifferences,
      onDifference: options.onDifference,
    });
    this.metrics.increment('reconciliations');
    this.metrics.increment('reconciliationDifferences', report.totalDifferences);
    for (const l of this.listeners) {
      try {
        await l(report);
      } catch (e) {
        this.logger.error(`a reconciliation report listener threw ${e instanceof Error ? e.name : typeof e}`);
      }
    }
    return report;
  }
}
