import { createPublicKey, verify } from 'node:crypto';
import {
  type PartnerJsapiPrepayRequest,
  WechatPayApiError,
  WechatPayNetworkError,
  WechatPayOrdersService,
  WechatPayValidationError,
} from 'nestjs-wechat-partner-pay';
import { type SimApp, startSimApp } from './helpers/sim-app';

let app: SimApp;
let orders: WechatPayOrdersService;
let seq = 0;

function outTradeNo(): string {
  return `T${Date.now()}${String(++seq).padStart(4, '0')}`;
}

function sub() {
  return app.sim.credentials.subMerchants[0];
}

/** Verifies an invoke signature the platform-independent way: plain node:crypto with the merchant certificate. */
function verifyInvoke(lines: string[], signature: string): boolean {
  const key = createPublicKey(app.sim.credentials.merchantCertificatePem);
  return verify('sha256', Buffer.from(lines.map((l) => `${l}\n`).join('')), key, Buffer.from(signature, 'base64'));
}

beforeAll(async () => {
  app = await startSimApp({ retry: { attempts: 3, baseDelayMs: 10, maxDelayMs: 50 }, timeoutMs: 1500 });
  orders = app.ref.get(WechatPayOrdersService);
});
afterAll(() => app.close());

describe('JSAPI / mini-program', () => {
  it('creates an order, signs pay params that verify with the merchant certificate, pays, queries by both ids', async () => {
    const s = sub();
    const no = outTradeNo();
    const req: PartnerJsapiPrepayRequest = {
      sub_mchid: s.subMchid,
      sub_appid: s.subAppid,
      description: 'Image形象店-深圳腾大-QQ公仔',
      out_trade_no: no,
      amount: { total: 100 },
      payer: { sub_openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' },
      attach: 'cart-42',
      time_expire: new Date(Date.now() + 3600_000),
    };
    const { prepay_id, payParams } = await orders.jsapiPrepayWithPayParams(req);
    expect(prepay_id).toMatch(/^wx/);
    expect(payParams.appId).toBe(s.subAppid);
    expect(payParams.package).toBe(`prepay_id=${prepay_id}`);
    expect(payParams.signType).toBe('RSA');
    expect(payParams.timeStamp).toMatch(/^\d{10}$/);
    expect(verifyInvoke([payParams.appId, payParams.timeStamp, payParams.nonceStr, payParams.package], payParams.paySign)).toBe(true);

    const before = await orders.queryByOutTradeNo(no, s.subMchid);
    expect(before.trade_state).toBe('NOTPAY');
    expect(before.transaction_id).toBeUndefined();

    await app.sim.pay(no, { sub_mchid: s.subMchid });
    const paid = await orders.queryByOutTradeNo(no, s.subMchid);
    expect(paid).toMatchObject({
      trade_state: 'SUCCESS',
      trade_type: 'JSAPI',
      sp_mchid: app.sim.credentials.spMchid,
      sub_mchid: s.subMchid,
      out_trade_no: no,
      attach: 'cart-42',
      amount: { total: 100 },
    });
    expect(paid.transaction_id).toMatch(/^\d{28}$/);
    const byId = await orders.queryByTransactionId(paid.transaction_id!, s.subMchid);
    expect(byId.out_trade_no).toBe(no);
  });

  it('uses sp_appid when the payer is an sp_openid, and re-invokes with buildJsapiPayParams', async () => {
    const { prepay_id, payParams } = await orders.jsapiPrepayWithPayParams({
      sub_mchid: sub().subMchid,
      description: 'coffee',
      out_trade_no: outTradeNo(),
      amount: { total: 1 },
      payer: { sp_openid: 'oSpUser' },
    });
    expect(payParams.appId).toBe(app.sim.credentials.spAppid);
    const again = orders.buildJsapiPayParams(prepay_id, app.sim.credentials.spAppid);
    expect(again.nonceStr).not.toBe(payParams.nonceStr);
    expect(verifyInvoke([again.appId, again.timeStamp, again.nonceStr, again.package], again.paySign)).toBe(true);
  });
});

describe('App', () => {
  it('signs the bare prepay_id as line 4', async () => {
    const { prepay_id, payParams } = await orders.appPrepayWithPayParams({
      sub_mchid: sub().subMchid,
      description: 'app order',
      out_trade_no: outTradeNo(),
      amount: { total: 990 },
    });
    expect(payParams).toMatchObject({ appid: app.sim.credentials.spAppid, partnerid: app.sim.credentials.spMchid, prepayid: prepay_id, package: 'Sign=WXPay' });
    expect(verifyInvoke([payParams.appid, payParams.timestamp, payParams.noncestr, prepay_id], payParams.sign)).toBe(true);
    expect(verifyInvoke([payParams.appid, payParams.timestamp, payParams.noncestr, `prepay_id=${prepay_id}`], payParams.sign)).toBe(false);
  });
});

describe('H5', () => {
  it('returns an h5_url and appends an encoded redirect_url', async () => {
    const { h5_url } = await orders.h5Prepay({
      sub_mchid: sub().subMchid,
      description: 'h5 order',
      out_trade_no: outTradeNo(),
      amount: { total: 5 },
      scene_info: { payer_client_ip: '203.0.113.7', h5_info: { type: 'Wap' } },
    });
    const url = orders.buildH5RedirectUrl(h5_url, 'https://shop.example.com/pay/done?order=1&x=中');
    expect(url).toBe(`${h5_url}&redirect_url=${encodeURIComponent('https://shop.example.com/pay/done?order=1&x=中')}`);
    expect(new URL(url).searchParams.get('redirect_url')).toBe('https://shop.example.com/pay/done?order=1&x=中');
    expect(() => orders.buildH5RedirectUrl(h5_url, 'http://shop.example.com/done')).toThrow(WechatPayValidationError);
    expect(orders.buildH5RedirectUrl(h5_url, 'http://127.0.0.1:3000/done')).toContain('redirect_url=http%3A%2F%2F127.0.0.1%3A3000%2Fdone');
  });
});

describe('Native', () => {
  it('returns a code_url and renders it as SVG, PNG and data URL', async () => {
    const { code_url } = await orders.nativePrepay({ sub_mchid: sub().subMchid, description: 'qr', out_trade_no: outTradeNo(), amount: { total: 1 } });
    expect(code_url).toMatch(/^weixin:\/\/wxpay\/bizpayurl\?pr=/);
    expect(await orders.renderNativeQrCode(code_url, { format: 'svg' })).toMatch(/^<svg/);
    const png = await orders.renderNativeQrCode(code_url, { format: 'png', size: 128 });
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect(await orders.renderNativeQrCode(code_url, { format: 'dataUrl' })).toMatch(/^data:image\/png;base64,/);
    await expect(orders.renderNativeQrCode('https://evil.example', { format: 'svg' })).rejects.toThrow(WechatPayValidationError);
  });
});

describe('close and re-order', () => {
  it('closes an unpaid order (twice), refuses to close a paid one', async () => {
    const s = sub();
    const no = outTradeNo();
    await orders.nativePrepay({ sub_mchid: s.subMchid, description: 'close me', out_trade_no: no, amount: { total: 1 } });
    await expect(orders.close(no, s.subMchid)).resolves.toBeUndefined();
    await expect(orders.close(no, s.subMchid)).resolves.toBeUndefined();
    expect((await orders.queryByOutTradeNo(no, s.subMchid)).trade_state).toBe('CLOSED');

    const paidNo = outTradeNo();
    await orders.nativePrepay({ sub_mchid: s.subMchid, description: 'pay me', out_trade_no: paidNo, amount: { total: 1 } });
    await app.sim.pay(paidNo, { sub_mchid: s.subMchid });
    const err = await orders.close(paidNo, s.subMchid).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WechatPayApiError);
    expect(err).toMatchObject({ code: 'ORDER_PAID', retryable: false });
  });

  it('re-ordering with the same body gives a usable prepay_id; a different body is OUT_TRADE_NO_USED', async () => {
    const req = { sub_mchid: sub().subMchid, description: 'same', out_trade_no: outTradeNo(), amount: { total: 3 } };
    const a = await orders.appPrepay(req);
    const b = await orders.appPrepay({ ...req });
    expect(b.prepay_id).toMatch(/^wx/);
    expect(a.prepay_id).toMatch(/^wx/);
    const err = await orders.appPrepay({ ...req, amount: { total: 4 } }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'OUT_TRADE_NO_USED', retryable: false });
  });

  it('an unknown order is a typed 404', async () => {
    const err = await orders.queryByOutTradeNo('NO_SUCH_ORDER_1', sub().subMchid).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WechatPayApiError);
    expect(err).toMatchObject({ status: 404, code: 'ORDER_NOT_EXIST' });
    expect((err as Error).message).not.toMatch(/Authorization|PRIVATE KEY/);
  });
});

describe('client-side validation: nothing reaches the simulator', () => {
  const base = () => ({ sub_mchid: sub().subMchid, description: 'x', out_trade_no: outTradeNo(), amount: { total: 1 } });
  const cases: Array<[string, () => Promise<unknown>, string]> = [
    ['out_trade_no too short', () => orders.nativePrepay({ ...base(), out_trade_no: 'T1' }), 'out_trade_no'],
    ['out_trade_no bad charset', () => orders.nativePrepay({ ...base(), out_trade_no: 'T2024#0001' }), 'out_trade_no'],
    ['description too long', () => orders.nativePrepay({ ...base(), description: 'x'.repeat(128) }), 'description'],
    ['amount zero', () => orders.nativePrepay({ ...base(), amount: { total: 0 } }), 'amount.total'],
    ['amount in yuan', () => orders.nativePrepay({ ...base(), amount: { total: 9.9 } }), 'amount.total'],
    ['notify_url with query', () => orders.nativePrepay({ ...base(), notify_url: 'https://a.example/n?x=1' }), 'notify_url'],
    // Plain http is accepted (WeChat Pay calls back over http on private dedicated lines); other schemes are not.
    ['notify_url not http(s)', () => orders.nativePrepay({ ...base(), notify_url: 'ftp://a.example/n' }), 'notify_url'],
    ['time_expire in the past', () => orders.nativePrepay({ ...base(), time_expire: new Date(Date.now() - 1000) }), 'time_expire'],
    ['time_expire not RFC 3339', () => orders.nativePrepay({ ...base(), time_expire: '2030-01-01 10:00:00' }), 'time_expire'],
    ['JSAPI without payer', () => orders.jsapiPrepay({ ...base() } as PartnerJsapiPrepayRequest), 'payer'],
    ['sub_openid without sub_appid', () => orders.jsapiPrepay({ ...base(), payer: { sub_openid: 'o1' } }), 'sub_appid'],
    ['H5 without h5_info', () => orders.h5Prepay({ ...base(), scene_info: { payer_client_ip: '1.2.3.4' } } as never), 'scene_info.h5_info'],
    ['emoji in description', () => orders.nativePrepay({ ...base(), description: 'coffee ☕️🍰' }), 'description'],
    ['unknown field', () => orders.nativePrepay({ ...base(), amout: 1 } as never), 'amout'],
  ];

  it.each(cases)('%s', async (_name, call, field) => {
    const before = app.sim.requests.length;
    const err = await call().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WechatPayValidationError);
    expect((err as WechatPayValidationError).problems.map((p) => p.field)).toContain(field);
    expect(app.sim.requests.length).toBe(before);
  });

  it('lists every problem in one error', async () => {
    const err = (await orders
      .nativePrepay({ sub_mchid: 'abc', description: '', out_trade_no: '#', amount: { total: -1 } })
      .catch((e: unknown) => e)) as WechatPayValidationError;
    expect(err.problems.map((p) => p.field)).toEqual(expect.arrayContaining(['sub_mchid', 'description', 'out_trade_no', 'amount.total']));
  });
});

describe('retries with the simulator faults', () => {
  const native = () => orders.nativePrepay({ sub_mchid: sub().subMchid, description: 'retry', out_trade_no: outTradeNo(), amount: { total: 1 } });

  it('500 then success', async () => {
    app.sim.faults.next({ path: '/v3/pay/partner/transactions/native', status: 500, code: 'SYSTEM_ERROR' });
    await expect(native()).resolves.toHaveProperty('code_url');
  });

  it('429 then success', async () => {
    app.sim.faults.next({ path: '/v3/pay/partner/transactions/native', status: 429, code: 'FREQUENCY_LIMITED' });
    await expect(native()).resolves.toHaveProperty('code_url');
  });

  it('a timeout then success', async () => {
    app.sim.faults.next({ path: '/v3/pay/partner/transactions/native', delayMs: 2500 });
    await expect(native()).resolves.toHaveProperty('code_url');
  });

  it('a connection reset then success', async () => {
    app.sim.faults.next({ path: '/v3/pay/partner/transactions/native', resetConnection: true });
    await expect(native()).resolves.toHaveProperty('code_url');
  });

  it('gives up after the configured attempts with a typed error', async () => {
    app.sim.faults.next({ path: '/v3/pay/partner/transactions/native', resetConnection: true, times: 3 });
    await expect(native()).rejects.toBeInstanceOf(WechatPayNetworkError);
  });

  it('does not retry a 400', async () => {
    app.sim.faults.next({ path: '/v3/pay/partner/transactions/native', status: 400, code: 'PARAM_ERROR', times: 2 });
    const before = app.sim.requests.length;
    await expect(native()).rejects.toMatchObject({ status: 400, code: 'PARAM_ERROR' });
    expect(app.sim.requests.length - before).toBe(1);
    app.sim.faults.clear();
  });

  it('a bad response signature is a WechatPaySignatureError (outcome unknown)', async () => {
    app.sim.faults.next({ path: '/v3/pay/partner/transactions/native', badSignature: true });
    await expect(native()).rejects.toMatchObject({ name: 'WechatPaySignatureError', reason: 'BAD_SIGNATURE' });
  });
});
