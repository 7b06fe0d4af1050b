/**
 * 平台收付通 refunds end to end (ecommerce spec §2): a module with `product: 'ecommerce'` in a real Nest app (Express
 * and Fastify, rawBody) against a simulator started as an ecommerce platform, over real HTTP with real keys: pay →
 * refund on `/v3/ecommerce/refunds/apply` → query by both ids → REFUND.SUCCESS (with `refund_account`) handled once →
 * the refund in the REFUND bill; an advance refund and its return (垫付回补).
 */
import { Controller, type INestApplication, Injectable, Post } from '@nestjs/common';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import {
  beijingDate,
  isRefundClosed,
  NotificationResource,
  PartnerRefundResource,
  WechatPartnerPayModule,
  WechatPayApiError,
  WechatPayBillsService,
  WechatPayNotification,
  WechatPayOrdersService,
  WechatPayRefundsService,
  WechatPayValidationError,
} from 'nestjs-wechat-partner-pay';
import { WechatPaySimulator } from 'nestjs-wechat-partner-pay/testing';

const SUB = '1900000109';
const DAY = 86_400_000;
const ECOMMERCE_REFUNDS = '/v3/ecommerce/refunds';
const NOON = Date.parse(`${beijingDate(new Date())}T12:00:00+08:00`);
const YESTERDAY = beijingDate(new Date(NOON - DAY));

let offset = NOON - Date.now();
const clock = (): number => Date.now() + offset;
const setNow = (ms: number): void => void (offset = ms - Date.now());

/** What the handlers did. */
@Injectable()
class Effects {
  readonly refunds: PartnerRefundResource[] = [];
}

@Controller('wechatpay')
class NotifyController {
  constructor(private readonly effects: Effects) {}

  @Post('notify')
  @WechatPayNotification('TRANSACTION.SUCCESS')
  paid(): void {}

  @Post('refund-notify')
  @WechatPayNotification('REFUND.SUCCESS', 'REFUND.CLOSED')
  refunded(@NotificationResource() refund: PartnerRefundResource): void {
    this.effects.refunds.push(refund);
  }
}

let seq = 0;
const id = (prefix: string): string => `${prefix}${Date.now()}${String(++seq).padStart(3, '0')}`;

describe.each<'express' | 'fastify'>(['express', 'fastify'])('ecommerce refunds on %s', (adapter) => {
  let sim: WechatPaySimulator;
  let app: INestApplication;
  let url: string;
  let effects: Effects;
  let refunds: WechatPayRefundsService<'ecommerce'>;
  let orders: WechatPayOrdersService;

  async function paidOrder(total: number): Promise<{ outTradeNo: string; transactionId: string }> {
    const outTradeNo = id('T');
    await orders.nativePrepay({ sub_mchid: SUB, description: '电商退款', out_trade_no: outTradeNo, amount: { total }, notify_url: `${url}/wechatpay/notify` });
    const order = await sim.pay(outTradeNo, { sub_mchid: SUB });
    return { outTradeNo, transactionId: order.transactionId! };
  }

  beforeAll(async () => {
    sim = await WechatPaySimulator.start({ clock, product: 'ecommerce', refundMode: 'manual', ecommerce: { advanceRefundPermission: true, closedStatus: 'CLOSE' } });
    const ref = await Test.createTestingModule({
      imports: [WechatPartnerPayModule.forRoot(sim.moduleOptions({ clock, retry: { attempts: 2, baseDelayMs: 10, maxDelayMs: 20 } }))],
      controllers: [NotifyController],
      providers: [Effects],
    }).compile();
    app =
      adapter === 'express'
        ? ref.createNestApplication<NestExpressApplication>({ rawBody: true, logger: false })
        : ref.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { rawBody: true, logger: false });
    await app.listen(0, '127.0.0.1');
    url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    effects = app.get(Effects);
    refunds = app.get(WechatPayRefundsService) as WechatPayRefundsService<'ecommerce'>;
    orders = app.get(WechatPayOrdersService);
  });

  afterEach(() => setNow(NOON));

  afterAll(async () => {
    await app?.close();
    await sim?.close();
  });

  it('pay → refund → query by both ids → notified once → in the REFUND bill', async () => {
    setNow(NOON - DAY + 3 * 3600_000); // yesterday 15:00 Beijing
    const order = await paidOrder(1000);
    const before = sim.requests.length;
    const created = await refunds.create({
      sub_mchid: SUB,
      out_trade_no: order.outTradeNo,
      out_refund_no: id('R'),
      reason: '商品已售完',
      amount: { refund: 300, total: 1000 },
      notify_url: `${url}/wechatpay/refund-notify`,
    });
    // The create answer is partial: no status; the outcome comes from a query or the notification.
    expect(created).toEqual({
      refund_id: expect.stringMatching(/^5030\d{25}$/),
      out_refund_no: created.out_refund_no,
      create_time: expect.stringMatching(/\+08:00$/),
      amount: { refund: 300, payer_refund: 300, discount_refund: 0, currency: 'CNY', advance: 0, from: [] },
      promotion_detail: [],
    });
    expect(sim.requests.slice(before).map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual([`POST ${ECOMMERCE_REFUNDS}/apply 200`]);
    // The body named the platform appid from the options and carried no sp_mchid (the signer is the platform).
    const stored = sim.getRefund(created.out_refund_no, SUB)!;
    expect(stored.request).toMatchObject({ sp_appid: sim.credentials.spAppid, amount: { refund: 300, total: 1000, currency: 'CNY' } });
    expect(stored.request).not.toHaveProperty('sp_mchid');

    const byId = await refunds.queryByRefundId({ refund_id: created.refund_id, sub_mchid: SUB });
    expect(byId).toMatchObject({ refund_id: created.refund_id, status: 'PROCESSING', refund_account: 'REFUND_SOURCE_SUB_MERCHANT', transaction_id: order.transactionId, channel: 'ORIGINAL' });
    expect(await refunds.queryByOutRefundNo({ out_refund_no: created.out_refund_no, sub_mchid: SUB })).toEqual(byId);

    sim.completeRefund(created.out_refund_no, { sub_mchid: SUB });
    await sim.notifications.flush();
    const delivered = sim.deliveries.filter((d) => d.eventType === 'REFUND.SUCCESS');
    for (const notificationId of new Set(delivered.map((d) => d.notificationId))) sim.redeliver(notificationId);
    await sim.notifications.flush();
    const mine = effects.refunds.filter((r) => r.out_refund_no === created.out_refund_no);
    expect(mine).toHaveLength(1);
    expect(mine[0]).toBeInstanceOf(PartnerRefundResource);
    expect(mine[0]).toMatchObject({ refund_id: created.refund_id, refund_status: 'SUCCESS', refund_account: 'REFUND_SOURCE_SUB_MERCHANT', amount: { total: 1000, refund: 300 } });

    const done = await refunds.queryByRefundId({ refund_id: created.refund_id, sub_mchid: SUB });
    expect(done).toMatchObject({ status: 'SUCCESS', success_time: expect.stringMatching(/\+08:00$/) });
    expect(await refunds.queryByOutRefundNo({ out_refund_no: created.out_refund_no, sub_mchid: SUB })).toEqual(done);

    setNow(NOON); // after 10:00 the next day: yesterday's bill exists
    const { rows } = await (await app.get(WechatPayBillsService).tradeBillRows({ bill_date: YESTERDAY, sub_mchid: SUB, bill_type: 'REFUND' })).collect();
    expect(rows.filter((r) => r.out_trade_no === order.outTradeNo).map((r) => [r.refund_id, r.out_refund_no, r.refund_amount?.value, r.refund_status])).toEqual([
      [created.refund_id, created.out_refund_no, 300, 'SUCCESS'],
    ]);
  });

  it('advance refund → return-advance → query', async () => {
    const order = await paidOrder(500);
    const created = await refunds.create({ sub_mchid: SUB, transaction_id: order.transactionId, out_refund_no: id('RA'), amount: { refund: 500, total: 500, currency: 'CNY' }, refund_account: 'REFUND_SOURCE_PARTNER_ADVANCE', notify_url: `${url}/wechatpay/refund-notify` });
    expect(created.amount.advance).toBe(500);
    // Not yet successful: nothing to return.
    const early = await refunds.returnAdvance({ refund_id: created.refund_id, sub_mchid: SUB }).catch((e: unknown) => e);
    expect(early).toBeInstanceOf(WechatPayApiError);
    expect(early).toMatchObject({ status: 400, code: 'INVALID_REQUEST' });

    sim.completeRefund(created.out_refund_no, { sub_mchid: SUB });
    expect(await refunds.queryByRefundId({ refund_id: created.refund_id, sub_mchid: SUB })).toMatchObject({ status: 'SUCCESS', refund_account: 'REFUND_SOURCE_PARTNER_ADVANCE' });
    const returned = await refunds.returnAdvance({ refund_id: created.refund_id, sub_mchid: SUB });
    expect(returned).toEqual({
      refund_id: created.refund_id,
      advance_return_id: expect.any(String),
      return_amount: 500,
      payer_mchid: SUB,
      payer_account: 'BASIC',
      payee_mchid: sim.credentials.spMchid,
      payee_account: 'BASIC',
      result: 'SUCCESS',
      success_time: expect.stringMatching(/\+08:00$/),
    });
    expect(await refunds.queryReturnAdvance({ refund_id: created.refund_id, sub_mchid: SUB })).toEqual(returned);
    // Keyed on refund_id: asking again answers the same return.
    expect(await refunds.returnAdvance({ refund_id: created.refund_id, sub_mchid: SUB })).toEqual(returned);
  });

  it('a refund that was not advanced has nothing to return; a closed one reads CLOSE, and isRefundClosed() says so', async () => {
    const order = await paidOrder(200);
    const created = await refunds.create({ sub_mchid: SUB, out_trade_no: order.outTradeNo, out_refund_no: id('RC'), amount: { refund: 200, total: 200 }, notify_url: `${url}/wechatpay/refund-notify` });
    sim.completeRefund(created.out_refund_no, { sub_mchid: SUB, status: 'CLOSED' });
    const closed = await refunds.queryByRefundId({ refund_id: created.refund_id, sub_mchid: SUB });
    expect(closed.status).toBe('CLOSE');
    expect(isRefundClosed(closed.status)).toBe(true);
    await sim.notifications.flush();
    expect(effects.refunds.find((r) => r.out_refund_no === created.out_refund_no)).toMatchObject({ refund_status: 'CLOSE' });
    await expect(refunds.returnAdvance({ refund_id: created.refund_id, sub_mchid: SUB })).rejects.toMatchObject({ status: 400, code: 'INVALID_REQUEST' });
    await expect(refunds.queryReturnAdvance({ refund_id: created.refund_id, sub_mchid: SUB })).rejects.toMatchObject({ status: 404, code: 'RESOURCE_NOT_EXISTS' });
  });

  it('refuses bad requests before sending anything, lengths counted in UTF-8 bytes', async () => {
    const before = sim.requests.length;
    const err = await refunds
      .create({
        sub_mchid: SUB,
        out_trade_no: 'T20240520000001',
        transaction_id: '4200000000000000000000000000',
        out_refund_no: 'R1',
        reason: '退'.repeat(27), // 27 characters, 81 bytes
        amount: { refund: 100, total: 100, from: [{ account: 'AVAILABLE', amount: 60 }, { account: 'AVAILABLE', amount: 30 }] },
        funds_account: 'AVAILABLE',
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WechatPayValidationError);
    const problems = (err as WechatPayValidationError).problems.map((p) => `${p.field}: ${p.message}`);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^reason: .*80 UTF-8 bytes/),
        expect.stringMatching(/^transaction_id: give exactly one/),
        expect.stringMatching(/^amount.from: must add up to amount.refund \(100\), got 90/),
        expect.stringMatching(/^amount.from: must name each account at most once/),
        expect.stringMatching(/^amount.from: must not be combined with funds_account/),
      ]),
    );
    // Partner-only fields are not part of the ecommerce request.
    await expect(
      refunds.create({ sub_mchid: SUB, out_trade_no: 'T20240520000001', out_refund_no: 'R1', amount: { refund: 1, total: 1 }, goods_detail: [] } as never),
    ).rejects.toMatchObject({ problems: [{ field: 'goods_detail' }] });
    await expect(refunds.queryByRefundId({ refund_id: '', sub_mchid: 'x' })).rejects.toBeInstanceOf(WechatPayValidationError);
    expect(sim.requests.length).toBe(before);
  });
});
