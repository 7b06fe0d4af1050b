/**
 * Daily reconciliation against the simulator's real trade bill (signed, hash-verified, parsed): orders and refunds
 * made "yesterday", and a local source with one planted difference of every kind; a day without trades
 * (NO_STATEMENT_EXIST) is an empty bill. In-process scheduler: no Redis needed for the report itself.
 */
import { Test, type TestingModule } from '@nestjs/testing';
import { WechatPartnerPayModule, WechatPayOrdersService, WechatPayRefundsService } from 'nestjs-wechat-partner-pay';
import {
  type LocalOrderRecord,
  type LocalRefundRecord,
  type ReconciliationDifference,
  type ReconciliationReport,
  WechatPayLifecycleConfigError,
  WechatPayLifecycleMetrics,
  WechatPayLifecycleModule,
  WechatPayReconciliationService,
} from 'nestjs-wechat-partner-pay/lifecycle';
import { WechatPaySimulator } from 'nestjs-wechat-partner-pay/testing';
import { beijingDate } from '../lib/core/time';
import { resolveLifecycleOptions } from '../lib/lifecycle/lifecycle.options';
import { billClock, DAY } from './helpers/bill-clock';

const SUB = '1900000109';
const SUB2 = '1900000110';
const { noon: NOON, yesterday: YESTERDAY, now: clock, setNow } = billClock();

let sim: WechatPaySimulator;
let ref: TestingModule;
const run = `${Date.now()}`.slice(-9);
/** What WeChat Pay has: out_trade_no -> [sub_mchid, total]. */
const paid = new Map<string, [string, number]>();
/** Refunds at WeChat Pay: out_refund_no -> [sub_mchid, out_trade_no, amount]. */
const refunds = new Map<string, [string, string, number]>();

beforeAll(async () => {
  sim = await WechatPaySimulator.start({ clock, notificationMode: 'once', refundMode: 'manual' });
  ref = await Test.createTestingModule({
    imports: [
      WechatPartnerPayModule.forRoot({ isGlobal: true, ...sim.moduleOptions({ clock, notifyUrl: 'http://127.0.0.1:9/notify', retry: { attempts: 1 } }) }),
      WechatPayLifecycleModule.forRoot({ scheduler: { type: 'in-process' }, clock, reconciliation: { daily: false } }),
    ],
  }).compile();
  await ref.init();
  const orders = ref.get(WechatPayOrdersService);
  setNow(NOON - DAY + 2 * 3600_000); // yesterday 14:00
  const plan: Array<[string, number]> = [[SUB, 100], [SUB, 200], [SUB, 300], [SUB, 400], [SUB2, 500], [SUB2, 600], [SUB2, 700]];
  for (const [i, [sub, total]] of plan.entries()) {
    const no = `RC${run}O${i}`;
    await orders.nativePrepay({ sub_mchid: sub, description: '对账', out_trade_no: no, amount: { total } });
    await sim.pay(no, { sub_mchid: sub });
    paid.set(no, [sub, total]);
  }
  const rs = ref.get(WechatPayRefundsService);
  for (const [i, [no, amount]] of ([[`RC${run}O0`, 50], [`RC${run}O1`, 60], [`RC${run}O2`, 70]] as const).entries()) {
    const [sub, total] = paid.get(no)!;
    const r = await rs.create({ sub_mchid: sub, out_trade_no: no, out_refund_no: `RC${run}R${i}`, amount: { refund: amount, total, currency: 'CNY' } });
    sim.completeRefund(r.out_refund_no);
    refunds.set(r.out_refund_no, [sub, no, amount]);
  }
  setNow(NOON);
});

afterAll(async () => {
  await ref?.close();
  await sim?.close();
});

/** The local books: what WeChat has, with one planted difference of every kind. */
function plantedBooks(): { orders: LocalOrderRecord[]; refunds: LocalRefundRecord[] } {
  const orders: LocalOrderRecord[] = [...paid].map(([no, [sub, total]]) => ({ sub_mchid: sub, out_trade_no: no, total, trade_state: 'SUCCESS' }));
  orders.splice(orders.findIndex((o) => o.out_trade_no === `RC${run}O3`), 1); // paid at WeChat, not local
  orders.find((o) => o.out_trade_no === `RC${run}O4`)!.total = 501; // amount mismatch
  orders.find((o) => o.out_trade_no === `RC${run}O5`)!.trade_state = 'NOTPAY'; // state mismatch
  orders.push({ sub_mchid: SUB, out_trade_no: `RC${run}GHOST`, total: 999, trade_state: 'SUCCESS' }); // local, not at WeChat
  orders.push({ sub_mchid: SUB, out_trade_no: `RC${run}UNPAID`, total: 1, trade_state: 'NOTPAY' }); // no difference
  const locals: LocalRefundRecord[] = [...refunds].map(([rno, [sub, no, amount]]) => ({ sub_mchid: sub, out_refund_no: rno, out_trade_no: no, refund: amount, status: 'SUCCESS' }));
  locals.splice(locals.findIndex((r) => r.out_refund_no === `RC${run}R0`), 1); // refund not local
  locals.find((r) => r.out_refund_no === `RC${run}R1`)!.refund = 61; // refund amount mismatch
  locals.find((r) => r.out_refund_no === `RC${run}R2`)!.status = 'PROCESSING'; // refund state mismatch
  locals.push({ sub_mchid: SUB2, out_refund_no: `RC${run}RGHOST`, refund: 5, status: 'SUCCESS' }); // local refund not at WeChat
  return { orders, refunds: locals };
}

function key(d: ReconciliationDifference): string {
  return `${d.kind} ${d.out_refund_no ?? d.out_trade_no}`;
}

describe('daily reconciliation', () => {
  it('finds one planted difference of every kind, with both sides, and nothing else', async () => {
    const books = plantedBooks();
    // Async generators, called twice per run (index, then what the bill lacks): as a database cursor would be.
    const source = {
      async *ordersOfDay(day: string) {
        expect(day).toBe(YESTERDAY);
        yield* books.orders;
      },
      async *refundsOfDay() {
        yield* books.refunds;
      },
    };
    const seen: ReconciliationDifference[] = [];
    const reported: ReconciliationReport[] = [];
    const service = ref.get(WechatPayReconciliationService);
    service.onReport((r) => reported.push(r));
    const report = await service.reconcile(undefined, { source, onDifference: (d) => void seen.push(d) });
    expect(report.bill_date).toBe(YESTERDAY);
    expect(report.noStatement).toBe(false);
    expect(report.billRows).toBe(paid.size + refunds.size);
    expect(report.differences.map(key).sort()).toEqual(
      [
        `paid_not_local RC${run}O3`,
        `amount_mismatch RC${run}O4`,
        `state_mismatch RC${run}O5`,
        `local_not_at_wechat RC${run}GHOST`,
        `refund_not_local RC${run}R0`,
        `refund_amount_mismatch RC${run}R1`,
        `refund_state_mismatch RC${run}R2`,
        `refund_local_not_at_wechat RC${run}RGHOST`,
      ].sort(),
    );
    expect(Object.values(report.counts)).toEqual(Array(8).fill(1));
    expect(report.totalDifferences).toBe(8);
    expect(seen.map(key).sort()).toEqual(report.differences.map(key).sort());
    expect(reported).toEqual([report]);
    const byKind = Object.fromEntries(report.differences.map((d) => [d.kind, d]));
    expect(byKind.amount_mismatch).toMatchObject({ sub_mchid: SUB2, wechat: { amount: 500, state: 'SUCCESS' }, local: { amount: 501, state: 'SUCCESS' } });
    expect(byKind.amount_mismatch.transaction_id).toMatch(/^\d+$/);
    expect(byKind.amount_mismatch.transaction_id).toBe(sim.getOrder(SUB2, `RC${run}O4`)?.transactionId);
    expect(byKind.state_mismatch).toMatchObject({ wechat: { state: 'SUCCESS' }, local: { state: 'NOTPAY' } });
    expect(byKind.paid_not_local).toMatchObject({ sub_mchid: SUB, wechat: { amount: 400 } });
    expect(byKind.refund_state_mismatch).toMatchObject({ wechat: { amount: 70, state: 'SUCCESS' }, local: { amount: 70, state: 'PROCESSING' } });
    expect(byKind.refund_amount_mismatch).toMatchObject({ wechat: { amount: 60 }, local: { amount: 61 } });
    const m = ref.get(WechatPayLifecycleMetrics).snapshot();
    expect(m.reconciliationDifferences).toBeGreaterThanOrEqual(8);
  });

  it('reports nothing when the books agree, and keeps only maxDifferences in the list', async () => {
    const orders: LocalOrderRecord[] = [...paid].map(([no, [sub, total]]) => ({ sub_mchid: sub, out_trade_no: no, total, trade_state: 'SUCCESS' }));
    const locals: LocalRefundRecord[] = [...refunds].map(([rno, [sub, , amount]]) => ({ sub_mchid: sub, out_refund_no: rno, refund: amount, status: 'SUCCESS' }));
    const service = ref.get(WechatPayReconciliationService);
    const clean = await service.reconcile(YESTERDAY, { source: { ordersOfDay: () => orders, refundsOfDay: () => locals } });
    expect(clean.totalDifferences).toBe(0);
    expect(clean.differences).toEqual([]);
    const capped = await service.reconcile(YESTERDAY, { source: { ordersOfDay: () => [] }, maxDifferences: 2 });
    expect(capped.counts.paid_not_local).toBe(paid.size);
    expect(capped.differences).toHaveLength(2);
    expect(capped.truncated).toBe(true);
  });

  it('NO_STATEMENT_EXIST is an empty day: every paid local order is local_not_at_wechat', async () => {
    const empty = beijingDate(new Date(NOON - 5 * DAY));
    const report = await ref.get(WechatPayReconciliationService).reconcile(empty, {
      source: { ordersOfDay: () => [{ sub_mchid: SUB, out_trade_no: 'X1', total: 1, trade_state: 'SUCCESS' }, { sub_mchid: SUB, out_trade_no: 'X2', total: 1, trade_state: 'CLOSED' }] },
    });
    expect(report).toMatchObject({ bill_date: empty, noStatement: true, billRows: 0, totalDifferences: 1 });
    expect(report.differences.map(key)).toEqual(['local_not_at_wechat X1']);
  });

  it('options are checked at boot, all problems in one error', () => {
    expect(() => resolveLifecycleOptions({ scheduler: { type: 'nope' } as never, watch: { scheduleMs: [3, 1] }, reconciliation: { at: '25:00' } })).toThrow(WechatPayLifecycleConfigError);
    let error: unknown;
    try {
      resolveLifecycleOptions({ scheduler: { type: 'bullmq', connection: null as never }, retry: { initialMs: 0 }, reconciliation: { at: '9' } });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(WechatPayLifecycleConfigError);
    expect((error as WechatPayLifecycleConfigError).problems).toHaveLength(3);
  });
});
