import 'reflect-metadata';
import { WechatPayValidationError } from '../errors/wechat-pay.errors';
import { PartnerNativePrepayRequest } from '../../orders/dto/partner-prepay.dto';
import { PartnerRefundRequest } from '../../refunds/dto/partner-refund.dto';
import { validateRequest } from './validate-request';
import { utf8Length } from './byte-length';

const order = { sub_mchid: '1900000109', out_trade_no: 'T20240520001', amount: { total: 1 }, notify_url: 'https://shop.example.com/notify' };

function problems(run: () => void): string[] {
  try {
    run();
    return [];
  } catch (e) {
    if (!(e instanceof WechatPayValidationError)) throw e;
    return e.problems.map((p) => `${p.field}: ${p.message}`);
  }
}

describe('lengths are UTF-8 bytes, as WeChat Pay counts them', () => {
  it('counts 中 as 3 bytes', () => {
    expect(utf8Length('中')).toBe(3);
    expect(utf8Length('a中')).toBe(4);
  });

  it('refuses a description of 127 × 中 (381 bytes) and accepts 42 × 中 (126 bytes)', () => {
    expect(problems(() => validateRequest(PartnerNativePrepayRequest, { ...order, description: '中'.repeat(127) }, 'native order'))).toEqual([
      'description: must be 1–127 UTF-8 bytes (a Chinese character takes 3 bytes)',
    ]);
    expect(problems(() => validateRequest(PartnerNativePrepayRequest, { ...order, description: '中'.repeat(42) }, 'native order'))).toEqual([]);
    expect(problems(() => validateRequest(PartnerNativePrepayRequest, { ...order, description: '中'.repeat(43) }, 'native order'))).toHaveLength(1);
  });

  it('counts the refund reason (80 bytes) in bytes too', () => {
    const refund = { out_trade_no: 'T20240520001', out_refund_no: 'R1', sub_mchid: '1900000109', amount: { refund: 1, total: 1, currency: 'CNY' } };
    expect(problems(() => validateRequest(PartnerRefundRequest, { ...refund, reason: '退'.repeat(27) }, 'refund'))).toHaveLength(1);
    expect(problems(() => validateRequest(PartnerRefundRequest, { ...refund, reason: '退'.repeat(26) }, 'refund'))).toEqual([]);
  });
});
