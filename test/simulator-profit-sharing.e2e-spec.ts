/**
 * The simulator's profit-sharing book over raw HTTP (signed with the core, no module): product gating both ways
 * with WeChat's messages, PARAM_ERROR details, re-entry of returns, the tooling routes, the state file round trip;
 * and, through the module, the wrong-product answer mapped to a reason that points at the `product` option.
 */
import { Test } from '@nestjs/testing';
import { WechatPartnerPayModule, WechatPayOrdersService, WechatPayProfitSharingError, WechatPayProfitSharingService } from 'nestjs-wechat-partner-pay';
import { SIMULATOR_DEFAULT_IDS, WechatPaySimulator } from 'nestjs-wechat-partner-pay/testing';
import { ECOMMERCE_PROFIT_SHARING_ENDPOINTS as E, PARTNER_PROFIT_SHARING_ENDPOINTS as P } from '../lib/profit-sharing/profit-sharing.endpoints';
import { signedCall } from './helpers/sim-http';

const SUB = '1900000109';
const SP = SIMULATOR_DEFAULT_IDS.spMchid;
let seq = 0;
const no = (prefix: string): string => `${prefix}${Date.now()}${String(++seq).padStart(3, '0')}`;

describe('simulator profit-sharing book', () => {
  const sims: WechatPaySimulator[] = [];
  afterAll(async () => {
    for (const s of sims) await s.close();
  });
  const start = async (product: 'ecommerce' | 'partner', extra: Parameters<typeof WechatPaySimulator.start>[0] = {}): Promise<WechatPaySimulator> => {
    const sim = await WechatPaySimulator.start({ product, ...extra });
    sims.push(sim);
    return sim;
  };

  it('each family refuses the other product with WeChat’s message', async () => {
    const ecommerce = await start('ecommerce');
    const partner = await start('partner');
    const body = { appid: SIMULATOR_DEFAULT_IDS.spAppid, type: 'MERCHANT_ID', account: SP, name: '平台', relation_type: 'PLATFORM' };
    const toPartner = await signedCall(partner, 'POST', E.addReceiver.path, { body });
    expect([toPartner.status, toPartner.json.code]).toEqual([403, 'NO_AUTH']);
    expect(toPartner.json.message).toContain('非电商商户暂不支持调用此API');
    const toEcommerce = await signedCall(ecommerce, 'POST', P.addReceiver.path, { body: { ...body, sub_mchid: SUB } });
    expect([toEcommerce.status, toEcommerce.json.code]).toEqual([403, 'NO_AUTH']);
    expect(toEcommerce.json.message).toContain('电商商户不允许调用非电商分账API');
  });

  it('through the module, the wrong product is reason WRONG_PRODUCT, and the message points at the product option', async () => {
    const sim = await start('ecommerce');
    const ref = await Test.createTestingModule({ imports: [WechatPartnerPayModule.forRoot(sim.moduleOptions({ product: 'partner' }))] }).compile();
    const app = ref.createNestApplication({ logger: false });
    await app.init();
    try {
      const err = await app
        .get(WechatPayProfitSharingService)
        .queryAmounts({ transaction_id: '4200000000000000000000000001' })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WechatPayProfitSharingError);
      expect(err).toMatchObject({ reason: 'WRONG_PRODUCT', status: 403, retryLater: false });
      expect((err as Error).message).toContain('product option');
    } finally {
      await app.close();
    }
  });

  it('answers PARAM_ERROR with detail for a body WeChat would refuse (first problem wins)', async () => {
    const sim = await start('ecommerce');
    const base = { sub_mchid: SUB, transaction_id: '42', out_order_no: 'P1', finish: false, receivers: [{ type: 'MERCHANT_ID', receiver_account: SP, amount: 1, description: 'x' }] };
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ ...base, receivers: [] }, '/receivers'],
      [{ ...base, receivers: [{ ...base.receivers[0], amount: 0 }] }, '/receivers/0/amount'],
      [{ ...base, receivers: [{ ...base.receivers[0], description: '佣'.repeat(27) }] }, '/receivers/0/description'],
      [{ ...base, out_order_no: 'P 1' }, '/out_order_no'],
      [{ ...base, unfreeze_unsplit: true }, '/unfreeze_unsplit'],
    ];
    for (const [body, field] of cases) {
      const res = await signedCall(sim, 'POST', E.createOrder.path, { body });
      expect([res.status, (res.json.detail as { field: string }).field]).toEqual([400, field]);
    }
  });

  it('returns: re-entry with the same body answers the same return, another body is refused; tooling and state round trip', async () => {
    const sim = await start('ecommerce', { profitSharing: { failedSpelling: 'FAIL' } });
    const ref = await Test.createTestingModule({ imports: [WechatPartnerPayModule.forRoot(sim.moduleOptions())] }).compile();
    const app = ref.createNestApplication({ logger: false });
    await app.init();
    try {
      const ps = app.get(WechatPayProfitSharingService) as WechatPayProfitSharingService<'ecommerce'>;
      await ps.addReceiver({ type: 'MERCHANT_ID', account: SP, name: '平台', relation_type: 'PLATFORM' });
      // Adding it again is success ("重复绑定返回成功").
      expect(await ps.addReceiver({ type: 'MERCHANT_ID', account: SP, name: '平台', relation_type: 'PLATFORM' })).toEqual({ type: 'MERCHANT_ID', account: SP });
      const out = no('T');
      await app.get(WechatPayOrdersService).nativePrepay({ sub_mchid: SUB, description: '分账', out_trade_no: out, amount: { total: 1_000 }, notify_url: 'https://shop.example.com/n', settle_info: { profit_sharing: true } });
      const tid = (await sim.pay(out, { sub_mchid: SUB })).transactionId!;
      const settled = await fetch(`${sim.baseUrl}/__sim/profit-sharing/settle`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ transaction_id: tid }) });
      expect(await settled.json()).toEqual({ transaction_id: tid, unsplit_amount: 994 });
      const split = await ps.createOrder({ sub_mchid: SUB, transaction_id: tid, out_order_no: no('P'), finish: false, receivers: [{ type: 'MERCHANT_ID', receiver_account: SP, amount: 100, description: '佣金' }] });
      const ret = { sub_mchid: SUB, order_id: split.order_id, out_return_no: no('R'), return_mchid: SP, amount: 10, description: '回退' };
      const first = await ps.createReturnOrder(ret);
      expect(await ps.createReturnOrder(ret)).toEqual(first);
      expect(await ps.createReturnOrder({ ...ret, amount: 11 }).catch((e: unknown) => e)).toMatchObject({ reason: 'REENTRY_MISMATCH' });
      expect(await ps.queryReturnOrder({ sub_mchid: SUB, out_return_no: ret.out_return_no, order_id: split.order_id })).toEqual(first);

      const balances = (await (await fetch(`${sim.baseUrl}/__sim/profit-sharing/balances`)).json()) as { balances: Array<Record<string, number | string>> };
      expect(balances.balances).toEqual([{ sub_mchid: SUB, frozen: 994 - 100, available: 10, split_out: 90 }]);

      const copy = await start('ecommerce');
      copy.importState(sim.exportState());
      expect(copy.profitSharing.balances()).toEqual(sim.profitSharing.balances());
      expect(copy.profitSharing.splits().map((s) => s.orderId)).toEqual([split.order_id]);
    } finally {
      await app.close();
    }
  });

  it('a return still PROCESSING after 5 days fails with TIME_OUT_CLOSED, spelled as configured', async () => {
    let offset = 0;
    const clock = (): number => Date.now() + offset;
    const sim = await start('partner', { clock, profitSharing: { returnResult: 'PROCESSING', failedSpelling: 'FAIL', settlementDelayMs: 0 } });
    const ref = await Test.createTestingModule({ imports: [WechatPartnerPayModule.forRoot(sim.moduleOptions({ clock }))] }).compile();
    const app = ref.createNestApplication({ logger: false });
    await app.init();
    try {
      const ps = app.get(WechatPayProfitSharingService) as WechatPayProfitSharingService<'partner'>;
      await ps.addReceiver({ sub_mchid: SUB, type: 'MERCHANT_ID', account: SP, name: '平台', relation_type: 'SERVICE_PROVIDER' });
      const out = no('T');
      await app.get(WechatPayOrdersService).nativePrepay({ sub_mchid: SUB, description: '分账', out_trade_no: out, amount: { total: 1_000 }, notify_url: 'https://shop.example.com/n', settle_info: { profit_sharing: true } });
      const tid = (await sim.pay(out, { sub_mchid: SUB })).transactionId!;
      const outOrderNo = no('P');
      await ps.createOrder({ sub_mchid: SUB, transaction_id: tid, out_order_no: outOrderNo, unfreeze_unsplit: false, receivers: [{ type: 'MERCHANT_ID', account: SP, amount: 100, description: '佣金' }] });
      const ret = await ps.createReturnOrder({ sub_mchid: SUB, out_order_no: outOrderNo, out_return_no: no('R'), return_mchid: SP, amount: 10, description: '回退' });
      expect(ret).toMatchObject({ result: 'PROCESSING', return_id: expect.any(String) });
      offset = 5 * 86_400_000 + 1_000;
      expect(await ps.queryReturnOrder({ sub_mchid: SUB, out_return_no: ret.out_return_no, out_order_no: outOrderNo })).toMatchObject({ result: 'FAIL', fail_reason: 'TIME_OUT_CLOSED' });
    } finally {
      await app.close();
    }
  });

  it('checks its options all at once', async () => {
    await expect(WechatPaySimulator.start({ profitSharing: { maxRatio: 2, settlementDelayMs: -1, receiverNotifyUrls: { [SP]: 'ftp://x' } } })).rejects.toThrow(
      /maxRatio[\s\S]*settlementDelayMs|settlementDelayMs[\s\S]*maxRatio/,
    );
  });
});
