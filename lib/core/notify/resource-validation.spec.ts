import 'reflect-metadata';
import { PartnerRefundResource } from '../../notifications/dto/partner-refund-resource.dto';
import { PartnerTransactionResource } from '../../notifications/dto/partner-transaction-resource.dto';
import { WechatPayNotificationError } from './notification.errors';
import { validateNotificationResource } from './resource-validation';

const transaction = {
  sp_appid: 'wx8888888888888888',
  sp_mchid: '1230000109',
  sub_mchid: '1900000109',
  out_trade_no: 'T20240520000001',
  transaction_id: '4200000000202405200000000001',
  trade_type: 'NATIVE',
  trade_state: 'SUCCESS',
  success_time: '2024-05-20T13:29:35+08:00',
  payer: { sp_openid: 'o1' },
  amount: { total: 100, payer_total: 100, currency: 'CNY', payer_currency: 'CNY' },
  scene_info: { device_id: 'D1' },
  promotion_detail: [{ coupon_id: 'C1', amount: 1 }],
};

const json = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

describe('validateNotificationResource', () => {
  it('keeps unknown fields (WeChat Pay adds fields over time) and nests DTO instances', () => {
    const got = validateNotificationResource(PartnerTransactionResource, { ...json(transaction), new_field: 1 });
    expect(got).toBeInstanceOf(PartnerTransactionResource);
    expect((got as unknown as Record<string, unknown>).new_field).toBe(1);
    expect(got.amount.constructor.name).toBe('TransactionAmount');
  });

  it('names invalid fields without their values', () => {
    let error: unknown;
    try {
      validateNotificationResource(PartnerTransactionResource, {
        ...json(transaction),
        trade_state: 'PAID',
        amount: { total: 'secret-ish' },
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(WechatPayNotificationError);
    expect(error).toMatchObject({ reason: 'INVALID_RESOURCE', detail: 'invalid fields: trade_state, amount.total' });
    expect(String((error as WechatPayNotificationError).detail)).not.toContain('secret-ish');
  });

  it('rejects a refund without its nested amount', () => {
    const refund = {
      sp_mchid: '1230000109',
      sub_mchid: '1900000109',
      transaction_id: '4200000000202405200000000001',
      out_trade_no: 'T20240520000001',
      refund_id: '50000000382019052709732678859',
      out_refund_no: 'RF1',
      refund_status: 'SUCCESS',
    };
    expect(() => validateNotificationResource(PartnerRefundResource, refund)).toThrow(
      expect.objectContaining({ reason: 'INVALID_RESOURCE', detail: 'invalid fields: amount' }),
    );
  });
});
