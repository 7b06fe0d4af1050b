/** The simulator counts string(n) limits in UTF-8 bytes, as WeChat Pay does (its errors say 字节数). */
import { WechatPaySimulator } from '../lib/testing';
import { signedCall } from './helpers/sim-http';

describe('simulator: string limits are UTF-8 bytes', () => {
  let sim: WechatPaySimulator;
  beforeAll(async () => {
    sim = await WechatPaySimulator.start();
  });
  afterAll(() => sim.close());

  const order = (description: string): Record<string, unknown> => ({
    sp_appid: sim.credentials.spAppid,
    sp_mchid: sim.credentials.spMchid,
    sub_mchid: '1900000109',
    description,
    out_trade_no: `B${Date.now()}${Math.floor(Math.random() * 1000)}`,
    notify_url: 'https://shop.example.com/notify',
    amount: { total: 1, currency: 'CNY' },
  });

  it('refuses a description of 127 × 中 (381 bytes > 127) with 400 PARAM_ERROR naming the byte count', async () => {
    const res = await signedCall(sim, 'POST', '/v3/pay/partner/transactions/native', { body: order('中'.repeat(127)) });
    expect(res.status).toBe(400);
    expect(res.json.code).toBe('PARAM_ERROR');
    expect(res.json.message).toContain('字节数 381，大于最大值 127');
  });

  it('accepts 42 × 中 (126 bytes)', async () => {
    const res = await signedCall(sim, 'POST', '/v3/pay/partner/transactions/native', { body: order('中'.repeat(42)) });
    expect(res.status).toBe(200);
    expect(res.json.code_url).toMatch(/^weixin:\/\//);
  });
});
