/**
 * Combine payments (合单支付, ecommerce spec §3) end to end: WechatPayCombineOrdersService in a Nest module against
 * the simulator over real HTTP with real keys. A cart of 3 sub-orders over 2 sub-merchants is ordered (Native, JSAPI,
 * App, H5), paid all or nothing, queried, refunded per sub-order through WechatPayRefundsService, found in the trade
 * bill through WechatPayBillsService, and closed (whole list only). Client-side validation sends nothing.
 */
import { createPublicKey, verify } from 'node:crypto';
import {
  type CombineNativePrepayRequest,
  type CombineSubOrderRequest,
  parseTradeBill,
  WechatPayApiError,
  WechatPayBillsService,
  WechatPayCombineOrdersService,
  WechatPayOrdersService,
  WechatPayRefundsService,
  WechatPayValidationError,
} from 'nestjs-wechat-partner-pay';
import { billClock, DAY } from './helpers/bill-clock';
import { type SimApp, startSimApp } from './helpers/sim-app';

const SUB = '1900000109';
const SUB2 = '1900000110';
const { noon: NOON, yesterday: YESTERDAY, now: clock, setNow } = billClock();

let app: SimApp;
let combine: WechatPayCombineOrdersService;
let seq = 0;

function no(prefix: string): string {
  return `${prefix}${Date.now()}${String(++seq).padStart(4, '0')}`;
}

/** A cart of 3 sub-orders over 2 sub-merchants (SUB twice: the same sub-merchant may appear in several). */
function cart(): CombineSubOrderRequest[] {
  return [
    { sub_mchid: SUB, out_trade_no: no('S'), description: '腾讯充值中心-QQ会员充值', attach: 'line-1', amount: { total_amount: 1000 } },
    { sub_mchid: SUB2, out_trade_no: no('S'), description: '第二商户-公仔', attach: 'line-2', amount: { total_amount: 2550, currency: 'CNY' } },
    { sub_mchid: SUB, out_trade_no: no('S'), description: '腾讯充值中心-贴纸', attach: 'line-3', amount: { total_amount: 1 }, settle_info: { profit_sharing: true } },
  ];
}

function nativeRequest(subs = cart()): CombineNativePrepayRequest {
  return { combine_out_trade_no: no('C'), sub_orders: subs, scene_info: { payer_client_ip: '14.23.150.211' } };
}

/** Verifies an invoke signature the platform-independent way: node:crypto with the merchant certificate. */
function verifyInvoke(lines: string[], signature: string): boolean {
  const key = createPublicKey(app.sim.credentials.merchantCertificatePem);
  return verify('sha256', Buffer.from(lines.map((l) => `${l}\n`).join('')), key, Buffer.from(signature, 'base64'));
}

async function rejected(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  );
}

beforeAll(async () => {
  app = await startSimApp(
    { clock, retry: { attempts: 2, baseDelayMs: 10, maxDelayMs: 20 }, timeoutMs: 3000 },
    { clock, notificationMode: 'once', refundMode: 'manual' },
  );
  combine = app.ref.get(WechatPayCombineOrdersService);
});
afterAll(() => app?.close());
afterEach(() => setNow(NOON));

describe('Native cart over two sub-merchants', () => {
  it('one QR code; the wire body carries the provider as combine_mchid and every sub-order mchid, amounts as total_amount', async () => {
    const req = nativeRequest();
    const { code_url } = await combine.nativePrepay(req);
    expect(code_url).toMatch(/^weixin:\/\/wxpay\/bizpayurl\?pr=/);
    expect(await combine.renderNativeQrCode(code_url, { format: 'svg' })).toContain('<svg');
    expect((await combine.renderNativeQrCode(code_url, { format: 'png' })).subarray(1, 4).toString()).toBe('PNG');
    const stored = app.sim.getCombineOrder(req.combine_out_trade_no)!;
    const c = app.sim.credentials;
    expect(stored.request).toMatchObject({ combine_appid: c.spAppid, combine_mchid: c.spMchid, notify_url: 'https://shop.example.com/wechatpay/notify' });
    expect(stored.request.sub_orders).toEqual(req.sub_orders.map((s) => ({ ...s, mchid: c.spMchid, amount: { total_amount: s.amount.total_amount, currency: 'CNY' } })));
  });

  it('is paid all or nothing: every sub-order SUCCESS with its own transaction_id; refund one; the bill lists every sub-order', async () => {
    const req = nativeRequest();
    await combine.nativePrepay(req);
    const before = await combine.query({ combine_out_trade_no: req.combine_out_trade_no });
    expect(before.sub_orders.map((s) => [s.out_trade_no, s.sub_mchid, s.trade_state, s.transaction_id])).toEqual(
      req.sub_orders.map((s) => [s.out_trade_no, s.sub_mchid, 'NOTPAY', undefined]),
    );

    await app.sim.payCombine(req.combine_out_trade_no, { fail: true });
    expect((await combine.query(req)).sub_orders.every((s) => s.trade_state === 'NOTPAY')).toBe(true);
    await app.sim.payCombine(req.combine_out_trade_no, { at: NOON - DAY + 3600_000 });
    const paid = await combine.query({ combine_out_trade_no: req.combine_out_trade_no });
    expect(paid).toMatchObject({ combine_out_trade_no: req.combine_out_trade_no, combine_mchid: app.sim.credentials.spMchid, combine_appid: app.sim.credentials.spAppid });
    expect(paid.combine_payer_info?.openid).toMatch(/^o/);
    for (const [i, s] of paid.sub_orders.entries()) {
      expect(s).toMatchObject({ trade_state: 'SUCCESS', out_trade_no: req.sub_orders[i].out_trade_no, attach: req.sub_orders[i].attach, trade_type: 'NATIVE', mchid: app.sim.credentials.spMchid });
      expect(s.amount).toEqual({ total_amount: req.sub_orders[i].amount.total_amount, currency: 'CNY', payer_amount: req.sub_orders[i].amount.total_amount, payer_currency: 'CNY' });
      expect(s.success_time?.startsWith(YESTERDAY)).toBe(true);
    }
    const ids = paid.sub_orders.map((s) => s.transaction_id);
    expect(new Set(ids).size).toBe(3);
    expect(await rejected(app.sim.payCombine(req.combine_out_trade_no))).toMatchObject({ code: 'ORDER_PAID' });

    // The single-order API does not know combine sub-orders; paying one of them alone is refused.
    const single = await rejected(app.ref.get(WechatPayOrdersService).queryByOutTradeNo({ out_trade_no: req.sub_orders[0].out_trade_no, sub_mchid: SUB }));
    expect(single).toBeInstanceOf(WechatPayApiError);
    expect(single).toMatchObject({ status: 404, code: 'ORDER_NOT_EXIST' });
    expect(await rejected(app.sim.pay(req.sub_orders[0].out_trade_no, { sub_mchid: SUB }))).toMatchObject({ code: 'ORDER_NOT_EXIST' });

    // Refund one sub-order by its own transaction_id and sub_mchid, through the ordinary refunds service.
    const refund = await app.ref.get(WechatPayRefundsService).create({
      sub_mchid: SUB2,
      transaction_id: ids[1]!,
      out_refund_no: no('R'),
      amount: { refund: 550, total: 2550, currency: 'CNY' },
    });
    expect(refund).toMatchObject({ status: 'PROCESSING', out_trade_no: req.sub_orders[1].out_trade_no, transaction_id: ids[1] });
    app.sim.completeRefund(refund.out_refund_no);
    expect((await combine.query(req)).sub_orders.map((s) => s.trade_state)).toEqual(['SUCCESS', 'REFUND', 'SUCCESS']);
    // A refund above the sub-order's total is refused: the sub-order, not the cart, is the refundable unit.
    const tooMuch = await rejected(
      app.ref.get(WechatPayRefundsService).create({ sub_mchid: SUB, transaction_id: ids[2]!, out_refund_no: no('R'), amount: { refund: 2, total: 2, currency: 'CNY' } }),
    );
    expect(tooMuch).toMatchObject({ status: 400 });

    const { rows } = await parseTradeBill(await app.ref.get(WechatPayBillsService).download(await app.ref.get(WechatPayBillsService).applyTradeBill({ bill_date: YESTERDAY }))).collect();
    for (const [i, s] of req.sub_orders.entries()) {
      const row = rows.find((r) => r.out_trade_no === s.out_trade_no && r.trade_state === 'SUCCESS');
      expect(row).toMatchObject({ sub_mchid: s.sub_mchid, transaction_id: ids[i] });
      expect(row?.order_amount.value).toBe(s.amount.total_amount);
    }
  });
});

describe('JSAPI / mini-program, App and H5', () => {
  it('JSAPI: pay params signed for combine_appid verify with the merchant certificate; the cashier page pays the prepay_id', async () => {
    const req = { ...nativeRequest(), combine_payer_info: { openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' } };
    const { prepay_id, payParams } = await combine.jsapiPrepayWithPayParams(req);
    expect(payParams).toMatchObject({ appId: app.sim.credentials.spAppid, package: `prepay_id=${prepay_id}`, signType: 'RSA' });
    expect(verifyInvoke([payParams.appId, payParams.timeStamp, payParams.nonceStr, payParams.package], payParams.paySign)).toBe(true);
    expect((await combine.jsapiPrepayWithPayParams(req, { appId: 'wx0000000000000001' })).payParams.appId).toBe('wx0000000000000001');

    const page = await fetch(app.sim.cashierUrl(prepay_id));
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain(req.combine_out_trade_no);
    expect(html).toContain('¥35.51');
    const pay = await fetch(`${app.sim.baseUrl}/__sim/cashier/pay`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ prepay_id }) });
    expect(await pay.json()).toMatchObject({ result: 'paid', combine_out_trade_no: req.combine_out_trade_no });
    const paid = await combine.query(req);
    expect(paid.combine_payer_info).toEqual({ openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' });
    expect(paid.sub_orders.every((s) => s.trade_state === 'SUCCESS' && s.trade_type === 'JSAPI')).toBe(true);
  });

  it('JSAPI with sub_openid signs for the sub-orders\' common sub_appid (UNVERIFIED) and asks for appId when they differ', async () => {
    const subs = cart().map((s) => ({ ...s, sub_appid: app.sim.credentials.subMerchants.find((m) => m.subMchid === s.sub_mchid)!.subAppid }));
    const same = { ...nativeRequest(subs.filter((s) => s.sub_mchid === SUB)), combine_payer_info: { sub_openid: 'oSubOpenid000000000000000001' } };
    expect((await combine.jsapiPrepayWithPayParams(same)).payParams.appId).toBe(subs[0].sub_appid);
    const mixed = { ...nativeRequest(subs), combine_payer_info: { sub_openid: 'oSubOpenid000000000000000001' } };
    const err = await rejected(combine.jsapiPrepayWithPayParams(mixed));
    expect(err).toBeInstanceOf(WechatPayValidationError);
    expect(app.sim.getCombineOrder(mixed.combine_out_trade_no)).toBeUndefined();
    await app.sim.payCombine(same.combine_out_trade_no);
    expect((await combine.query(same)).sub_orders.map((s) => s.sub_openid)).toEqual(['oSubOpenid000000000000000001', 'oSubOpenid000000000000000001']);
  });

  it('App: PayReq signed for combine_appid with partnerid = spMchid', async () => {
    const { prepay_id, payParams } = await combine.appPrepayWithPayParams(nativeRequest());
    expect(payParams).toMatchObject({ appid: app.sim.credentials.spAppid, partnerid: app.sim.credentials.spMchid, prepayid: prepay_id, package: 'Sign=WXPay' });
    expect(verifyInvoke([payParams.appid, payParams.timestamp, payParams.noncestr, prepay_id], payParams.sign)).toBe(true);
  });

  it('H5: h5_url to the cashier page, with a redirect_url appended', async () => {
    const req = { ...nativeRequest(), scene_info: { payer_client_ip: '14.23.150.211', h5_info: { type: 'Wap' as const } } };
    const { h5_url } = await combine.h5Prepay(req);
    const url = combine.buildH5RedirectUrl(h5_url, 'https://shop.example.com/paid?cart=1');
    expect(new URL(url).searchParams.get('redirect_url')).toBe('https://shop.example.com/paid?cart=1');
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('https://shop.example.com/paid?cart=1');
  });
});

describe('close', () => {
  it('closes an unpaid combine order with the whole sub-order list: every sub-order CLOSED, paying refused, closing again harmless', async () => {
    const req = nativeRequest();
    await combine.nativePrepay(req);
    const list = req.sub_orders.map(({ out_trade_no, sub_mchid }) => ({ out_trade_no, sub_mchid }));
    await expect(combine.close({ combine_out_trade_no: req.combine_out_trade_no, sub_orders: [...list].reverse() })).resolves.toBeUndefined();
    expect((await combine.query(req)).sub_orders.map((s) => s.trade_state)).toEqual(['CLOSED', 'CLOSED', 'CLOSED']);
    expect(await rejected(app.sim.payCombine(req.combine_out_trade_no))).toMatchObject({ code: 'ORDER_CLOSED' });
    await expect(combine.close({ combine_out_trade_no: req.combine_out_trade_no, sub_orders: list })).resolves.toBeUndefined();
    expect(await rejected(combine.nativePrepay(req))).toMatchObject({ status: 400, code: 'ORDER_CLOSED' });
  });

  it('refuses a partial close, another sub_mchid, and a paid order', async () => {
    const req = nativeRequest();
    await combine.nativePrepay(req);
    const list = req.sub_orders.map(({ out_trade_no, sub_mchid }) => ({ out_trade_no, sub_mchid }));
    for (const sub_orders of [list.slice(0, 2), [list[0], list[1], { ...list[2], sub_mchid: SUB2 }]]) {
      const err = await rejected(combine.close({ combine_out_trade_no: req.combine_out_trade_no, sub_orders }));
      expect(err).toBeInstanceOf(WechatPayApiError);
      expect(err).toMatchObject({ status: 400, code: 'INVALID_REQUEST' });
      expect((err as WechatPayApiError).wechatMessage).toContain('请求关单的子单信息与下单时的子单信息不一致');
    }
    expect((await combine.query(req)).sub_orders.every((s) => s.trade_state === 'NOTPAY')).toBe(true);
    await app.sim.payCombine(req.combine_out_trade_no);
    expect(await rejected(combine.close({ combine_out_trade_no: req.combine_out_trade_no, sub_orders: list }))).toMatchObject({ status: 400, code: 'ORDER_PAID' });
    expect(await rejected(combine.close({ combine_out_trade_no: no('C'), sub_orders: list }))).toMatchObject({ status: 404, code: 'ORDER_NOT_EXIST' });
  });

  it('an unpaid cart expires whole at time_expire', async () => {
    const req = { ...nativeRequest(), time_expire: new Date(NOON + 10 * 60_000) };
    const { code_url } = await combine.nativePrepay(req);
    setNow(NOON + 11 * 60_000);
    expect((await combine.query(req)).sub_orders.map((s) => s.trade_state)).toEqual(['CLOSED', 'CLOSED', 'CLOSED']);
    expect(await rejected(app.sim.payCombine(req.combine_out_trade_no))).toMatchObject({ code: 'ORDER_CLOSED' });
    expect((await fetch(app.sim.cashierUrl(code_url))).status).toBe(200);
    expect(app.sim.getCombineOrder(req.combine_out_trade_no)?.tradeState).toBe('CLOSED');
  });
});

describe('numbers', () => {
  it('a repeat order with the same body gets a new code_url; another body or settle_info is refused', async () => {
    const req = nativeRequest();
    const first = await combine.nativePrepay(req);
    const again = await combine.nativePrepay(req);
    expect(again.code_url).not.toBe(first.code_url);
    expect(app.sim.getCombineOrder(req.combine_out_trade_no)?.prepayIds).toHaveLength(2);
    const other = { ...req, sub_orders: req.sub_orders.map((s, i) => (i === 0 ? { ...s, amount: { total_amount: 999 } } : s)) };
    expect(await rejected(combine.nativePrepay(other))).toMatchObject({ status: 403, code: 'OUT_TRADE_NO_USED' });
    const settle = { ...req, sub_orders: req.sub_orders.map((s, i) => (i === 0 ? { ...s, settle_info: { profit_sharing: true } } : s)) };
    const err = await rejected(combine.nativePrepay(settle));
    expect(err).toMatchObject({ status: 403, code: 'OUT_TRADE_NO_USED' });
    expect((err as WechatPayApiError).wechatMessage).toContain('重复下单且结算信息不一致');
    expect(await rejected(combine.appPrepay(req))).toMatchObject({ status: 403, code: 'OUT_TRADE_NO_USED' });
  });

  it('a sub-order number is an order number of its sub-merchant: neither a single order nor another cart may reuse it', async () => {
    const req = nativeRequest();
    await combine.nativePrepay(req);
    const orders = app.ref.get(WechatPayOrdersService);
    const single = { sub_mchid: SUB, description: '单独下单', out_trade_no: req.sub_orders[0].out_trade_no, amount: { total: 1000 } };
    expect(await rejected(orders.nativePrepay(single))).toMatchObject({ status: 403, code: 'OUT_TRADE_NO_USED' });
    expect(await rejected(combine.nativePrepay({ ...nativeRequest(), sub_orders: [req.sub_orders[0]] }))).toMatchObject({ status: 403, code: 'OUT_TRADE_NO_USED' });
    const taken = no('T');
    await orders.nativePrepay({ ...single, out_trade_no: taken });
    const cartReq = nativeRequest([{ ...cart()[0], out_trade_no: taken }]);
    expect(await rejected(combine.nativePrepay(cartReq))).toMatchObject({ status: 403, code: 'OUT_TRADE_NO_USED' });
    expect(app.sim.getCombineOrder(cartReq.combine_out_trade_no)).toBeUndefined();
  });
});

describe('client-side validation: nothing is sent', () => {
  const one = (patch: Partial<CombineSubOrderRequest> | Record<string, unknown>): CombineSubOrderRequest[] => [{ ...cart()[0], ...patch } as CombineSubOrderRequest];
  it.each<[string, () => Record<string, unknown>, 'native' | 'jsapi' | 'h5', string]>([
    ['no sub-order', () => ({ ...nativeRequest(), sub_orders: [] }), 'native', 'sub_orders'],
    ['51 sub-orders', () => ({ ...nativeRequest(), sub_orders: Array.from({ length: 51 }, () => cart()[0]).map((s, i) => ({ ...s, out_trade_no: `CART${i}XX${seq}` })) }), 'native', 'sub_orders'],
    ['no sub_mchid', () => ({ ...nativeRequest(), sub_orders: one({ sub_mchid: undefined }) }), 'native', 'sub_orders.0.sub_mchid'],
    ['the provider as sub_mchid', () => ({ ...nativeRequest(), sub_orders: one({ sub_mchid: app.sim.credentials.spMchid }) }), 'native', 'sub_orders.0.sub_mchid'],
    ['another mchid', () => ({ ...nativeRequest(), sub_orders: one({ mchid: '1230000999' }) }), 'native', 'sub_orders.0.mchid'],
    ['a repeated out_trade_no', () => { const c = cart(); return { ...nativeRequest(), sub_orders: [c[0], { ...c[1], out_trade_no: c[0].out_trade_no }] }; }, 'native', 'sub_orders.1.out_trade_no'],
    ['no attach', () => ({ ...nativeRequest(), sub_orders: one({ attach: undefined }) }), 'native', 'sub_orders.0.attach'],
    ['a description of 129 bytes', () => ({ ...nativeRequest(), sub_orders: one({ description: '中'.repeat(43) }) }), 'native', 'sub_orders.0.description'],
    ['amount.total instead of total_amount', () => ({ ...nativeRequest(), sub_orders: one({ amount: { total: 100 } }) }), 'native', 'sub_orders.0.amount.total_amount'],
    ['more than 1000万 yuan', () => ({ ...nativeRequest(), sub_orders: one({ amount: { total_amount: 1_000_000_001 } }) }), 'native', 'sub_orders.0.amount.total_amount'],
    ['scene_info without payer_client_ip', () => ({ ...nativeRequest(), scene_info: { device_id: 'POS1' } }), 'native', 'scene_info.payer_client_ip'],
    ['a past time_expire', () => ({ ...nativeRequest(), time_expire: new Date(clock() - 1000) }), 'native', 'time_expire'],
    ['a notify_url with a query', () => ({ ...nativeRequest(), notify_url: 'https://shop.example.com/n?x=1' }), 'native', 'notify_url'],
    ['another combine_mchid', () => ({ ...nativeRequest(), combine_mchid: '1230000999' }), 'native', 'combine_mchid'],
    ['JSAPI without combine_payer_info', () => nativeRequest() as unknown as Record<string, unknown>, 'jsapi', 'combine_payer_info'],
    ['JSAPI with an empty combine_payer_info', () => ({ ...nativeRequest(), combine_payer_info: {} }), 'jsapi', 'combine_payer_info'],
    ['JSAPI sub_openid without sub_appid', () => ({ ...nativeRequest(), combine_payer_info: { sub_openid: 'oX' } }), 'jsapi', 'sub_orders'],
    ['H5 without h5_info', () => nativeRequest() as unknown as Record<string, unknown>, 'h5', 'scene_info.h5_info'],
    ['H5 without scene_info', () => ({ ...nativeRequest(), scene_info: undefined }), 'h5', 'scene_info'],
    ['settle_info.subsidy_amount < 0', () => ({ ...nativeRequest(), sub_orders: one({ settle_info: { profit_sharing: true, subsidy_amount: -1 } }) }), 'native', 'sub_orders.0.settle_info.subsidy_amount'],
  ])('%s', async (_name, build, scene, field) => {
    const before = app.sim.requests.length;
    const req = build();
    const call = scene === 'jsapi' ? combine.jsapiPrepay(req as never) : scene === 'h5' ? combine.h5Prepay(req as never) : combine.nativePrepay(req as never);
    const err = await rejected(call);
    expect(err).toBeInstanceOf(WechatPayValidationError);
    expect((err as WechatPayValidationError).problems.map((p) => p.field)).toContain(field);
    expect(app.sim.requests.length).toBe(before);
  });

  it('says total_amount when given total', async () => {
    const err = (await rejected(combine.nativePrepay({ ...nativeRequest(), sub_orders: one({ amount: { total: 100 } }) }))) as WechatPayValidationError;
    expect(err.message).toContain('total_amount, not total');
  });

  it('close needs the sub-order list; query needs a number', async () => {
    const before = app.sim.requests.length;
    expect(await rejected(combine.close({ combine_out_trade_no: no('C'), sub_orders: [] }))).toBeInstanceOf(WechatPayValidationError);
    expect(await rejected(combine.close({ combine_out_trade_no: no('C') } as never))).toBeInstanceOf(WechatPayValidationError);
    expect(await rejected(combine.query({ combine_out_trade_no: 'a/b' }))).toBeInstanceOf(WechatPayValidationError);
    expect(app.sim.requests.length).toBe(before);
  });
});
