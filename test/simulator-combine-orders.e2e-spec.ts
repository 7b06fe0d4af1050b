/**
 * The simulator's combine book over raw HTTP (ecommerce spec §3), without the module: requests signed with the core
 * (test/helpers/sim-http.ts), the server-side validation a client that forgot to check meets, the options for the
 * UNVERIFIED limits, one notification for the whole cart (verified and decrypted with the core), tooling, and the
 * state file.
 */
import { aesGcmDecrypt } from '../lib/core/crypto';
import { type SimulatorOptions, WechatPaySimulator } from '../lib/testing';
import { type Json, notifyReceiver, type Reply, signedCall, verifiesSigned } from './helpers/sim-http';

const SUB = '1900000109';
const SUB2 = '1900000110';
const COMBINE = '/v3/combine-transactions';
const running: Array<{ close(): Promise<void> }> = [];
let seq = 0;

function no(prefix: string): string {
  return `${prefix}${Date.now()}${String(++seq).padStart(4, '0')}`;
}

async function simulator(options: SimulatorOptions = {}): Promise<WechatPaySimulator> {
  const sim = await WechatPaySimulator.start({ notificationTimeScale: 0, ...options });
  running.push(sim);
  return sim;
}

function call(sim: WechatPaySimulator, method: string, url: string, body?: Json, mchid?: string): Promise<Reply> {
  return signedCall(sim, method, url, { body, mchid });
}

function subOrder(sim: WechatPaySimulator, sub = SUB, extra: Json = {}): Json {
  return { mchid: sim.credentials.spMchid, sub_mchid: sub, out_trade_no: no('S'), attach: 'a', description: '子单', amount: { total_amount: 100, currency: 'CNY' }, ...extra };
}

function body(sim: WechatPaySimulator, extra: Json = {}, notifyUrl = 'https://shop.example.com/notify'): Json {
  const c = sim.credentials;
  return {
    combine_appid: c.spAppid,
    combine_mchid: c.spMchid,
    combine_out_trade_no: no('C'),
    sub_orders: [subOrder(sim), subOrder(sim, SUB2), subOrder(sim)],
    notify_url: notifyUrl,
    ...extra,
  };
}

const receiver = () => notifyReceiver(running);

afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.close()));
});

describe('server-side validation (400 PARAM_ERROR with detail, first problem wins)', () => {
  let sim: WechatPaySimulator;
  beforeAll(async () => {
    sim = await WechatPaySimulator.start();
  });
  afterAll(() => sim.close());

  it.each<[string, (sim: WechatPaySimulator) => Json, string, string?]>([
    ['a sub-order without currency', (s) => body(s, { sub_orders: [{ ...subOrder(s), amount: { total_amount: 1 } }] }), '/sub_orders/0/amount/currency'],
    ['amount.total instead of total_amount', (s) => body(s, { sub_orders: [{ ...subOrder(s), amount: { total: 1, currency: 'CNY' } }] }), '/sub_orders/0/amount/total', 'PARAM_ERROR'],
    ['no sub-orders', (s) => body(s, { sub_orders: [] }), '/sub_orders'],
    ['51 sub-orders', (s) => body(s, { sub_orders: Array.from({ length: 51 }, () => subOrder(s)) }), '/sub_orders'],
    ['a sub-order without sub_mchid', (s) => body(s, { sub_orders: [{ ...subOrder(s), sub_mchid: undefined }] }), '/sub_orders/0/sub_mchid'],
    ['a sub-order without attach', (s) => body(s, { sub_orders: [{ ...subOrder(s), attach: undefined }] }), '/sub_orders/0/attach'],
    ['a sub-order mchid other than combine_mchid', (s) => body(s, { sub_orders: [{ ...subOrder(s), mchid: '1230000999' }] }), '/sub_orders/0/mchid'],
    ['a repeated sub-order out_trade_no', (s) => { const a = subOrder(s); return body(s, { sub_orders: [a, { ...subOrder(s, SUB2), out_trade_no: a.out_trade_no }] }); }, '/sub_orders/1/out_trade_no'],
    ['more than 1000万 yuan', (s) => body(s, { sub_orders: [{ ...subOrder(s), amount: { total_amount: 1_000_000_001, currency: 'CNY' } }] }), '/sub_orders/0/amount/total_amount'],
    ['scene_info without payer_client_ip', (s) => body(s, { scene_info: { device_id: 'POS1' } }), '/scene_info/payer_client_ip'],
    ['a notify_url with a query', (s) => body(s, { notify_url: 'https://shop.example.com/n?x=1' }), '/notify_url'],
    ['a time_expire without offset', (s) => body(s, { time_expire: '2030-01-01T00:00:00' }), '/time_expire'],
    ['an unknown field', (s) => body(s, { sp_mchid: s.credentials.spMchid }), '/sp_mchid'],
  ])('%s', async (_name, build, field) => {
    const reply = await call(sim, 'POST', `${COMBINE}/native`, build(sim));
    expect(reply.status).toBe(400);
    expect(reply.json).toMatchObject({ code: 'PARAM_ERROR', detail: { field, location: 'body' } });
  });

  it('JSAPI needs combine_payer_info with openid or sub_openid; H5 needs scene_info.h5_info', async () => {
    expect((await call(sim, 'POST', `${COMBINE}/jsapi`, body(sim))).json).toMatchObject({ code: 'PARAM_ERROR', detail: { field: '/combine_payer_info' } });
    expect((await call(sim, 'POST', `${COMBINE}/jsapi`, body(sim, { combine_payer_info: {} }))).json).toMatchObject({ code: 'PARAM_ERROR', detail: { field: '/combine_payer_info' } });
    expect((await call(sim, 'POST', `${COMBINE}/h5`, body(sim, { scene_info: { payer_client_ip: '1.2.3.4' } }))).json).toMatchObject({ detail: { field: '/scene_info/h5_info' } });
    expect((await call(sim, 'POST', `${COMBINE}/jsapi`, body(sim, { combine_payer_info: { openid: 'oX' } }))).status).toBe(200);
  });

  it('checks the merchants: combine_mchid, combine_appid, each sub-merchant and its sub_appid', async () => {
    const c = sim.credentials;
    const before = sim.listOrders().length;
    expect((await call(sim, 'POST', `${COMBINE}/native`, body(sim, { combine_mchid: '1230000999', sub_orders: [subOrder(sim, SUB, { mchid: '1230000999' })] }))).json).toMatchObject({ code: 'INVALID_REQUEST' });
    expect((await call(sim, 'POST', `${COMBINE}/native`, body(sim, { combine_appid: 'wx0000000000000000' }))).json).toMatchObject({ code: 'APPID_MCHID_NOT_MATCH' });
    expect((await call(sim, 'POST', `${COMBINE}/native`, body(sim, { sub_orders: [subOrder(sim, '1900000999')] }))).json).toMatchObject({ code: 'MCH_NOT_EXISTS' });
    expect((await call(sim, 'POST', `${COMBINE}/native`, body(sim, { sub_orders: [subOrder(sim, '1900000199')] }))).json).toMatchObject({ code: 'NO_AUTH' });
    expect((await call(sim, 'POST', `${COMBINE}/native`, body(sim, { sub_orders: [subOrder(sim, c.spMchid)] }))).json).toMatchObject({ code: 'INVALID_REQUEST' });
    const wrongAppid = (await call(sim, 'POST', `${COMBINE}/native`, body(sim, { sub_orders: [subOrder(sim, SUB, { sub_appid: c.subMerchants[1].subAppid })] }))).json;
    expect(wrongAppid).toMatchObject({ code: 'APPID_MCHID_NOT_MATCH' });
    expect((await call(sim, 'POST', `${COMBINE}/native`, body(sim), '1230000999')).status).toBe(401);
    expect(sim.listOrders()).toHaveLength(before);
  });

  it('query and close name the order in the path; close checks its body', async () => {
    expect((await call(sim, 'GET', `${COMBINE}/out-trade-no/${no('C')}`)).json).toMatchObject({ code: 'ORDER_NOT_EXIST' });
    expect((await call(sim, 'GET', `${COMBINE}/out-trade-no/a%20b`)).json).toMatchObject({ code: 'PARAM_ERROR', detail: { location: 'path' } });
    const b = body(sim);
    expect((await call(sim, 'POST', `${COMBINE}/native`, b)).status).toBe(200);
    const close = `${COMBINE}/out-trade-no/${String(b.combine_out_trade_no)}/close`;
    expect((await call(sim, 'POST', close, { sub_orders: b.sub_orders as Json[] })).json).toMatchObject({ code: 'PARAM_ERROR', detail: { field: '/combine_appid' } });
    const noSubMchid = (b.sub_orders as Json[]).map(({ mchid, out_trade_no }) => ({ mchid, out_trade_no }));
    expect((await call(sim, 'POST', close, { combine_appid: sim.credentials.spAppid, sub_orders: noSubMchid })).json).toMatchObject({ detail: { field: '/sub_orders/0/sub_mchid' } });
    const full = (b.sub_orders as Json[]).map(({ mchid, out_trade_no, sub_mchid }) => ({ mchid, out_trade_no, sub_mchid }));
    const otherMchid = full.map((s, i) => (i === 0 ? { ...s, mchid: '1230000999' } : s));
    expect((await call(sim, 'POST', close, { combine_appid: sim.credentials.spAppid, sub_orders: otherMchid })).json).toMatchObject({ code: 'INVALID_REQUEST' });
    const twice = [full[0], full[0], full[1]];
    expect((await call(sim, 'POST', close, { combine_appid: sim.credentials.spAppid, sub_orders: twice })).json).toMatchObject({ code: 'INVALID_REQUEST' });
    expect((await call(sim, 'POST', close, { combine_appid: sim.credentials.spAppid, sub_orders: full })).status).toBe(204);
  });
});

describe('options for the UNVERIFIED limits', () => {
  it('maxSubOrders: 10 mimics a direct merchant; outTradeNoPattern narrows combine_out_trade_no', async () => {
    const sim = await simulator({ combine: { maxSubOrders: 10, outTradeNoPattern: /^[0-9A-Za-z_-]{6,32}$/ } });
    const eleven = body(sim, { sub_orders: Array.from({ length: 11 }, () => subOrder(sim)) });
    expect((await call(sim, 'POST', `${COMBINE}/native`, eleven)).json).toMatchObject({ code: 'PARAM_ERROR', detail: { field: '/sub_orders' } });
    expect((await call(sim, 'POST', `${COMBINE}/native`, body(sim, { combine_out_trade_no: 'C@12345' }))).json).toMatchObject({ detail: { field: '/combine_out_trade_no' } });
    expect((await call(sim, 'POST', `${COMBINE}/native`, body(sim, { sub_orders: Array.from({ length: 10 }, () => subOrder(sim)) }))).status).toBe(200);
    await expect(WechatPaySimulator.start({ combine: { maxSubOrders: 0 } })).rejects.toThrow('combine.maxSubOrders');
  });

  it('by default the widest combine_out_trade_no charset is accepted (with @, from 2 characters)', async () => {
    const sim = await simulator();
    expect((await call(sim, 'POST', `${COMBINE}/native`, body(sim, { combine_out_trade_no: `C@${seq++}` }))).status).toBe(200);
  });
});

describe('payment and notification', () => {
  it.each<[string, SimulatorOptions, string]>([
    ['transaction (default)', {}, 'transaction'],
    ["'' (the official sample)", { combine: { notificationAssociatedData: '' } }, ''],
  ])('one signed notification for the whole cart, AAD %s; the single-order query does not find the sub-orders', async (_n, options, aad) => {
    const sim = await simulator(options);
    const r = await receiver();
    const b = body(sim, {}, r.url);
    const ordered = await call(sim, 'POST', `${COMBINE}/app`, b);
    expect(ordered.status).toBe(200);
    expect(ordered.json.prepay_id).toMatch(/^wx/);
    const paid = await fetch(`${sim.baseUrl}/__sim/pay-combine`, { method: 'POST', body: JSON.stringify({ combine_out_trade_no: b.combine_out_trade_no, openid: 'oPayer' }) });
    expect(paid.status).toBe(200);
    await sim.notifications.flush();
    expect(r.received).toHaveLength(1);
    const { headers, raw } = r.received[0];
    expect(verifiesSigned(sim, (n) => String(headers[n] ?? ''), raw)).toBe(true);
    const envelope = JSON.parse(raw.toString('utf8')) as { event_type: string; resource: { original_type: string; associated_data: string; ciphertext: string; nonce: string } };
    expect(envelope).toMatchObject({ event_type: 'TRANSACTION.SUCCESS', resource: { original_type: 'transaction', associated_data: aad } });
    const resource = JSON.parse(aesGcmDecrypt(Buffer.from(sim.credentials.apiV3Key), envelope.resource).toString('utf8')) as Json;
    const query = await call(sim, 'GET', `${COMBINE}/out-trade-no/${String(b.combine_out_trade_no)}`);
    expect(resource).toEqual(query.json);
    expect(resource).toMatchObject({ combine_out_trade_no: b.combine_out_trade_no, combine_payer_info: { openid: 'oPayer' } });
    expect(resource).not.toHaveProperty('trade_state');
    const subs = resource.sub_orders as Array<{ trade_state: string; transaction_id: string; trade_type: string; sub_mchid: string }>;
    expect(subs.map((s) => [s.trade_state, s.trade_type])).toEqual([['SUCCESS', 'APP'], ['SUCCESS', 'APP'], ['SUCCESS', 'APP']]);
    for (const s of subs) {
      const byId = await call(sim, 'GET', `/v3/pay/partner/transactions/id/${s.transaction_id}?sp_mchid=${sim.credentials.spMchid}&sub_mchid=${s.sub_mchid}`);
      expect(byId.json).toMatchObject({ code: 'ORDER_NOT_EXIST' });
    }
    const closeSingle = await call(sim, 'POST', `/v3/pay/partner/transactions/out-trade-no/${String((b.sub_orders as Json[])[0].out_trade_no)}/close`, { sp_mchid: sim.credentials.spMchid, sub_mchid: SUB });
    expect(closeSingle.json).toMatchObject({ code: 'ORDER_NOT_EXIST' });
  });

  it('the cashier page refuses an expired combine link; the tooling lists combine orders', async () => {
    let now = Date.now();
    const sim = await simulator({ clock: () => now });
    const b = body(sim);
    const { json } = await call(sim, 'POST', `${COMBINE}/native`, b);
    now += 121 * 60_000;
    expect((await fetch(sim.cashierUrl(String(json.code_url)))).status).toBe(410);
    const pay = await fetch(`${sim.baseUrl}/__sim/cashier/pay`, { method: 'POST', body: JSON.stringify({ pr: new URL(String(json.code_url).replace('weixin://', 'http://x/')).searchParams.get('pr') }) });
    expect(pay.status).toBe(400);
    const list = (await (await fetch(`${sim.baseUrl}/__sim/combine-orders`)).json()) as Json[];
    expect(list.map((c) => c.combine_out_trade_no)).toEqual([b.combine_out_trade_no]);
  });

  it('the state file keeps combine orders and their sub-orders', async () => {
    const sim = await simulator();
    const b = body(sim);
    await call(sim, 'POST', `${COMBINE}/native`, b);
    await sim.payCombine(String(b.combine_out_trade_no));
    const state = JSON.parse(JSON.stringify(sim.exportState())) as ReturnType<WechatPaySimulator['exportState']>;
    const copy = await simulator({ credentials: sim.credentials });
    copy.importState(state);
    expect(copy.getCombineOrder(String(b.combine_out_trade_no))).toEqual(sim.getCombineOrder(String(b.combine_out_trade_no)));
    expect((await call(copy, 'GET', `${COMBINE}/out-trade-no/${String(b.combine_out_trade_no)}`)).json).toEqual((await call(sim, 'GET', `${COMBINE}/out-trade-no/${String(b.combine_out_trade_no)}`)).json);
  });
});
