/**
 * 平台收付通 refunds and profit sharing together (the refund source): while a profit-sharing order is unsplit its
 * refund comes from the frozen (unavailable) balance; once the rest is unfrozen (finish), from the available one.
 */
import { Test, type TestingModule } from '@nestjs/testing';
import { WechatPartnerPayModule, WechatPayOrdersService, WechatPayProfitSharingService, WechatPayRefundsService } from 'nestjs-wechat-partner-pay';
import { WechatPaySimulator } from 'nestjs-wechat-partner-pay/testing';

const SUB = '1900000109';

describe('ecommerce refund source and profit sharing', () => {
  let sim: WechatPaySimulator;
  let ref: TestingModule;
  beforeAll(async () => {
    sim = await WechatPaySimulator.start({ product: 'ecommerce', refundMode: 'manual' });
    ref = await Test.createTestingModule({ imports: [WechatPartnerPayModule.forRoot(sim.moduleOptions({ notifyUrl: 'https://shop.example.com/notify' }))] }).compile();
  });
  afterAll(async () => {
    await ref?.close();
    await sim?.close();
  });

  it('reports funds_account UNAVAILABLE before the finish and AVAILABLE after it', async () => {
    const out_trade_no = `FRZ${Date.now()}`;
    await ref.get(WechatPayOrdersService).nativePrepay({ sub_mchid: SUB, description: '分账订单', out_trade_no, amount: { total: 1000 }, settle_info: { profit_sharing: true } });
    const paid = await sim.pay(out_trade_no);
    const transaction_id = paid.transactionId as string;
    const refunds = ref.get(WechatPayRefundsService<'ecommerce'>);
    const first = await refunds.create({ sub_mchid: SUB, out_trade_no, out_refund_no: `R1${Date.now()}`, amount: { refund: 100, total: 1000 } });
    expect((await refunds.queryByRefundId({ refund_id: first.refund_id, sub_mchid: SUB })).funds_account).toBe('UNAVAILABLE');

    sim.profitSharing.settle(transaction_id);
    await ref.get(WechatPayProfitSharingService).finishOrder({ sub_mchid: SUB, transaction_id, out_order_no: `F${Date.now()}`, description: '解冻剩余资金' });
    const second = await refunds.create({ sub_mchid: SUB, out_trade_no, out_refund_no: `R2${Date.now()}`, amount: { refund: 100, total: 1000 } });
    expect((await refunds.queryByRefundId({ refund_id: second.refund_id, sub_mchid: SUB })).funds_account).toBe('AVAILABLE');
  });
});
