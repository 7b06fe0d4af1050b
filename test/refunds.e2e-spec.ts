/**
 * Refunds end to end (spec §10, §6.3): WechatPayRefundsService in a real Nest app (Express, rawBody, listening on
 * 127.0.0.1) against the simulator over real HTTP with real keys; the simulator's REFUND.SUCCESS notifications reach a
 * `@WechatPayNotification('REFUND.SUCCESS')` handler of the same app exactly once, retries and redeliveries included.
 */
import { Controller, type INestApplication, Injectable, Post } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import {
  beijingDate,
  NotificationEnvelope,
  NotificationResource,
  type PartnerRefundRequest,
  PartnerRefundResource,
  PartnerTransactionResource,
  WechatPartnerPayModule,
  WechatPayApiError,
  WechatPayBillsService,
  WechatPayNotification,
  type WechatPayNotificationEnvelope,
  WechatPayOrdersService,
  WechatPayRefundsService,
  WechatPayValidationError,
} from 'nestjs-wechat-partner-pay';
import { WechatPaySimulator } from 'nestjs-wechat-partner-pay/testing';

const SUB = '1900000109';
const DAY = 86_400_000;
const REFUNDS = '/v3/refund/domestic/refunds';
const NOON = Date.parse(`${beijingDate(new Date())}T12:00:00+08:00`);
const YESTERDAY = beijingDate(new Date(NOON - DAY));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One clock for the simulator and the app (signatures and notifications are checked against it). */
let offset = NOON - Date.now();
const clock = (): number => Date.now() + offset;
const setNow = (ms: number): void => void (offset = ms - Date.now());

/** What the handlers did: the test's stand-in for a database. */
@Injectable()
class Effects {
  readonly refunds: Array<{ resource: PartnerRefundResource; envelope: WechatPayNotificationEnvelope }> = [];
  readonly payments: string[] = [];
  /** Makes the handler of this out_refund_no slower than the simulator's reply timeout, once. */
  slow?: string;
}

@Controller('wechatpay')
class NotifyController {
  constructor(private readonly effects: Effects) {}

  @Post('notify')
  @WechatPayNotification('TRANSACTION.SUCCESS')
  paid(@NotificationResource() tx: PartnerTransactionResource): void {
    this.effects.payments.push(tx.out_trade_no);
  }

  @Post('refund-notify')
  @WechatPayNotification('REFUND.SUCCESS')
  async refunded(@NotificationResource() refund: PartnerRefundResource, @NotificationEnvelope() envelope: WechatPayNotificationEnvelope): Promise<void> {
    if (this.effects.slow === refund.out_refund_no) {
      this.effects.slow = undefined;
      await sleep(400);
    }
    this.effects.refunds.push({ resource: refund, envelope });
  }
}

let sim: WechatPaySimulator;
let app: INestApplication;
let url: string;
let effects: Effects;
let refunds: WechatPayRefundsService;
let orders: WechatPayOrdersService;
let seq = 0;

function id(prefix: string): string {
  return `${prefix}${Date.now()}${String(++seq).padStart(3, '0')}`;
}

/** A paid order of `total` fen whose payment notification goes to the app. */
async function paidOrder(total: number): Promise<{ outTradeNo: string; transactionId: string }> {
  const outTradeNo = id('T');
  await orders.nativePrepay({ sub_mchid: SUB, description: '退款验收', out_trade_no: outTradeNo, amount: { total }, notify_url: `${url}/wechatpay/notify` });
  const order = await sim.pay(outTradeNo, { sub_mchid: SUB });
  return { outTradeNo, transactionId: order.transactionId! };
}

beforeAll(async () => {
  // A 200 ms reply deadline (WeChat: 5 s) so that a slow handler makes the simulator retry while it still runs.
  sim = await WechatPaySimulator.start({ clock, refundDelayMs: 20, notificationTimeScale: 0.001, notificationReplyTimeoutMs: 200 });
  const ref = await Test.createTestingModule({
    imports: [
      WechatPartnerPayModule.forRoot(
        sim.moduleOptions({ clock, notifyUrl: 'http://127.0.0.1:9/unused', retry: { attempts: 3, baseDelayMs: 10, maxDelayMs: 50 }, timeoutMs: 1000 }),
      ),
    ],
    controllers: [NotifyController],
    providers: [Effects],
  }).compile();
  app = ref.createNestApplication<NestExpressApplication>({ rawBody: true, logger: false });
  await app.listen(0, '127.0.0.1');
  url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  effects = app.get(Effects);
  refunds = app.get(WechatPayRefundsService);
  orders = app.get(WechatPayOrdersService);
});

afterEach(() => setNow(NOON));

afterAll(async () => {
  await app?.close();
  await sim?.close();
});

describe('refund acceptance: pay → two partial refunds → over-refund refused → notified once each → REFUND → bill', () => {
  it('runs the whole flow against the simulator and the app', async () => {
    setNow(NOON - DAY + 3 * 3600_000); // yesterday 15:00 Beijing
    const order = await paidOrder(1000);
    const refundUrl = `${url}/wechatpay/refund-notify`;
    const first: PartnerRefundRequest = {
      sub_mchid: SUB,
      out_trade_no: order.outTradeNo,
      out_refund_no: id('R1_'),
      reason: '部分退货',
      notify_url: refundUrl,
      amount: { refund: 300, total: 1000, currency: 'CNY' },
    };
    effects.slow = first.out_refund_no;
    const r1 = await refunds.create(first);
    expect(r1).toMatchObject({
      out_refund_no: first.out_refund_no,
      out_trade_no: order.outTradeNo,
      transaction_id: order.transactionId,
      status: 'PROCESSING',
      channel: 'ORIGINAL',
      user_received_account: '支付用户零钱',
      amount: { total: 1000, refund: 300, payer_total: 1000, payer_refund: 300, settlement_refund: 300, settlement_total: 1000, discount_refund: 0, currency: 'CNY' },
    });
    expect(r1.refund_id).toMatch(/^5030\d{25}$/);
    const r2 = await refunds.create({ sub_mchid: SUB, transaction_id: order.transactionId, out_refund_no: id('R2_'), notify_url: refundUrl, amount: { refund: 500, total: 1000, currency: 'CNY' } });
    expect(r2).toMatchObject({ status: 'PROCESSING', amount: { refund: 500 } });

    const over = await refunds.create({ ...first, out_refund_no: id('R3_'), amount: { refund: 201, total: 1000, currency: 'CNY' } }).catch((e: unknown) => e);
    expect(over).toBeInstanceOf(WechatPayApiError);
    expect(over).toMatchObject({ status: 400, code: 'INVALID_REQUEST', retryable: false });
    expect((over as WechatPayApiError).wechatMessage).toContain('退款金额超过订单可退金额');

    await sim.notifications.flush();
    expect(effects.payments).toEqual([order.outTradeNo]);
    const handled = effects.refunds.map((e) => e.resource.out_refund_no).sort();
    expect(handled).toEqual([r1.out_refund_no, r2.out_refund_no].sort());
    for (const { resource, envelope } of effects.refunds) {
      const r = resource.out_refund_no === r1.out_refund_no ? r1 : r2;
      expect(resource).toBeInstanceOf(PartnerRefundResource);
      expect(envelope).toMatchObject({ event_type: 'REFUND.SUCCESS', summary: '退款成功' });
      expect(resource).toMatchObject({
        sp_mchid: sim.credentials.spMchid,
        sub_mchid: SUB,
        out_trade_no: order.outTradeNo,
        transaction_id: order.transactionId,
        refund_id: r.refund_id,
        refund_status: 'SUCCESS',
        user_received_account: '支付用户零钱',
        amount: { total: 1000, refund: r.amount.refund, payer_total: 1000, payer_refund: r.amount.refund },
      });
      expect(resource.success_time).toMatch(/\+08:00$/);
    }
    // The slow handler made the simulator time out and retry while it ran: those deliveries were duplicates.
    const refundDeliveries = sim.deliveries.filter((d) => d.eventType === 'REFUND.SUCCESS' && !d.probe);
    const slowId = refundDeliveries.find((d) => d.status === 0)?.notificationId;
    expect(slowId).toBeDefined();
    const slowAttempts = refundDeliveries.filter((d) => d.notificationId === slowId);
    expect(slowAttempts[0]).toMatchObject({ status: 0, error: 'TIMEOUT' });
    expect(slowAttempts.at(-1)!.status).toBe(204);
    expect(slowAttempts.length).toBeGreaterThanOrEqual(2);

    // WeChat may also deliver again after a 2xx: the handler must not run again.
    for (const notificationId of new Set(refundDeliveries.map((d) => d.notificationId))) sim.redeliver(notificationId);
    await sim.notifications.flush();
    expect(effects.refunds).toHaveLength(2);
    expect(sim.deliveries.filter((d) => d.eventType === 'REFUND.SUCCESS').at(-1)!.status).toBe(204);

    expect(await refunds.queryByOutRefundNo(r1.out_refund_no, SUB)).toMatchObject({ status: 'SUCCESS', refund_id: r1.refund_id, success_time: expect.stringMatching(/\+08:00$/) });
    expect((await orders.queryByOutTradeNo(order.outTradeNo, SUB)).trade_state).toBe('REFUND');

    setNow(NOON); // the next day, after 10:00: yesterday's bill exists
    const { rows, summary } = await (await app.get(WechatPayBillsService).tradeBillRows({ bill_date: YESTERDAY, sub_mchid: SUB, bill_type: 'REFUND' })).collect();
    const mine = rows.filter((r) => r.out_trade_no === order.outTradeNo);
    expect(mine.map((r) => [r.out_refund_no, r.refund_id, r.refund_amount?.text, r.applied_refund_amount?.value, r.refund_status, r.trade_state])).toEqual([
      [r1.out_refund_no, r1.refund_id, '3.00', 300, 'SUCCESS', 'REFUND'],
      [r2.out_refund_no, r2.refund_id, '5.00', 500, 'SUCCESS', 'REFUND'],
    ]);
    expect(summary.refund_total.value).toBe(rows.reduce((s, r) => s + (r.refund_amount?.value ?? 0), 0));
  });
});

describe('WechatPayRefundsService', () => {
  const valid = (): PartnerRefundRequest => ({ sub_mchid: SUB, out_trade_no: 'T20240520000001', out_refund_no: 'R20240520000001', amount: { refund: 100, total: 100, currency: 'CNY' } });

  it.each<[string, (r: PartnerRefundRequest) => unknown, string]>([
    ['neither transaction_id nor out_trade_no', (r) => ({ ...r, out_trade_no: undefined }), 'transaction_id'],
    ['both transaction_id and out_trade_no', (r) => ({ ...r, transaction_id: '4200000000202405200000000001' }), 'transaction_id'],
    ['out_refund_no with #', (r) => ({ ...r, out_refund_no: 'R#1' }), 'out_refund_no'],
    ['out_refund_no of 65 characters', (r) => ({ ...r, out_refund_no: 'R'.repeat(65) }), 'out_refund_no'],
    ['empty out_refund_no', (r) => ({ ...r, out_refund_no: '' }), 'out_refund_no'],
    ['refund above total', (r) => ({ ...r, amount: { ...r.amount, refund: 101 } }), 'amount.refund'],
    ['refund 0', (r) => ({ ...r, amount: { ...r.amount, refund: 0 } }), 'amount.refund'],
    ['fractional refund', (r) => ({ ...r, amount: { ...r.amount, refund: 1.5 } }), 'amount.refund'],
    ['total 0', (r) => ({ ...r, amount: { ...r.amount, total: 0 } }), 'amount.total'],
    ['from not adding up', (r) => ({ ...r, amount: { ...r.amount, from: [{ account: 'AVAILABLE', amount: 60 }, { account: 'UNAVAILABLE', amount: 30 }] } }), 'amount.from'],
    ['an unknown field', (r) => ({ ...r, sp_mchid: '1230000109' }), 'sp_mchid'],
    ['notify_url with a query string', (r) => ({ ...r, notify_url: 'https://shop.example.com/n?a=1' }), 'notify_url'],
  ])('refuses %s before sending anything', async (_name, change, field) => {
    const before = sim.requests.length;
    const err = await refunds.create(change(valid()) as PartnerRefundRequest).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WechatPayValidationError);
    expect((err as WechatPayValidationError).problems.map((p) => p.field)).toContain(field);
    expect(sim.requests.length).toBe(before);
  });

  it('accepts amount.from that adds up (the simulator agrees)', async () => {
    const order = await paidOrder(100);
    const refund = await refunds.create({ ...valid(), out_trade_no: order.outTradeNo, out_refund_no: id('RF'), amount: { refund: 90, total: 100, currency: 'CNY', from: [{ account: 'AVAILABLE', amount: 60 }, { account: 'UNAVAILABLE', amount: 30 }] } });
    expect(refund.amount.from).toEqual([{ account: 'AVAILABLE', amount: 60 }, { account: 'UNAVAILABLE', amount: 30 }]);
  });

  it.each<[string, { delayMs?: number; resetConnection?: boolean }]>([
    ['the connection is reset after the refund was created', { resetConnection: true }],
    ['the answer comes after the client timeout', { delayMs: 1500 }],
  ])('retries the identical create when %s: one refund, not two', async (_name, fault) => {
    const order = await paidOrder(100);
    const outRefundNo = id('RR');
    sim.faults.next({ path: REFUNDS, method: 'POST', afterProcessing: true, ...fault });
    const before = sim.requests.length;
    const refund = await refunds.create({ ...valid(), out_trade_no: order.outTradeNo, out_refund_no: outRefundNo, amount: { refund: 40, total: 100, currency: 'CNY' } });
    expect(refund.out_refund_no).toBe(outRefundNo);
    expect(sim.listRefunds().filter((r) => r.outRefundNo === outRefundNo).map((r) => r.refundId)).toEqual([refund.refund_id]);
    const posts = sim.requests.slice(before).filter((r) => r.method === 'POST' && r.path === REFUNDS);
    // The delayed first attempt is recorded when it finally answers, possibly after the retry.
    if (fault.resetConnection) expect(posts.map((r) => r.status)).toEqual([0, 200]);
    else {
      await sleep(700);
      expect(sim.requests.slice(before).filter((r) => r.method === 'POST' && r.path === REFUNDS).map((r) => r.status)).toEqual([200, 200]);
    }
  });

  it('queries an unknown out_refund_no as a typed 404 RESOURCE_NOT_EXISTS', async () => {
    const err = await refunds.queryByOutRefundNo('R_DOES_NOT_EXIST', SUB).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WechatPayApiError);
    expect(err).toMatchObject({ status: 404, code: 'RESOURCE_NOT_EXISTS', retryable: false, method: 'GET' });
  });

  it('refuses a malformed query before sending anything', async () => {
    const before = sim.requests.length;
    await expect(refunds.queryByOutRefundNo('R#1', 'abc')).rejects.toMatchObject({ problems: [{ field: 'out_refund_no' }, { field: 'sub_mchid' }] });
    expect(sim.requests.length).toBe(before);
  });
});
