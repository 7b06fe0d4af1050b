/**
 * Profit sharing (分账) end to end, per product (ecommerce spec §1): a real Nest app (Express and Fastify, rawBody)
 * with `product: 'ecommerce'` or `'partner'` against a simulator started as that product, over real HTTP with real
 * keys: pay with profit_sharing → a split before settlement refused as retry-later → settle → split 5 % to the
 * platform → query → remaining amount → finish → balances → return part → query the return; a second split after
 * finish and a split of an order without profit sharing refused; the platform's receiver notification handled once.
 */
import { createHash } from 'node:crypto';
import { Controller, type INestApplication, Injectable, Post } from '@nestjs/common';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import {
  NOTIFICATION_FAILURES,
  NotificationResource,
  ProfitSharingResource,
  WechatPartnerPayModule,
  WechatPayCombineOrdersService,
  WechatPayNotification,
  WechatPayOrdersService,
  WechatPayProfitSharingError,
  WechatPayProfitSharingService,
  WechatPayRefundsService,
  WechatPayValidationError,
} from 'nestjs-wechat-partner-pay';
import { buildSignedNotification, SIMULATOR_DEFAULT_IDS, WechatPaySimulator } from 'nestjs-wechat-partner-pay/testing';
import { createPrivateKey } from 'node:crypto';

const SUB = '1900000109';
const SP = SIMULATOR_DEFAULT_IDS.spMchid;
const SHOP = 'https://platform.example.com';
const MINUTE = 60_000;

let offset = 0;
const clock = (): number => Date.now() + offset;

@Injectable()
class Effects {
  readonly shares: ProfitSharingResource[] = [];
  payments = 0;
}

@Controller('wechatpay')
class NotifyController {
  constructor(private readonly effects: Effects) {}

  @Post('notify')
  @WechatPayNotification()
  paid(): void {
    this.effects.payments++;
  }

  @Post('combine')
  @WechatPayNotification({ resources: ['combine-transaction'] })
  combined(): void {}

  @Post('profit-sharing')
  @WechatPayNotification({ resources: ['profit-sharing'] })
  shared(@NotificationResource() r: ProfitSharingResource): void {
    this.effects.shares.push(r);
  }
}

let seq = 0;
const no = (prefix: string): string => `${prefix}${Date.now()}${String(++seq).padStart(3, '0')}`;

async function rejected(p: Promise<unknown>): Promise<WechatPayProfitSharingError> {
  try {
    await p;
  } catch (err) {
    return err as WechatPayProfitSharingError;
  }
  throw new Error('expected a rejection');
}

describe.each([
  ['ecommerce', 'express'],
  ['partner', 'fastify'],
  ['ecommerce', 'fastify'],
  ['partner', 'express'],
] as const)('profit sharing, product %s, on %s', (product, adapter) => {
  let sim: WechatPaySimulator;
  let app: INestApplication;
  let effects: Effects;
  let ps: WechatPayProfitSharingService;
  let orders: WechatPayOrdersService;
  const ecommerce = product === 'ecommerce';

  async function paidOrder(total: number, profitSharing = true): Promise<string> {
    const out = no('T');
    await orders.nativePrepay({ sub_mchid: SUB, description: '分账订单', out_trade_no: out, amount: { total }, notify_url: `${SHOP}/wechatpay/notify`, ...(profitSharing ? { settle_info: { profit_sharing: true } } : {}) });
    return (await sim.pay(out, { sub_mchid: SUB })).transactionId!;
  }

  /** A split of `amount` fen to the platform, in the family's field names. */
  function split(transactionId: string, amount: number, last = false, outOrderNo = no('P')): Parameters<WechatPayProfitSharingService['createOrder']>[0] {
    return ecommerce
      ? { sub_mchid: SUB, transaction_id: transactionId, out_order_no: outOrderNo, finish: last, receivers: [{ type: 'MERCHANT_ID', receiver_account: SP, amount, description: '平台佣金' }] }
      : { sub_mchid: SUB, transaction_id: transactionId, out_order_no: outOrderNo, unfreeze_unsplit: last, receivers: [{ type: 'MERCHANT_ID', account: SP, amount, description: '平台佣金', name: '平台全称' }] };
  }

  beforeAll(async () => {
    sim = await WechatPaySimulator.start({ clock, product, profitSharing: { receiverNotifyUrls: { [SP]: `${SHOP}/wechatpay/profit-sharing` } } });
    const ref = await Test.createTestingModule({
      imports: [WechatPartnerPayModule.forRoot(sim.moduleOptions({ clock, notifyUrl: `${SHOP}/wechatpay/notify` }))],
      controllers: [NotifyController],
      providers: [Effects],
    }).compile();
    app =
      adapter === 'express'
        ? ref.createNestApplication<NestExpressApplication>({ rawBody: true, logger: false })
        : ref.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { rawBody: true, logger: false });
    await app.listen(0, '127.0.0.1');
    sim.routeNotificationsTo(await app.getUrl());
    effects = app.get(Effects);
    ps = app.get(WechatPayProfitSharingService);
    orders = app.get(WechatPayOrdersService);
    await ps.addReceiver(ecommerce ? { type: 'MERCHANT_ID', account: SP, name: '平台全称', relation_type: 'PLATFORM' } : { sub_mchid: SUB, type: 'MERCHANT_ID', account: SP, name: '平台全称', relation_type: 'SERVICE_PROVIDER' });
  });

  afterEach(() => void (offset = 0));

  afterAll(async () => {
    await app?.close();
    await sim?.close();
  });

  it('pay → refused before settlement (retry later) → settle → split 5 % → query → remaining → finish → balances → return → query return', async () => {
    const tid = await paidOrder(10_000);
    const base = 10_000 - 60; // the simulator's fee of 0.6 %
    const first = split(tid, 500);
    const early = await rejected(ps.createOrder(first));
    expect(early).toBeInstanceOf(WechatPayProfitSharingError);
    expect(early).toMatchObject({ reason: 'ORDER_PROCESSING', retryLater: true });
    expect(await ps.queryAmounts({ transaction_id: tid })).toEqual({ transaction_id: tid, unsplit_amount: base });

    sim.profitSharing.settle(tid);
    const created = await ps.createOrder(first);
    const status = ecommerce ? 'status' : 'state';
    expect(created).toMatchObject({ sub_mchid: SUB, transaction_id: tid, out_order_no: first.out_order_no, [status]: 'PROCESSING' });
    // Re-entry with the same number and body answers the same split; another body is refused.
    expect((await ps.createOrder(first)).order_id).toBe(created.order_id);
    expect(await rejected(ps.createOrder({ ...first, receivers: [{ ...first.receivers[0], amount: 501 }] } as typeof first))).toMatchObject({ reason: 'REENTRY_MISMATCH' });

    const queried = await ps.queryOrder({ sub_mchid: SUB, transaction_id: tid, out_order_no: first.out_order_no });
    expect(queried).toMatchObject({ order_id: created.order_id, [status]: 'FINISHED' });
    expect(queried.receivers).toEqual([
      expect.objectContaining({ type: 'MERCHANT_ID', [ecommerce ? 'receiver_account' : 'account']: SP, amount: 500, result: 'SUCCESS', description: '平台佣金', detail_id: expect.any(String) }),
    ]);
    expect(await ps.queryAmounts({ transaction_id: tid })).toEqual({ transaction_id: tid, unsplit_amount: base - 500 });
    expect(sim.profitSharing.balances().find((b) => b.sub_mchid === SUB)).toMatchObject({ frozen: expect.any(Number) });
    const before = sim.profitSharing.balances().find((b) => b.sub_mchid === SUB)!;

    const finishNo = no('F');
    const finished = await ps.finishOrder({ sub_mchid: SUB, transaction_id: tid, out_order_no: finishNo, description: '解冻剩余资金' });
    expect(finished).toMatchObject({ sub_mchid: SUB, transaction_id: tid, out_order_no: finishNo });
    if (ecommerce) expect(await ps.queryOrder({ sub_mchid: SUB, transaction_id: tid, out_order_no: finishNo })).toMatchObject({ status: 'FINISHED', finish_amount: base - 500, finish_description: '解冻剩余资金' });
    expect(await ps.queryAmounts({ transaction_id: tid })).toEqual({ transaction_id: tid, unsplit_amount: 0 });
    const after = sim.profitSharing.balances().find((b) => b.sub_mchid === SUB)!;
    expect(after.frozen).toBe(before.frozen - (base - 500));
    expect(after.available).toBe(before.available + (base - 500));

    const again = await rejected(ps.createOrder(split(tid, 100)));
    expect(again).toMatchObject({ reason: 'ALREADY_FINISHED', retryLater: false });

    const returnNo = no('R');
    const ret = await ps.createReturnOrder({ sub_mchid: SUB, out_order_no: first.out_order_no, out_return_no: returnNo, return_mchid: SP, amount: 200, description: '退货退佣' });
    expect(ret).toMatchObject({ sub_mchid: SUB, order_id: created.order_id, out_return_no: returnNo, return_mchid: SP, amount: 200, result: 'SUCCESS' });
    expect(await ps.queryReturnOrder({ sub_mchid: SUB, out_return_no: returnNo, out_order_no: first.out_order_no })).toEqual(ret);
    expect(sim.profitSharing.balances().find((b) => b.sub_mchid === SUB)!.available).toBe(after.available + 200);
    const over = await rejected(ps.createReturnOrder({ sub_mchid: SUB, out_order_no: first.out_order_no, out_return_no: no('R'), return_mchid: SP, amount: 301, description: '超额' }));
    expect(over.status).toBe(400);

    // The platform, a MERCHANT_ID receiver, is notified of the split and of the return at its own URL; redelivered, handled once.
    await sim.notifications.flush();
    for (const d of new Set(sim.deliveries.filter((x) => x.url.endsWith('/wechatpay/profit-sharing')).map((x) => x.notificationId))) sim.redeliver(d);
    await sim.notifications.flush();
    const mine = effects.shares.filter((s) => s.transaction_id === tid);
    expect(mine).toHaveLength(2);
    expect(mine[0]).toBeInstanceOf(ProfitSharingResource);
    expect(mine[0]).toMatchObject({ sub_mchid: SUB, order_id: created.order_id, out_order_no: first.out_order_no, receiver: { type: 'MERCHANT_ID', account: SP, amount: 500 } });
    expect(mine[1]).toMatchObject({ out_order_no: returnNo, receiver: { account: SUB, amount: 200 } });
  });

  it('finish: true / unfreeze_unsplit: true ends the order; a non-profit-sharing order and unknown receivers are refused', async () => {
    const tid = await paidOrder(2_000);
    sim.profitSharing.settle(tid);
    await ps.createOrder(split(tid, 100, true));
    expect(await ps.queryAmounts({ transaction_id: tid })).toEqual({ transaction_id: tid, unsplit_amount: 0 });
    expect(await rejected(ps.createOrder(split(tid, 100)))).toMatchObject({ reason: 'ALREADY_FINISHED' });

    const plain = await paidOrder(2_000, false);
    const refused = await rejected(ps.createOrder(split(plain, 100)));
    expect(refused).toMatchObject({ reason: 'NOT_PROFIT_SHARING_ORDER' });
    expect(refused.message).toContain('settle_info.profit_sharing: true');

    const t2 = await paidOrder(2_000);
    offset = 2 * MINUTE; // settled by the passing of time
    const stranger = ecommerce
      ? { sub_mchid: SUB, transaction_id: t2, out_order_no: no('P'), finish: false, receivers: [{ type: 'MERCHANT_ID', receiver_account: '1900000199', amount: 10, description: 'x' }] }
      : { sub_mchid: SUB, transaction_id: t2, out_order_no: no('P'), unfreeze_unsplit: false, receivers: [{ type: 'MERCHANT_ID', account: '1900000199', amount: 10, description: 'x' }] };
    expect(await rejected(ps.createOrder(stranger))).toMatchObject({ reason: 'RECEIVER_NOT_FOUND' });
    // The max ratio (30 % of the amount after fees by default).
    expect(await rejected(ps.createOrder(split(t2, 700)))).toMatchObject({ reason: 'RATIO_EXCEEDED' });
  });

  it('refunds of an unsplit order reduce what can be split; after a full refund nothing can be split', async () => {
    const tid = await paidOrder(1_000);
    sim.profitSharing.settle(tid);
    const refunds = sim.listRefunds().length;
    const r = app.get(WechatPayRefundsService);
    const refund = (amount: number) =>
      r.create(ecommerce ? { sub_mchid: SUB, transaction_id: tid, out_refund_no: no('RF'), amount: { refund: amount, total: 1_000 } } : { sub_mchid: SUB, transaction_id: tid, out_refund_no: no('RF'), amount: { refund: amount, total: 1_000, currency: 'CNY' } });
    await refund(400);
    expect(sim.listRefunds().length).toBe(refunds + 1);
    expect(await ps.queryAmounts({ transaction_id: tid })).toEqual({ transaction_id: tid, unsplit_amount: 1_000 - 6 - 400 });
    await refund(600);
    expect(await ps.queryAmounts({ transaction_id: tid })).toEqual({ transaction_id: tid, unsplit_amount: 0 });
    expect(await rejected(ps.createOrder(split(tid, 1)))).toMatchObject({ reason: 'INSUFFICIENT_AMOUNT' });
  });

  it('a failed receiver line is CLOSED with its fail_reason and its money stays unsplit', async () => {
    const tid = await paidOrder(1_000);
    sim.profitSharing.settle(tid);
    sim.profitSharing.failReceiver(SP, 'RECEIVER_HIGH_RISK');
    const s = split(tid, 50);
    await ps.createOrder(s);
    const q = await ps.queryOrder({ sub_mchid: SUB, transaction_id: tid, out_order_no: s.out_order_no });
    expect(q.receivers?.[0]).toMatchObject({ result: 'CLOSED', fail_reason: 'RECEIVER_HIGH_RISK' });
    expect(await ps.queryAmounts({ transaction_id: tid })).toEqual({ transaction_id: tid, unsplit_amount: 994 });
  });

  it('the unsplit rest unfreezes by itself after the freeze period on the simulator clock', async () => {
    const tid = await paidOrder(1_000);
    offset = (ecommerce ? 180 : 30) * 86_400_000 + MINUTE;
    expect(await ps.queryAmounts({ transaction_id: tid })).toEqual({ transaction_id: tid, unsplit_amount: 0 });
    expect(await rejected(ps.createOrder(split(tid, 10)))).toMatchObject({ reason: 'ALREADY_FINISHED' });
  });

  it('validates before sending: receivers 1-50, whole fen ≥ 1, 80-byte descriptions, the out_order_no charset', async () => {
    const before = sim.requests.length;
    const s = split('4200000000000000000000000001', 10);
    const bad = async (patch: Record<string, unknown>): Promise<WechatPayValidationError> => (await rejected(ps.createOrder({ ...s, ...patch } as typeof s))) as unknown as WechatPayValidationError;
    expect(await bad({ receivers: [] })).toBeInstanceOf(WechatPayValidationError);
    expect(await bad({ receivers: Array.from({ length: 51 }, () => s.receivers[0]) })).toBeInstanceOf(WechatPayValidationError);
    expect(await bad({ receivers: [{ ...s.receivers[0], amount: 1.5 }] })).toBeInstanceOf(WechatPayValidationError);
    expect(await bad({ receivers: [{ ...s.receivers[0], amount: 0 }] })).toBeInstanceOf(WechatPayValidationError);
    expect((await bad({ receivers: [{ ...s.receivers[0], description: '佣'.repeat(27) }] })).message).toContain('UTF-8 bytes');
    expect(await bad({ out_order_no: 'P 1' })).toBeInstanceOf(WechatPayValidationError);
    if (ecommerce) {
      const err = await bad({ finish: true, receivers: [{ type: 'MERCHANT_ID', receiver_account: SUB, amount: 1, description: 'x' }] });
      expect(err.message).toContain('finish is true');
    }
    expect(sim.requests.length).toBe(before);
  });

  it.each(['publicKey', 'platformCertificate'] as const)('names are RSA-OAEP encrypted for the key of the %s mode and decrypted by the simulator', async (mode) => {
    const ref = await Test.createTestingModule({
      imports: [WechatPartnerPayModule.forRoot(sim.moduleOptions({ clock, ...(mode === 'platformCertificate' ? { verification: { mode } } : {}) }))],
    }).compile();
    const mod = ref.createNestApplication({ logger: false });
    await mod.init();
    try {
      const client = mod.get(WechatPayProfitSharingService);
      const openid = 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o';
      const name = '张三';
      await client.addReceiver(ecommerce ? { type: 'PERSONAL_OPENID', account: openid, name, relation_type: 'OTHERS' } : { sub_mchid: SUB, type: 'PERSONAL_OPENID', account: openid, name, relation_type: 'USER' });
      const tid = await paidOrder(1_000);
      sim.profitSharing.settle(tid);
      const line = (n: string) => (ecommerce ? { type: 'PERSONAL_OPENID', receiver_account: openid, amount: 10, description: '分给个人', receiver_name: n } : { type: 'PERSONAL_OPENID', account: openid, amount: 10, description: '分给个人', name: n });
      const req = (n: string) => ({ sub_mchid: SUB, transaction_id: tid, out_order_no: no('P'), ...(ecommerce ? { finish: false } : { unfreeze_unsplit: false }), receivers: [line(n)] }) as Parameters<WechatPayProfitSharingService['createOrder']>[0];
      const ok = req(name);
      await client.createOrder(ok);
      const stored = sim.profitSharing.splits().find((x) => x.outOrderNo === ok.out_order_no)!;
      // Decrypted and checked, but kept only as a digest: no real name in the simulator's state or its state file.
      expect(stored.lines[0].nameSha256).toBe(createHash('sha256').update(name, 'utf8').digest('hex'));
      expect(JSON.stringify(sim.exportState())).not.toContain(name);
      const expected = mode === 'publicKey' ? sim.credentials.publicKeyId : sim.credentials.platformCertificates.at(-1)!.serialNo;
      expect(stored.serial).toBe(expected);
      expect(JSON.stringify(stored.request)).not.toContain(name);
      expect(await rejected(client.createOrder(req('李四')))).toMatchObject({ reason: 'NAME_MISMATCH' });
    } finally {
      await mod.close();
    }
  });

  if (ecommerce) it('splits the commission of one combine sub-order by its own transaction_id', async () => {
    const combine = app.get(WechatPayCombineOrdersService);
    const subs = [
      { sub_mchid: SUB, out_trade_no: no('S'), description: '合单-分账', attach: 'line-1', amount: { total_amount: 3_000 }, settle_info: { profit_sharing: true } },
      { sub_mchid: SUB, out_trade_no: no('S'), description: '合单-不分账', attach: 'line-2', amount: { total_amount: 1_000 } },
    ];
    const combineOutTradeNo = no('C');
    await combine.nativePrepay({ combine_out_trade_no: combineOutTradeNo, sub_orders: subs, notify_url: `${SHOP}/wechatpay/combine`, scene_info: { payer_client_ip: '14.23.150.211' } });
    const cart = await sim.payCombine(combineOutTradeNo);
    const [shared, plain] = subs.map((sub) => cart.subOrders.find((o) => o.outTradeNo === sub.out_trade_no)!.transactionId!);
    sim.profitSharing.settle(shared);
    const s = split(shared, 150);
    await ps.createOrder(s);
    expect(await ps.queryAmounts({ transaction_id: shared })).toEqual({ transaction_id: shared, unsplit_amount: 3_000 - 18 - 150 });
    expect((await ps.queryOrder({ sub_mchid: SUB, transaction_id: shared, out_order_no: s.out_order_no })).receivers?.[0]).toMatchObject({ amount: 150, result: 'SUCCESS' });
    expect(await rejected(ps.createOrder(split(plain, 10)))).toMatchObject({ reason: 'NOT_PROFIT_SHARING_ORDER' });
  });

  it('a payment route is never handed a profit-sharing notification (400, handler not called)', async () => {
    await sim.notifications.flush();
    const payments = effects.payments;
    const resource = { sp_mchid: SP, sub_mchid: SUB, transaction_id: '4200000000000000000000000002', order_id: '3008000000000000000000000001', out_order_no: 'P1', receiver: { type: 'MERCHANT_ID', account: SP, amount: 1, description: 'x' }, success_time: '2026-12-01T10:00:00+08:00' };
    const shares = effects.shares.length;
    // As WeChat documents it, and as users see it (TRANSACTION.SUCCESS, no or another original_type).
    for (const [eventType, originalType] of [['PROFITSHARING.SUCCESS', 'profitsharing'], ['TRANSACTION.SUCCESS', undefined], ['TRANSACTION.SUCCESS', 'transaction']] as const) {
      const n = buildSignedNotification({ eventType, resource, originalType, apiV3Key: sim.credentials.apiV3Key, signingKey: createPrivateKey(sim.credentials.publicKeyPrivateKeyPem), serial: sim.credentials.publicKeyId });
      const res = await request(app.getHttpServer()).post('/wechatpay/notify').set(n.headers).send(n.body);
      expect([res.status, res.body]).toEqual([400, { code: 'FAIL', message: NOTIFICATION_FAILURES.RESOURCE_KIND_NOT_ALLOWED.message }]);
      const ok = await request(app.getHttpServer()).post('/wechatpay/profit-sharing').set(n.headers).send(n.body);
      expect(ok.status).toBeLessThan(300);
    }
    // The key holds the event (§1.12): the two TRANSACTION.SUCCESS deliveries are one event, handled once.
    expect(effects.shares.length).toBe(shares + 2);
    expect(effects.payments).toBe(payments);
  });
});
