/**
 * The `product` option (ecommerce spec §0.2, §2.1): required at boot; it selects the refund family, and a call of the
 * other family is refused: by the client before any request (ecommerce-only methods under 'partner'), and by the
 * simulator with WeChat's messages when the module's product does not match the provider's. Also the ecommerce
 * abnormal refund, the 50-refund limit, the advance permission and `settle_info.subsidy_amount`.
 */
import { Test } from '@nestjs/testing';
import {
  WechatPartnerPayModule,
  WechatPayApiError,
  WechatPayConfigError,
  WechatPayOrdersService,
  WechatPayProductMismatchError,
  WechatPayRefundsService,
  WechatPayValidationError,
} from 'nestjs-wechat-partner-pay';
import type { SimulatorOptions, WechatPaySimulator } from 'nestjs-wechat-partner-pay/testing';
import { type SimApp, startSimApp } from './helpers/sim-app';
import { staticOptions } from './helpers/static-options';

const SUB = '1900000109';
let seq = 0;
const id = (prefix: string): string => `${prefix}${Date.now()}${String(++seq).padStart(3, '0')}`;

const apps: SimApp[] = [];
async function start(product: 'ecommerce' | 'partner', simOptions: SimulatorOptions = {}): Promise<SimApp> {
  const app = await startSimApp({ product }, { notificationMode: 'once', ...simOptions });
  apps.push(app);
  return app;
}
afterAll(() => Promise.all(apps.map((a) => a.close())));

async function paid(app: SimApp, total = 100): Promise<{ outTradeNo: string; sim: WechatPaySimulator }> {
  const outTradeNo = id('T');
  await app.ref.get(WechatPayOrdersService).nativePrepay({ sub_mchid: SUB, description: '产品', out_trade_no: outTradeNo, amount: { total } });
  await app.sim.pay(outTradeNo, { sub_mchid: SUB });
  return { outTradeNo, sim: app.sim };
}

describe('product option', () => {
  it('is required at boot, with one line that says which value to choose', async () => {
    const err = await Test.createTestingModule({ imports: [WechatPartnerPayModule.forRoot(staticOptions({ product: undefined }))] })
      .compile()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WechatPayConfigError);
    const problems = (err as WechatPayConfigError).problems;
    expect(problems).toEqual([expect.stringMatching(/^product is required: 'ecommerce' for an 电商平台 \/ 平台收付通 platform, 'partner' for an ordinary 普通服务商/)]);
    expect(problems[0]).not.toContain('\n');
    const wrong = await Test.createTestingModule({ imports: [WechatPartnerPayModule.forRoot(staticOptions({ product: 'shop' as never }))] })
      .compile()
      .catch((e: unknown) => e);
    expect((wrong as WechatPayConfigError).problems).toEqual([expect.stringMatching(/^product is required: .*got "shop"/)]);
  });

  it("moduleOptions() follows the simulator's product (partner by default)", async () => {
    const partner = await start('partner');
    expect(partner.sim.moduleOptions().product).toBe('partner');
    const ecommerce = await start('ecommerce', { product: 'ecommerce' });
    expect(ecommerce.sim.moduleOptions().product).toBe('ecommerce');
  });
});

describe('family gating', () => {
  it("refuses ecommerce-only refund calls under 'partner' before any request", async () => {
    const app = await start('partner');
    const refunds = app.ref.get(WechatPayRefundsService);
    const before = app.sim.requests.length;
    for (const call of [
      () => refunds.queryByRefundId({ refund_id: '50300000000000000000000000000', sub_mchid: SUB }),
      () => refunds.returnAdvance({ refund_id: '50300000000000000000000000000', sub_mchid: SUB }),
      () => refunds.queryReturnAdvance({ refund_id: '50300000000000000000000000000', sub_mchid: SUB }),
    ]) {
      const err = await call().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WechatPayProductMismatchError);
      expect(err).toMatchObject({ requiredProduct: 'ecommerce', configuredProduct: 'partner', message: expect.stringMatching(/set product: 'ecommerce'/) });
    }
    expect(app.sim.requests.length).toBe(before);
  });

  it('a partner-family refund of an ecommerce platform is refused by the simulator (configurable: UNVERIFIED at WeChat)', async () => {
    const app = await startSimApp({ product: 'partner' }, { product: 'ecommerce', notificationMode: 'once' });
    apps.push(app);
    const { outTradeNo } = await paid(app);
    const err = await app.ref
      .get(WechatPayRefundsService)
      .create({ sub_mchid: SUB, out_trade_no: outTradeNo, out_refund_no: id('R'), amount: { refund: 100, total: 100, currency: 'CNY' } })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WechatPayApiError);
    expect(err).toMatchObject({ status: 403, code: 'NO_AUTH', wechatMessage: expect.stringMatching(/^电商商户不允许调用非电商退款API/) });

    const lenient = await startSimApp({ product: 'partner' }, { product: 'ecommerce', notificationMode: 'once', ecommerce: { domesticRefunds: 'allow' } });
    apps.push(lenient);
    const order = await paid(lenient);
    await expect(
      lenient.ref.get(WechatPayRefundsService).create({ sub_mchid: SUB, out_trade_no: order.outTradeNo, out_refund_no: id('R'), amount: { refund: 100, total: 100, currency: 'CNY' } }),
    ).resolves.toMatchObject({ status: 'PROCESSING' });
  });

  it('an ecommerce refund of an ordinary provider is refused with "非电商商户暂不支持调用此API"', async () => {
    const app = await startSimApp({ product: 'ecommerce' }, { notificationMode: 'once' });
    apps.push(app);
    const { outTradeNo } = await paid(app);
    const refunds = app.ref.get(WechatPayRefundsService);
    await expect(refunds.create({ sub_mchid: SUB, out_trade_no: outTradeNo, out_refund_no: id('R'), amount: { refund: 100, total: 100 } })).rejects.toMatchObject({
      status: 403,
      code: 'NO_AUTH',
      wechatMessage: expect.stringMatching(/^非电商商户暂不支持调用此API/),
    });
    await expect(refunds.queryByRefundId({ refund_id: '50300000000000000000000000000', sub_mchid: SUB })).rejects.toMatchObject({ status: 403, code: 'NO_AUTH' });
  });
});

describe('ecommerce refund rules in the simulator', () => {
  it('refuses an advance refund without the permission, and a refund beyond the per-order limit', async () => {
    const app = await start('ecommerce', { product: 'ecommerce', refundMode: 'manual', ecommerce: { maxRefundsPerOrder: 2 } });
    const refunds = app.ref.get(WechatPayRefundsService);
    const { outTradeNo } = await paid(app, 300);
    await expect(
      refunds.create({ sub_mchid: SUB, out_trade_no: outTradeNo, out_refund_no: id('R'), amount: { refund: 100, total: 300 }, refund_account: 'REFUND_SOURCE_PARTNER_ADVANCE' }),
    ).rejects.toMatchObject({ status: 403, code: 'NO_AUTH', wechatMessage: expect.stringMatching(/^无垫付退款权限/) });
    await refunds.create({ sub_mchid: SUB, out_trade_no: outTradeNo, out_refund_no: id('R'), amount: { refund: 100, total: 300 } });
    await refunds.create({ sub_mchid: SUB, out_trade_no: outTradeNo, out_refund_no: id('R'), amount: { refund: 100, total: 300 } });
    await expect(refunds.create({ sub_mchid: SUB, out_trade_no: outTradeNo, out_refund_no: id('R'), amount: { refund: 100, total: 300 } })).rejects.toMatchObject({
      status: 400,
      code: 'INVALID_REQUEST',
    });
    // The sum stays at most the paid amount.
    const other = await paid(app, 100);
    await refunds.create({ sub_mchid: SUB, out_trade_no: other.outTradeNo, out_refund_no: id('R'), amount: { refund: 60, total: 100 } });
    await expect(refunds.create({ sub_mchid: SUB, out_trade_no: other.outTradeNo, out_refund_no: id('R'), amount: { refund: 41, total: 100 } })).rejects.toBeInstanceOf(WechatPayApiError);
  });

  it.each<['FAILED' | 'PROCESSING']>([['FAILED'], ['PROCESSING']])('return-advance answered %s (configurable), then done', async (result) => {
    const app = await start('ecommerce', { product: 'ecommerce', refundMode: 'manual', ecommerce: { advanceRefundPermission: true, returnAdvanceResult: result } });
    const refunds = app.ref.get(WechatPayRefundsService);
    const { outTradeNo } = await paid(app);
    const created = await refunds.create({ sub_mchid: SUB, out_trade_no: outTradeNo, out_refund_no: id('R'), amount: { refund: 100, total: 100 }, refund_account: 'REFUND_SOURCE_PARTNER_ADVANCE' });
    app.sim.completeRefund(created.out_refund_no, { sub_mchid: SUB });
    const q = { refund_id: created.refund_id, sub_mchid: SUB };
    const first = await refunds.returnAdvance(q);
    expect(first).toMatchObject({ result, return_amount: 100 });
    expect(first.success_time).toBeUndefined();
    if (result === 'PROCESSING') {
      app.sim.completeReturnAdvance(created.refund_id, 'SUCCESS');
      expect(await refunds.queryReturnAdvance(q)).toMatchObject({ result: 'SUCCESS', advance_return_id: first.advance_return_id, success_time: expect.any(String) });
    } else {
      // A FAILED return (the 二级商户's balance was short) may be requested again: a new attempt.
      const again = await refunds.returnAdvance(q);
      expect(again.result).toBe('FAILED');
      expect(again.advance_return_id).not.toBe(first.advance_return_id);
    }
  });

  it('applies again for an ABNORMAL ecommerce refund with encrypted bank details', async () => {
    const app = await start('ecommerce', { product: 'ecommerce', refundMode: 'manual' });
    const refunds = app.ref.get(WechatPayRefundsService) as WechatPayRefundsService<'ecommerce'>;
    const { outTradeNo } = await paid(app);
    const created = await refunds.create({ sub_mchid: SUB, out_trade_no: outTradeNo, out_refund_no: id('R'), amount: { refund: 100, total: 100 } });
    app.sim.completeRefund(created.out_refund_no, { sub_mchid: SUB, status: 'ABNORMAL' });
    const applied = await refunds.applyAbnormalRefund({
      refund_id: created.refund_id,
      sub_mchid: SUB,
      out_refund_no: created.out_refund_no,
      type: 'USER_BANK_CARD',
      bank_type: 'ICBC_DEBIT',
      bank_account: '6222020202020202',
      real_name: '张三',
    });
    expect(applied).toMatchObject({ refund_id: created.refund_id, status: 'PROCESSING', channel: 'OTHER_BANKCARD', refund_account: 'REFUND_SOURCE_SUB_MERCHANT' });
    expect(app.sim.requests.at(-1)?.path).toBe(`/v3/ecommerce/refunds/${created.refund_id}/apply-abnormal-refund`);
    expect(app.sim.getRefund(created.out_refund_no, SUB)?.abnormalRefund).toMatchObject({ bankAccount: '6222020202020202', realName: '张三', serial: app.sim.credentials.publicKeyId });
  });
});

describe('settle_info', () => {
  it('takes subsidy_amount with profit_sharing on every scene; refuses it without, or above 500000 fen', async () => {
    const app = await start('ecommerce', { product: 'ecommerce' });
    const orders = app.ref.get(WechatPayOrdersService);
    const base = { sub_mchid: SUB, description: '补差', amount: { total: 100 } };
    const settle_info = { profit_sharing: true, subsidy_amount: 500_000 };
    await orders.nativePrepay({ ...base, out_trade_no: id('T'), settle_info });
    await orders.appPrepay({ ...base, out_trade_no: id('T'), settle_info });
    await orders.jsapiPrepay({ ...base, out_trade_no: id('T'), settle_info, payer: { sp_openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' } });
    await orders.h5Prepay({ ...base, out_trade_no: id('T'), settle_info, scene_info: { payer_client_ip: '127.0.0.1', h5_info: { type: 'Wap' } } });
    expect(app.sim.listOrders().filter((o) => (o.request.settle_info as { subsidy_amount?: number } | undefined)?.subsidy_amount === 500_000)).toHaveLength(4);

    const before = app.sim.requests.length;
    for (const bad of [{ subsidy_amount: 100 }, { profit_sharing: false, subsidy_amount: 100 }, { profit_sharing: true, subsidy_amount: 500_001 }, { profit_sharing: true, subsidy_amount: 1.5 }]) {
      const err = await orders.nativePrepay({ ...base, out_trade_no: id('T'), settle_info: bad }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WechatPayValidationError);
      expect((err as WechatPayValidationError).problems).toEqual([expect.objectContaining({ field: 'settle_info.subsidy_amount' })]);
    }
    expect(app.sim.requests.length).toBe(before);
  });
});
