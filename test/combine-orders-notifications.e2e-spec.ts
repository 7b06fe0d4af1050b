/**
 * The acceptance path of combine payments (合单支付) on Express and Fastify, with the simulator delivering real signed
 * notifications to a Nest app: a cart of 3 sub-orders over 2 sub-merchants, ordered as Native and as JSAPI, paid;
 * one notification per cart, handled once with every sub-order typed and checked against the local cart; the query
 * shows every sub-order SUCCESS; one sub-order is refunded; the trade bill lists the sub-orders. A single-order route
 * never gets a cart, and the combine route never gets a single order. Profit sharing of a sub-order is not covered:
 * the module has no profit-sharing service yet.
 */
import { Controller, type INestApplication, Injectable, Post } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import {
  assertNotificationMatchesCart,
  type CombineSubOrderRequest,
  CombineSubOrderResource,
  CombineTransactionResource,
  type ExpectedNotificationCart,
  NOTIFICATION_FAILURES,
  NotificationResource,
  parseTradeBill,
  PartnerTransactionResource,
  WechatPartnerPayModule,
  WechatPayBillsService,
  WechatPayCombineOrdersService,
  WechatPayNotification,
  WechatPayNotificationService,
  WechatPayOrdersService,
  WechatPayRefundsService,
} from 'nestjs-wechat-partner-pay';
import { WechatPaySimulator } from 'nestjs-wechat-partner-pay/testing';
import { billClock, DAY } from './helpers/bill-clock';

const SUB = '1900000109';
const SUB2 = '1900000110';
const SHOP = 'https://shop.example.com/wechatpay';
let seq = 0;

function no(prefix: string): string {
  return `${prefix}${Date.now()}${String(++seq).padStart(4, '0')}`;
}

@Injectable()
class Shop {
  /** The carts as the shop stored them when ordering, by combine_out_trade_no. */
  readonly carts = new Map<string, ExpectedNotificationCart>();
  paidCarts: CombineTransactionResource[] = [];
  payments: PartnerTransactionResource[] = [];
}

@Controller('wechatpay')
class ShopNotifications {
  constructor(private readonly shop: Shop) {}

  /** Single orders only: no `resources`, so the built-in default kinds. */
  @Post('pay')
  @WechatPayNotification('TRANSACTION.SUCCESS')
  pay(@NotificationResource() tx: PartnerTransactionResource): void {
    this.shop.payments.push(tx);
  }

  @Post('combine')
  @WechatPayNotification({ eventTypes: ['TRANSACTION.SUCCESS'], resources: ['combine-transaction'] })
  combine(@NotificationResource() cart: CombineTransactionResource): void {
    const local = this.shop.carts.get(cart.combine_out_trade_no);
    if (!local) throw new Error('unknown cart');
    assertNotificationMatchesCart(cart, local);
    this.shop.paidCarts.push(cart);
  }
}

type Adapter = 'express' | 'fastify';

describe.each<Adapter>(['express', 'fastify'])('combine payment notifications on %s', (adapter) => {
  const { noon: NOON, yesterday: YESTERDAY, now: clock, setNow } = billClock();
  let sim: WechatPaySimulator;
  let app: INestApplication;
  let shop: Shop;
  let combine: WechatPayCombineOrdersService;

  beforeAll(async () => {
    sim = await WechatPaySimulator.start({ clock, notificationMode: 'once', refundMode: 'manual' });
    const ref = await Test.createTestingModule({
      imports: [WechatPartnerPayModule.forRoot(sim.moduleOptions({ clock, notifyUrl: `${SHOP}/pay`, notifications: { routeCheck: false } }))],
      controllers: [ShopNotifications],
      providers: [Shop],
    }).compile();
    app =
      adapter === 'express'
        ? ref.createNestApplication<NestExpressApplication>({ rawBody: true, logger: false })
        : ref.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { rawBody: true, logger: false });
    await app.listen(0, '127.0.0.1');
    sim.routeNotificationsTo(await app.getUrl());
    shop = app.get(Shop);
    combine = app.get(WechatPayCombineOrdersService);
  });
  afterAll(async () => {
    await app?.close();
    await sim?.close();
  });
  beforeEach(() => {
    shop.paidCarts = [];
    shop.payments = [];
    setNow(NOON);
  });

  function cart(): CombineSubOrderRequest[] {
    return [
      { sub_mchid: SUB, out_trade_no: no('S'), description: '腾讯充值中心-QQ会员', attach: 'line-1', amount: { total_amount: 1200 } },
      { sub_mchid: SUB2, out_trade_no: no('S'), description: '第二商户-公仔', attach: 'line-2', amount: { total_amount: 3300 } },
      { sub_mchid: SUB, out_trade_no: no('S'), description: '腾讯充值中心-贴纸', attach: 'line-3', amount: { total_amount: 5 } },
    ];
  }

  /** What the shop keeps of a cart to check its notification against. */
  function remember(combine_out_trade_no: string, subs: CombineSubOrderRequest[]): void {
    shop.carts.set(combine_out_trade_no, {
      combine_out_trade_no,
      combine_mchid: sim.credentials.spMchid,
      sub_orders: subs.map((s) => ({ out_trade_no: s.out_trade_no, sub_mchid: s.sub_mchid, total_amount: s.amount.total_amount })),
    });
  }

  const deliveriesTo = (path: string) => sim.deliveries.filter((d) => new URL(d.url).pathname === `/wechatpay/${path}`);

  it('Native and JSAPI carts → pay → one notification each, handled once, typed → query SUCCESS → refund a sub-order → bill', async () => {
    const nativeSubs = cart();
    const nativeNo = no('CN');
    remember(nativeNo, nativeSubs);
    const { code_url } = await combine.nativePrepay({ combine_out_trade_no: nativeNo, sub_orders: nativeSubs, notify_url: `${SHOP}/combine` });
    expect(code_url).toMatch(/^weixin:\/\//);
    const jsapiSubs = cart();
    const jsapiNo = no('CJ');
    remember(jsapiNo, jsapiSubs);
    const { payParams } = await combine.jsapiPrepayWithPayParams({
      combine_out_trade_no: jsapiNo,
      sub_orders: jsapiSubs,
      combine_payer_info: { openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' },
      scene_info: { payer_client_ip: '14.23.150.211' },
      notify_url: `${SHOP}/combine`,
    });
    expect(payParams.appId).toBe(sim.credentials.spAppid);

    const yesterday = NOON - DAY + 2 * 3600_000;
    await sim.payCombine(nativeNo, { at: yesterday });
    await sim.payCombine(jsapiNo, { at: yesterday });
    await sim.notifications.flush();
    expect(deliveriesTo('combine').map((d) => d.status)).toEqual([204, 204]);
    expect(shop.payments).toHaveLength(0);
    expect(shop.paidCarts.map((c) => c.combine_out_trade_no)).toEqual([nativeNo, jsapiNo]);
    for (const c of shop.paidCarts) {
      expect(c).toBeInstanceOf(CombineTransactionResource);
      expect(c.sub_orders).toHaveLength(3);
      for (const s of c.sub_orders) {
        expect(s).toBeInstanceOf(CombineSubOrderResource);
        expect(s.trade_state).toBe('SUCCESS');
        expect(s.transaction_id).toMatch(/^42000\d+$/);
      }
    }
    expect(shop.paidCarts[1].combine_payer_info?.openid).toBe('oUpF8uMuAJO_M2pxb1Q9zNjWeS6o');

    // WeChat Pay may deliver again: the same notification, and a new one for the same cart, are both duplicates.
    for (const d of deliveriesTo('combine')) sim.redeliver(d.notificationId);
    await sim.notifications.flush();
    const again = sim.signedNotification('TRANSACTION.SUCCESS', await combine.query({ combine_out_trade_no: nativeNo }));
    await request(app.getHttpServer()).post('/wechatpay/combine').set(again.headers).send(again.body).expect(204);
    expect(shop.paidCarts).toHaveLength(2);
    const service = app.get(WechatPayNotificationService);
    const parsed = await service.parse(again.headers, again.body);
    expect(parsed.kind).toBe('combine-transaction');
    expect(service.dedupeKey(parsed)).toBe(`combine:${sim.credentials.spMchid}:${nativeNo}`);

    const paid = await combine.query({ combine_out_trade_no: nativeNo });
    expect(paid.sub_orders.map((s) => s.trade_state)).toEqual(['SUCCESS', 'SUCCESS', 'SUCCESS']);
    const notified = shop.paidCarts[0].sub_orders;
    expect(paid.sub_orders.map((s) => s.transaction_id)).toEqual(notified.map((s) => s.transaction_id));

    const refunds = app.get(WechatPayRefundsService);
    const refund = await refunds.create({ sub_mchid: SUB2, transaction_id: notified[1].transaction_id, out_refund_no: no('R'), amount: { refund: 300, total: 3300, currency: 'CNY' } });
    sim.completeRefund(refund.out_refund_no);
    expect((await refunds.queryByOutRefundNo({ out_refund_no: refund.out_refund_no, sub_mchid: SUB2 })).status).toBe('SUCCESS');
    expect((await combine.query({ combine_out_trade_no: nativeNo })).sub_orders.map((s) => s.trade_state)).toEqual(['SUCCESS', 'REFUND', 'SUCCESS']);

    const bills = app.get(WechatPayBillsService);
    const { rows } = await parseTradeBill(await bills.download(await bills.applyTradeBill({ bill_date: YESTERDAY }))).collect();
    const subOrders = [...nativeSubs, ...jsapiSubs];
    const payments = rows.filter((r) => r.trade_state === 'SUCCESS' && subOrders.some((s) => s.out_trade_no === r.out_trade_no));
    expect(payments.map((r) => [r.out_trade_no, r.sub_mchid, r.order_amount.value]).sort()).toEqual(subOrders.map((s) => [s.out_trade_no, s.sub_mchid, s.amount.total_amount]).sort());
  });

  it('a single-order route never gets a cart, and the combine route never gets a single order (400, handler not called)', async () => {
    const subs = cart();
    const misrouted = no('CM');
    remember(misrouted, subs);
    await combine.nativePrepay({ combine_out_trade_no: misrouted, sub_orders: subs, notify_url: `${SHOP}/pay` });
    await sim.payCombine(misrouted);
    const single = no('T');
    await app.get(WechatPayOrdersService).nativePrepay({ sub_mchid: SUB, out_trade_no: single, description: '单独', amount: { total: 100 }, notify_url: `${SHOP}/combine` });
    await sim.pay(single, { sub_mchid: SUB });
    await sim.notifications.flush();
    const last = sim.deliveries.slice(-2);
    expect(last.map((d) => [new URL(d.url).pathname, d.status])).toEqual([
      ['/wechatpay/pay', 400],
      ['/wechatpay/combine', 400],
    ]);
    expect(shop.paidCarts).toHaveLength(0);
    expect(shop.payments).toHaveLength(0);
    const n = sim.signedNotification('TRANSACTION.SUCCESS', await combine.query({ combine_out_trade_no: misrouted }));
    const res = await request(app.getHttpServer()).post('/wechatpay/pay').set(n.headers).send(n.body);
    expect([res.status, res.body]).toEqual([400, { code: 'FAIL', message: NOTIFICATION_FAILURES.RESOURCE_KIND_NOT_ALLOWED.message }]);
  });

  it('a verified notification that differs from the local cart is refused with ORDER_MISMATCH, naming fields only', async () => {
    const subs = cart();
    const cartNo = no('CF');
    remember(cartNo, subs);
    await combine.nativePrepay({ combine_out_trade_no: cartNo, sub_orders: subs, notify_url: `${SHOP}/combine` });
    const resource = await combine.query({ combine_out_trade_no: cartNo });
    const paidLike = {
      ...resource,
      sub_orders: resource.sub_orders.map((s, i) => ({ ...s, trade_state: 'SUCCESS', transaction_id: `4200000000${i}`, amount: { ...s.amount, total_amount: i === 2 ? 1 : s.amount.total_amount } })),
    };
    const n = sim.signedNotification('TRANSACTION.SUCCESS', paidLike);
    const res = await request(app.getHttpServer()).post('/wechatpay/combine').set(n.headers).send(n.body);
    expect([res.status, res.body]).toEqual([400, { code: 'FAIL', message: NOTIFICATION_FAILURES.ORDER_MISMATCH.message }]);
    expect(shop.paidCarts).toHaveLength(0);
    expect(() => assertNotificationMatchesCart(paidLike, shop.carts.get(cartNo)!)).toThrow('sub_orders[2].amount.total_amount');
    expect(() => assertNotificationMatchesCart({ ...paidLike, sub_orders: paidLike.sub_orders.slice(0, 2) }, shop.carts.get(cartNo)!)).toThrow('sub_orders[2], sub_orders.length');
    // A notification without a transaction_id on a sub-order is no paid cart: INVALID_RESOURCE before the handler.
    const unpaid = sim.signedNotification('TRANSACTION.SUCCESS', resource);
    const res2 = await request(app.getHttpServer()).post('/wechatpay/combine').set(unpaid.headers).send(unpaid.body);
    expect([res2.status, res2.body]).toEqual([400, { code: 'FAIL', message: NOTIFICATION_FAILURES.INVALID_RESOURCE.message }]);
  });
});
