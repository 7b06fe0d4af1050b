/**
 * The reconciliation of one day, framework-free: index the local records (typed arrays), stream the verified bill
 * against them, then stream the local records again for what the bill lacks. Memory is the index (~21 bytes per
 * local record) plus the kept differences, whatever the size of the bill.
 */
import type { TradeBillRow } from '../../bills/dto/trade-bill.dto';
import type { LocalOrderRecord, LocalRefundRecord, WechatPayLocalOrderSource } from './local-order-source';
import { keyHash, RecordIndex } from './record-index';
import { type ReconciliationDifference, type ReconciliationReport, zeroCounts } from './reconciliation-report';

/** Options of one reconciliation. */
export interface ReconcileOptions {
  /** Differences kept in the report. Default 1000. */
  maxDifferences?: number;
  /** Gets every difference as it is found (to store them all, or alert). */
  onDifference?: (difference: ReconciliationDifference) => void | Promise<void>;
}

const PAID = new Set(['SUCCESS', 'REFUND']);
/** The bill's refund states in the refund API's vocabulary (the local one). */
const BILL_REFUND_STATE: Readonly<Record<string, string>> = { SUCCESS: 'SUCCESS', PROCESSING: 'PROCESSING', FAIL: 'CLOSED', CHANGE: 'ABNORMAL' };

/** Reconciles one day's bill rows (already verified) against the local source; `rows` undefined = no statement. */
export async function reconcileTradeBill(
  day: string,
  rows: AsyncIterable<TradeBillRow> | undefined,
  source: WechatPayLocalOrderSource,
  options: ReconcileOptions = {},
): Promise<ReconciliationReport> {
  const max = options.maxDifferences ?? 1000;
  const report: ReconciliationReport = {
    bill_date: day,
    noStatement: rows === undefined,
    billRows: 0,
    localOrders: 0,
    localRefunds: 0,
    counts: zeroCounts(),
    totalDifferences: 0,
    differences: [],
    truncated: false,
  };
  const found = async (d: ReconciliationDifference): Promise<void> => {
    report.counts[d.kind]++;
    report.totalDifferences++;
    if (report.differences.length < max) report.differences.push(d);
    else report.truncated = true;
    await options.onDifference?.(d);
  };

  const orders = new RecordIndex();
  for await (const o of source.ordersOfDay(day) as AsyncIterable<LocalOrderRecord>) orders.add(keyHash(o.sub_mchid, o.out_trade_no), o.total, o.trade_state);
  orders.seal();
  report.localOrders = orders.length;
  const refunds = new RecordIndex();
  if (source.refundsOfDay)
    for await (const r of source.refundsOfDay(day) as AsyncIterable<LocalRefundRecord>) refunds.add(keyHash(r.sub_mchid, r.out_refund_no), r.refund, r.status);
  refunds.seal();
  report.localRefunds = refunds.length;

  for await (const row of rows ?? []) {
    report.billRows++;
    if (row.trade_state === 'REFUND') {
      if (!source.refundsOfDay || !row.out_refund_no) continue;
      const amount = row.refund_amount?.value ?? 0;
      const state = BILL_REFUND_STATE[row.refund_status ?? ''] ?? row.refund_status ?? '';
      const ids = { sub_mchid: row.sub_mchid, out_trade_no: row.out_trade_no, out_refund_no: row.out_refund_no, transaction_id: row.transaction_id };
      const at = refunds.find(keyHash(row.sub_mchid, row.out_refund_no));
      if (at < 0) {
        await found({ kind: 'refund_not_local', ...ids, wechat: { amount, state } });
        continue;
      }
      refunds.markSeen(at);
      const local = { amount: refunds.amount(at), state: refunds.state(at) };
      if (local.amount !== amount) await found({ kind: 'refund_amount_mismatch', ...ids, wechat: { amount, state }, local });
      else if (local.state !== state) await found({ kind: 'refund_state_mismatch', ...ids, wechat: { amount, state }, local });
    } else if (row.trade_state === 'SUCCESS') {
      const amount = row.order_amount.value;
      const ids = { sub_mchid: row.sub_mchid, out_trade_no: row.out_trade_no, transaction_id: row.transaction_id };
      const at = orders.find(keyHash(row.sub_mchid, row.out_trade_no));
      if (at < 0) {
        await found({ kind: 'paid_not_local', ...ids, wechat: { amount, state: 'SUCCESS' } });
        continue;
      }
      orders.markSeen(at);
      const local = { amount: orders.amount(at), state: orders.state(at) };
      if (!PAID.has(local.state)) await found({ kind: 'state_mismatch', ...ids, wechat: { amount, state: 'SUCCESS' }, local });
      else if (local.amount !== amount) await found({ kind: 'amount_mismatch', ...ids, wechat: { amount, state: 'SUCCESS' }, local });
    }
    // REVOKED (撤销, card payments) and other states are neither payments nor refunds of the day.
  }

  for await (const o of source.ordersOfDay(day) as AsyncIterable<LocalOrderRecord>) {
    if (!PAID.has(o.trade_state)) continue;
    const at = orders.find(keyHash(o.sub_mchid, o.out_trade_no));
    if (at >= 0 && orders.wasSeen(at)) continue;
    await found({ kind: 'local_not_at_wechat', sub_mchid: o.sub_mchid, out_trade_no: o.out_trade_no, local: { amount: o.total, state: o.trade_state } });
  }
  if (source.refundsOfDay)
    for await (const r of source.refundsOfDay(day) as AsyncIterable<LocalRefundRecord>) {
      if (r.status !== 'SUCCESS') continue;
      const at = refunds.find(keyHash(r.sub_mchid, r.out_refund_no));
      if (at >= 0 && refunds.wasSeen(at)) continue;
      await found({
        kind: 'refund_local_not_at_wechat',
        sub_mchid: r.sub_mchid,
        out_refund_no: r.out_refund_no,
        ...(r.out_trade_no !== undefined ? { out_trade_no: r.out_trade_no } : {}),
        local: { amount: r.refund, state: r.status },
      });
    }
  return report;
}
