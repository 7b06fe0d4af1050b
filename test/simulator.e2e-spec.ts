/**
 * The simulator over real HTTP: requests are signed with our core crypto (buildRequestMessage + rsaSign +
 * formatAuthorization) and sent with plain fetch; answers are verified with buildResponseMessage + rsaVerify.
 * Nothing here uses the module's HTTP client.
 */
import { generateKeyPairSync, type KeyObject, X509Certificate } from 'node:crypto';
import {
  aesGcmDecrypt,
  buildRequestMessage,
  buildResponseMessage,
  formatAuthorization,
  generateNonce,
  keysMatch,
  loadPrivateKey,
  loadPublicKey,
  rsaSign,
  rsaVerify,
} from '../lib/core/crypto';
import { resolveWechatPayConfig } from '../lib/core/config/resolve-config';
import { WechatPaySimulator, SIMULATOR_ERRORS, type SimulatorCredentials } from '../lib/testing';

type Json = Record<string, unknown>;

interface Reply {
  status: number;
  headers: Headers;
  raw: Buffer;
  json: Json;
}

interface CallOptions {
  body?: Json | string;
  /** Authorization overrides; `null` sends no Authorization at all. */
  authorization?: string | null;
  mchid?: string;
  serial?: string;
  timestamp?: number;
  key?: KeyObject;
  /** Sign this body but send `body`. */
  signedBody?: string;
  /** Sign this URL but request `url`. */
  signedUrl?: string;
  headers?: Record<string, string>;
}

const SUB = '1900000109';
const SUB2 = '1900000110';
const ORDERS = '/v3/pay/partner/transactions';

let sim: WechatPaySimulator;
let creds: Readonly<SimulatorCredentials>;
let merchantKey: KeyObject;
let seq = 0;

function nextOutTradeNo(prefix = 'T'): string {
  return `${prefix}${Date.now()}${String(++seq).padStart(4, '0')}`;
}

async function call(target: WechatPaySimulator, method: string, url: string, o: CallOptions = {}): Promise<Reply> {
  const c = target.credentials;
  const body = o.body === undefined ? '' : typeof o.body === 'string' ? o.body : JSON.stringify(o.body);
  const timestamp = String(o.timestamp ?? Math.floor(Date.now() / 1000));
  const nonce = generateNonce();
  const signature = rsaSign(buildRequestMessage(method, o.signedUrl ?? url, timestamp, nonce, o.signedBody ?? body), o.key ?? merchantKey);
  const authorization =
    o.authorization !== undefined
      ? o.authorization
      : formatAuthorization({ mchid: o.mchid ?? c.spMchid, nonce_str: nonce, timestamp, serial_no: o.serial ?? c.merchantSerialNo, signature });
  const headers: Record<string, string> = { Accept: 'application/json', 'User-Agent': 'simulator-e2e/1.0', ...o.headers };
  if (authorization !== null) headers.Authorization = authorization;
  if (body) headers['Content-Type'] = 'application/json';
  const res = await fetch(target.baseUrl + url, { method, headers, body: body || undefined });
  const raw = Buffer.from(await res.arrayBuffer());
  const text = raw.toString('utf8');
  return { status: res.status, headers: res.headers, raw, json: text && res.headers.get('content-type')?.includes('json') ? (JSON.parse(text) as Json) : {} };
}

/** Verifies an answer's signature with the key its Wechatpay-Serial names (public key or certificate PEM). */
function verifies(target: WechatPaySimulator, r: Reply, pem?: string): boolean {
  const serial = r.headers.get('wechatpay-serial') ?? '';
  const keyPem = pem ?? target.verificationKeys()[serial];
  if (!keyPem) return false;
  const message = buildResponseMessage(r.headers.get('wechatpay-timestamp') ?? '', r.headers.get('wechatpay-nonce') ?? '', r.raw);
  return rsaVerify(message, r.headers.get('wechatpay-signature') ?? '', loadPublicKey(keyPem));
}

function order(scene: 'jsapi' | 'app' | 'h5' | 'native', extra: Json = {}): Json {
  const base: Json = {
    sp_appid: creds.spAppid,
    sp_mchid: creds.spMchid,
    sub_mchid: SUB,
    description: 'Image形象店-深圳腾大-QQ公仔',
    out_trade_no: nextOutTradeNo(),
    notify_url: 'https://merchant.example.com/wechatpay/notify',
    amount: { total: 100, currency: 'CNY' },
  };
  if (scene === 'jsapi') base.payer = { sp_openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' };
  if (scene === 'h5') base.scene_info = { payer_client_ip: '127.0.0.1', h5_info: { type: 'Wap' } };
  return { ...base, ...extra };
}

function queryUrl(outTradeNo: string, sub = SUB): string {
  return `${ORDERS}/out-trade-no/${outTradeNo}?sp_mchid=${creds.spMchid}&sub_mchid=${sub}`;
}

async function create(scene: 'jsapi' | 'app' | 'h5' | 'native', extra: Json = {}): Promise<{ body: Json; reply: Reply }> {
  const body = order(scene, extra);
  const reply = await call(sim, 'POST', `${ORDERS}/${scene}`, { body });
  expect(reply.status).toBe(200);
  return { body, reply };
}

beforeAll(async () => {
  sim = await WechatPaySimulator.start();
  creds = sim.credentials;
  merchantKey = loadPrivateKey(creds.merchantPrivateKeyPem);
});

afterAll(() => sim.close());

describe('request authentication (spec §1)', () => {
  const certificates = '/v3/certificates';

  it('accepts a correctly signed request and signs every answer header', async () => {
    const r = await call(sim, 'GET', certificates);
    expect(r.status).toBe(200);
    expect(r.headers.get('wechatpay-nonce')).toMatch(/^[0-9a-f]{32}$/);
    expect(r.headers.get('wechatpay-signature-type')).toBe('WECHATPAY2-SHA256-RSA2048');
    expect(r.headers.get('request-id')).toMatch(/^[0-9A-F]+-0$/);
    expect(r.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(Math.abs(Number(r.headers.get('wechatpay-timestamp')) - Date.now() / 1000)).toBeLessThan(5);
    expect(verifies(sim, r)).toBe(true);
  });

  it('accepts the Authorization pairs in any order (PHP / axios order)', async () => {
    const timestamp = String(Math.floor(Date.now() / 1000));
    const nonce = generateNonce();
    const signature = rsaSign(buildRequestMessage('GET', certificates, timestamp, nonce, ''), merchantKey);
    const authorization = `WECHATPAY2-SHA256-RSA2048 mchid="${creds.spMchid}",serial_no="${creds.merchantSerialNo}",timestamp="${timestamp}",nonce_str="${nonce}",signature="${signature}"`;
    expect((await call(sim, 'GET', certificates, { authorization })).status).toBe(200);
  });

  const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  const cases: Array<[string, CallOptions, RegExp]> = [
    ['a missing Authorization', { authorization: null }, /Authorization/],
    ['a malformed Authorization', { authorization: 'WECHATPAY2-SHA256-RSA2048 mchid=1230000109' }, /Authorization/],
    ['another scheme', { authorization: 'Bearer abc' }, /Authorization/],
    ['an unknown serial_no', { serial: '5157F09EFDC096DE15EBE81A47057A7232F1B8E1' }, /商户证书序列号有误/],
    ['a signature by another key', { key: otherKey }, /签名错误/],
    ['a timestamp in milliseconds', { timestamp: Date.now() }, /seconds/],
    ['an mchid that is not the provider', { mchid: '1999999999' }, /sp_mchid|service provider/],
  ];

  it.each(cases)('rejects %s with 401 SIGN_ERROR and a useful message', async (_name, options, message) => {
    const r = await call(sim, 'GET', certificates, options);
    expect(r.status).toBe(401);
    expect(r.json.code).toBe('SIGN_ERROR');
    expect(r.json.message).toMatch(message);
    expect(r.headers.get('request-id')).toMatch(/-268443699$/);
  });

  it('accepts exactly ±300 s of clock skew and rejects ±301 s (fixed simulator clock, so no second can tick)', async () => {
    const fixed = Math.floor(Date.now() / 1000) * 1000 + 500;
    const s = await WechatPaySimulator.start({ credentials: creds, clock: () => fixed });
    try {
      const at = (skew: number): Promise<Reply> => call(s, 'GET', certificates, { timestamp: Math.floor(fixed / 1000) + skew });
      expect((await at(-300)).status).toBe(200);
      expect((await at(300)).status).toBe(200);
      const old = await at(-301);
      expect([old.status, old.json.code]).toEqual([401, 'SIGN_ERROR']);
      expect(old.json.message).toMatch(/301 s behind/);
      const ahead = await at(301);
      expect([ahead.status, ahead.json.code]).toEqual([401, 'SIGN_ERROR']);
      expect(ahead.json.message).toMatch(/301 s ahead/);
    } finally {
      await s.close();
    }
  });

  it('rejects a body altered after signing', async () => {
    const body = order('native');
    const r = await call(sim, 'POST', `${ORDERS}/native`, { body, signedBody: JSON.stringify({ ...body, amount: { total: 1 } }) });
    expect(r.status).toBe(401);
    expect(r.json.code).toBe('SIGN_ERROR');
  });

  it('verifies over the raw request target: a re-ordered query does not verify', async () => {
    const { body } = await create('native');
    const url = queryUrl(body.out_trade_no as string);
    const reordered = `${ORDERS}/out-trade-no/${body.out_trade_no}?sub_mchid=${SUB}&sp_mchid=${creds.spMchid}`;
    expect((await call(sim, 'GET', url, { signedUrl: reordered })).status).toBe(401);
    expect((await call(sim, 'GET', reordered)).status).toBe(200);
  });

  it('verifies the exact body bytes, e.g. the trailing newline of Go clients', async () => {
    const r = await call(sim, 'POST', `${ORDERS}/native`, { body: `${JSON.stringify(order('native'))}\n` });
    expect(r.status).toBe(200);
  });

  it('answers 400 with the documented message when Authorization mchid is not the body sp_mchid', async () => {
    const r = await call(sim, 'POST', `${ORDERS}/native`, { body: order('native'), mchid: SUB });
    expect(r.status).toBe(SIMULATOR_ERRORS.MCHID_MISMATCH.status);
    expect(r.json).toMatchObject({ code: 'INVALID_REQUEST', message: expect.stringContaining('http header中的mchid与post payload中的mchid不匹配') });
    const q = await call(sim, 'GET', `${ORDERS}/out-trade-no/T00000001?sp_mchid=1999999999&sub_mchid=${SUB}`);
    expect(q.status).toBe(400);
    expect(q.json.code).toBe('INVALID_REQUEST');
  });

  it('optionally requires User-Agent and rejects a replayed nonce [UNVERIFIED real behaviour]', async () => {
    const s = await WechatPaySimulator.start({ credentials: creds, requireUserAgent: true, rejectReplayedNonce: true });
    try {
      const noUa = await call(s, 'GET', certificates, { headers: { 'User-Agent': '' } });
      expect([noUa.status, noUa.json.code]).toEqual([400, 'PARAM_ERROR']);
      const timestamp = String(Math.floor(Date.now() / 1000));
      const signature = rsaSign(buildRequestMessage('GET', certificates, timestamp, 'REPLAYED', ''), merchantKey);
      const authorization = formatAuthorization({ mchid: creds.spMchid, nonce_str: 'REPLAYED', timestamp, serial_no: creds.merchantSerialNo, signature });
      expect((await call(s, 'GET', certificates, { authorization })).status).toBe(200);
      const replay = await call(s, 'GET', certificates, { authorization });
      expect([replay.status, replay.json.code]).toEqual([401, 'SIGN_ERROR']);
    } finally {
      await s.close();
    }
  });

  it('answers 404 for unknown APIs and 400 for oversized bodies', async () => {
    const unknown = await call(sim, 'GET', '/v3/profitsharing/merchant-configs/1900000109');
    expect([unknown.status, unknown.json.code]).toEqual([404, 'NOT_FOUND']);
    const s = await WechatPaySimulator.start({ credentials: creds, maxBodyBytes: 100 });
    try {
      const big = await call(s, 'POST', `${ORDERS}/native`, { body: order('native', { attach: 'x'.repeat(120) }) });
      expect([big.status, big.json.code]).toEqual([400, 'PARAM_ERROR']);
    } finally {
      await s.close();
    }
  });

  it('logs every request, so a test can assert what the simulator saw', async () => {
    const before = sim.requests.length;
    await call(sim, 'GET', certificates, { authorization: null });
    expect(sim.requests.slice(before)).toEqual([expect.objectContaining({ method: 'GET', path: certificates, status: 401, code: 'SIGN_ERROR' })]);
  });
});

describe('orders (spec §4)', () => {
  it.each([
    ['jsapi', 'prepay_id', /^wx\d{14}[0-9a-f]{20}$/],
    ['app', 'prepay_id', /^wx\d{14}[0-9a-f]{20}$/],
    ['native', 'code_url', /^weixin:\/\/wxpay\/bizpayurl\?pr=[0-9A-Za-z]+$/],
    ['h5', 'h5_url', /\/__sim\/cashier\?prepay_id=wx\d{14}[0-9a-f]{20}&package=\d{10}$/],
  ] as const)('creates a %s order answering %s', async (scene, field, pattern) => {
    const { reply } = await create(scene);
    expect(Object.keys(reply.json)).toEqual([field]);
    expect(reply.json[field]).toMatch(pattern);
    if (scene === 'h5') expect(String(reply.json.h5_url).startsWith(sim.baseUrl)).toBe(true);
    expect(verifies(sim, reply)).toBe(true);
  });

  it('answers an unpaid order in the observed NOTPAY shape, keys sorted', async () => {
    const { body } = await create('native', { attach: 'a=1', scene_info: { payer_client_ip: '10.0.0.1', device_id: 'POS-1' } });
    const r = await call(sim, 'GET', queryUrl(body.out_trade_no as string));
    expect(r.status).toBe(200);
    expect(verifies(sim, r)).toBe(true);
    expect(r.json).toEqual({
      amount: { currency: 'CNY', payer_currency: 'CNY', total: 100 },
      attach: 'a=1',
      out_trade_no: body.out_trade_no,
      promotion_detail: [],
      scene_info: { device_id: 'POS-1' },
      sp_appid: creds.spAppid,
      sp_mchid: creds.spMchid,
      sub_mchid: SUB,
      trade_state: 'NOTPAY',
      trade_state_desc: '订单未支付',
    });
    expect(Object.keys(r.json)).toEqual(Object.keys(r.json).sort());
  });

  it.each([
    ['jsapi', 'JSAPI'],
    ['app', 'APP'],
    ['h5', 'MWEB'],
    ['native', 'NATIVE'],
  ] as const)('pays a %s order: SUCCESS with transaction_id, payer and trade_type %s', async (scene, tradeType) => {
    const { body } = await create(scene, { sub_appid: 'wxd678efh567hg6999' });
    const paid = await sim.pay(body.out_trade_no as string, { bank_type: 'CMB_DEBIT' });
    expect(paid.transactionId).toMatch(/^42\d{26}$/);
    const r = await call(sim, 'GET', `${ORDERS}/id/${paid.transactionId}?sp_mchid=${creds.spMchid}&sub_mchid=${SUB}`);
    expect(r.status).toBe(200);
    expect(verifies(sim, r)).toBe(true);
    expect(r.json).toMatchObject({
      trade_state: 'SUCCESS',
      trade_state_desc: '支付成功',
      trade_type: tradeType,
      transaction_id: paid.transactionId,
      bank_type: 'CMB_DEBIT',
      sub_appid: 'wxd678efh567hg6999',
      amount: { total: 100, payer_total: 100, currency: 'CNY', payer_currency: 'CNY' },
      payer: { sp_openid: expect.any(String), sub_openid: expect.any(String) },
    });
    expect(r.json.success_time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+08:00$/);
    if (scene === 'jsapi') expect((r.json.payer as Json).sp_openid).toBe('oUpF8uMuAJO_M2pxb1Q9zNjWeS6o');
  });

  it('keeps a failed payment attempt NOTPAY', async () => {
    const { body } = await create('native');
    const attempt = await sim.pay(body.out_trade_no as string, { fail: true });
    expect(attempt).toMatchObject({ tradeState: 'NOTPAY', failedAttempts: 1 });
    expect(attempt.transactionId).toBeUndefined();
    expect((await call(sim, 'GET', queryUrl(body.out_trade_no as string))).json.trade_state).toBe('NOTPAY');
  });

  it('closes with 204 signed over the empty body, re-entrantly; then re-ordering is ORDER_CLOSED', async () => {
    const { body } = await create('jsapi');
    const closeUrl = `${ORDERS}/out-trade-no/${body.out_trade_no}/close`;
    for (let i = 0; i < 2; i++) {
      const r = await call(sim, 'POST', closeUrl, { body: { sp_mchid: creds.spMchid, sub_mchid: SUB } });
      expect(r.status).toBe(204);
      expect(r.raw.length).toBe(0);
      expect(verifies(sim, r)).toBe(true);
    }
    expect((await call(sim, 'GET', queryUrl(body.out_trade_no as string))).json).toMatchObject({ trade_state: 'CLOSED' });
    const again = await call(sim, 'POST', `${ORDERS}/jsapi`, { body });
    expect([again.status, again.json.code]).toEqual([400, 'ORDER_CLOSED']);
  });

  it('refuses to close or re-order a paid order (ORDER_PAID)', async () => {
    const { body } = await create('native');
    await sim.pay(body.out_trade_no as string);
    const close = await call(sim, 'POST', `${ORDERS}/out-trade-no/${body.out_trade_no}/close`, { body: { sp_mchid: creds.spMchid, sub_mchid: SUB } });
    expect([close.status, close.json.code]).toEqual([400, 'ORDER_PAID']);
    const again = await call(sim, 'POST', `${ORDERS}/native`, { body });
    expect([again.status, again.json.code]).toEqual([400, 'ORDER_PAID']);
    await expect(sim.pay(body.out_trade_no as string)).rejects.toMatchObject({ code: 'ORDER_PAID' });
  });

  it('re-entry: identical parameters (any key order) give a new usable prepay_id; different ones 403 OUT_TRADE_NO_USED', async () => {
    const { body, reply } = await create('jsapi');
    const reordered = Object.fromEntries(Object.entries(body).reverse());
    const again = await call(sim, 'POST', `${ORDERS}/jsapi`, { body: reordered });
    expect(again.status).toBe(200);
    expect(again.json.prepay_id).not.toBe(reply.json.prepay_id);
    expect(sim.getOrder(SUB, body.out_trade_no as string)?.prepayIds).toEqual([reply.json.prepay_id, again.json.prepay_id]);
    const changed = await call(sim, 'POST', `${ORDERS}/jsapi`, { body: { ...body, amount: { total: 101, currency: 'CNY' } } });
    expect([changed.status, changed.json.code]).toEqual([403, 'OUT_TRADE_NO_USED']);
    const otherScene = await call(sim, 'POST', `${ORDERS}/native`, { body: { ...body, payer: undefined } });
    expect(otherScene.json.code).toBe('OUT_TRADE_NO_USED');
  });

  it('answers 404 ORDER_NOT_EXIST for unknown orders and for another sub-merchant', async () => {
    const { body } = await create('native');
    const unknown = await call(sim, 'GET', queryUrl('NOPE000001'));
    expect([unknown.status, unknown.json.code]).toEqual([404, 'ORDER_NOT_EXIST']);
    const wrongSub = await call(sim, 'GET', queryUrl(body.out_trade_no as string, SUB2));
    expect([wrongSub.status, wrongSub.json.code]).toEqual([404, 'ORDER_NOT_EXIST']);
    const byId = await call(sim, 'GET', `${ORDERS}/id/4200000000000000000000000000?sp_mchid=${creds.spMchid}&sub_mchid=${SUB}`);
    expect([byId.status, byId.json.code]).toEqual([404, 'ORDER_NOT_EXIST']);
    const close = await call(sim, 'POST', `${ORDERS}/out-trade-no/NOPE000001/close`, { body: { sp_mchid: creds.spMchid, sub_mchid: SUB } });
    expect(close.status).toBe(404);
  });

  it.each([
    ['sub_mchid equal to sp_mchid', { sub_mchid: '1230000109' }, 400, 'INVALID_REQUEST'],
    ['an unknown sub_mchid', { sub_mchid: '1900009999' }, 400, 'MCH_NOT_EXISTS'],
    ['an unauthorized sub-merchant', { sub_mchid: '1900000199' }, 403, 'NO_AUTH'],
    ['an sp_appid not bound to sp_mchid', { sp_appid: 'wx0000000000000000' }, 400, 'APPID_MCHID_NOT_MATCH'],
    ['a sub_appid not bound to sub_mchid', { sub_appid: 'wx0000000000000000' }, 400, 'APPID_MCHID_NOT_MATCH'],
  ])('rejects %s', async (_name, extra, status, code) => {
    const r = await call(sim, 'POST', `${ORDERS}/native`, { body: order('native', extra) });
    expect([r.status, r.json.code]).toEqual([status, code]);
    expect(verifies(sim, r)).toBe(true);
  });

  it('expires unpaid orders at time_expire, by the simulator clock', async () => {
    const t0 = Date.now();
    const s = await WechatPaySimulator.start({ credentials: creds, clock: () => t0 });
    try {
      const deadline = new Date(t0 + 10 * 60_000 + 8 * 3600_000).toISOString().slice(0, 19) + '+08:00';
      const body = order('native', { time_expire: deadline });
      expect((await call(s, 'POST', `${ORDERS}/native`, { body, timestamp: Math.floor(t0 / 1000) })).status).toBe(200);
      s.setClock(() => t0 + 11 * 60_000);
      const r = await call(s, 'GET', queryUrl(body.out_trade_no as string), { timestamp: Math.floor(s.now() / 1000) });
      expect(r.json).toMatchObject({ trade_state: 'CLOSED', trade_state_desc: '订单已关闭' });
      expect(Number(r.headers.get('wechatpay-timestamp'))).toBe(Math.floor(s.now() / 1000));
      await expect(s.pay(body.out_trade_no as string)).rejects.toMatchObject({ code: 'ORDER_CLOSED' });
      // The request clock is checked against the simulator clock too.
      expect((await call(s, 'GET', queryUrl(body.out_trade_no as string), { timestamp: Math.floor(t0 / 1000) })).status).toBe(401);
    } finally {
      await s.close();
    }
  });

  it('bumps a time_expire earlier than now + 1 minute to now + 1 minute', async () => {
    const { body } = await create('native', { time_expire: '2020-01-01T00:00:00+08:00' });
    const stored = sim.getOrder(SUB, body.out_trade_no as string)!;
    expect(stored.timeExpire - stored.createdAt).toBe(60_000);
  });

  it('can require out_trade_no to be unique across sub-merchants (strictOutTradeNoScope)', async () => {
    const s = await WechatPaySimulator.start({ credentials: creds, strictOutTradeNoScope: true });
    try {
      const body = order('native');
      expect((await call(s, 'POST', `${ORDERS}/native`, { body })).status).toBe(200);
      const other = await call(s, 'POST', `${ORDERS}/native`, { body: { ...body, sub_mchid: SUB2 } });
      expect([other.status, other.json.code]).toEqual([403, 'OUT_TRADE_NO_USED']);
    } finally {
      await s.close();
    }
  });
});

describe('validation: 400 PARAM_ERROR with detail (spec §4.1, §9.1)', () => {
  const long = (n: number): string => 'x'.repeat(n);
  const cases: Array<[string, 'jsapi' | 'app' | 'h5' | 'native', Json, string]> = [
    ['missing description', 'native', { description: undefined }, '/description'],
    ['description of 128 characters', 'native', { description: long(128) }, '/description'],
    ['amount.total 0', 'native', { amount: { total: 0 } }, '/amount/total'],
    ['amount.total 1.5', 'native', { amount: { total: 1.5 } }, '/amount/total'],
    ['amount.total as a string', 'native', { amount: { total: '100' } }, '/amount/total'],
    ['missing amount', 'native', { amount: undefined }, '/amount'],
    ['currency USD', 'native', { amount: { total: 1, currency: 'USD' } }, '/amount/currency'],
    ['out_trade_no of 5 characters', 'native', { out_trade_no: 'T1234' }, '/out_trade_no'],
    ['out_trade_no of 33 characters', 'native', { out_trade_no: long(33) }, '/out_trade_no'],
    ['out_trade_no with #', 'native', { out_trade_no: 'T1234#5678' }, '/out_trade_no'],
    ['time_expire without offset', 'native', { time_expire: '2030-05-20T10:00:00' }, '/time_expire'],
    ['time_expire not RFC 3339', 'native', { time_expire: '2030-05-20 10:00:00' }, '/time_expire'],
    ['notify_url with a query string', 'native', { notify_url: 'https://m.example.com/n?a=1' }, '/notify_url'],
    ['a relative notify_url', 'native', { notify_url: '/notify' }, '/notify_url'],
    ['an ftp notify_url', 'native', { notify_url: 'ftp://m.example.com/n' }, '/notify_url'],
    ['attach of 129 characters', 'native', { attach: long(129) }, '/attach'],
    ['goods_tag of 33 characters', 'native', { goods_tag: long(33) }, '/goods_tag'],
    ['an unknown top-level field', 'native', { foo: 1 }, '/foo'],
    ['an unknown nested field', 'native', { amount: { total: 1, fen: 1 } }, '/amount/fen'],
    ['payer on a native order', 'native', { payer: { sp_openid: 'o1' } }, '/payer'],
    ['h5_info on a native order', 'native', { scene_info: { payer_client_ip: '1.1.1.1', h5_info: { type: 'Wap' } } }, '/scene_info/h5_info'],
    ['scene_info without payer_client_ip', 'native', { scene_info: { device_id: 'd' } }, '/scene_info/payer_client_ip'],
    ['an emoji in description', 'native', { description: 'QQ公仔 😀' }, '/description'],
    ['a goods_detail item without merchant_goods_id', 'native', { detail: { goods_detail: [{ quantity: 1, unit_price: 1 }] } }, '/detail/goods_detail/0/merchant_goods_id'],
    ['a JSAPI order without payer', 'jsapi', { payer: undefined }, '/payer'],
    ['a JSAPI payer without openid', 'jsapi', { payer: {} }, '/payer'],
    ['sub_openid without sub_appid', 'jsapi', { payer: { sub_openid: 'o2' } }, '/sub_appid'],
    ['an H5 order without scene_info', 'h5', { scene_info: undefined }, '/scene_info'],
    ['an H5 order without h5_info', 'h5', { scene_info: { payer_client_ip: '1.1.1.1' } }, '/scene_info/h5_info'],
    ['an H5 type that does not exist', 'h5', { scene_info: { payer_client_ip: '1.1.1.1', h5_info: { type: 'Desktop' } } }, '/scene_info/h5_info/type'],
    ['missing sp_appid', 'app', { sp_appid: undefined }, '/sp_appid'],
  ];

  it.each(cases)('rejects %s', async (_name, scene, extra, field) => {
    const body = JSON.parse(JSON.stringify(order(scene, extra))) as Json;
    const r = await call(sim, 'POST', `${ORDERS}/${scene}`, { body });
    expect(r.status).toBe(400);
    expect(r.json.code).toBe('PARAM_ERROR');
    expect(r.json.detail).toMatchObject({ field, location: 'body', issue: expect.any(String) });
    expect(r.json.message).toContain(field);
  });

  it('puts the bad value in detail.value', async () => {
    const r = await call(sim, 'POST', `${ORDERS}/native`, { body: order('native', { amount: { total: 0 } }) });
    expect(r.json.detail).toEqual({ field: '/amount/total', value: 0, issue: 'must be at least 1', location: 'body' });
  });

  it('rejects invalid JSON and a non-object body', async () => {
    for (const body of ['{"sp_mchid":', '[1,2]']) {
      const r = await call(sim, 'POST', `${ORDERS}/native`, { body });
      expect([r.status, r.json.code]).toEqual([400, 'PARAM_ERROR']);
    }
  });

  it('validates query and path parameters', async () => {
    const q = await call(sim, 'GET', `${ORDERS}/out-trade-no/T12345678?sp_mchid=${creds.spMchid}`);
    expect(q.json).toMatchObject({ code: 'PARAM_ERROR', detail: { field: '/sub_mchid', location: 'query' } });
    const p = await call(sim, 'GET', `${ORDERS}/out-trade-no/T1?sp_mchid=${creds.spMchid}&sub_mchid=${SUB}`);
    expect(p.json).toMatchObject({ code: 'PARAM_ERROR', detail: { field: '/out_trade_no', location: 'path' } });
    const close = await call(sim, 'POST', `${ORDERS}/out-trade-no/T12345678/close`, { body: { sp_mchid: creds.spMchid } });
    expect(close.json).toMatchObject({ code: 'PARAM_ERROR', detail: { field: '/sub_mchid' } });
  });

  it('accepts every optional field of the spec', async () => {
    const { reply } = await create('jsapi', {
      sub_appid: 'wxd678efh567hg6999',
      payer: { sp_openid: 'o1', sub_openid: 'o2' },
      time_expire: '2099-01-01T00:00:00+08:00',
      attach: 'x',
      goods_tag: 'WXG',
      support_fapiao: false,
      limit_pay: ['no_credit'],
      settle_info: { profit_sharing: true },
      detail: { cost_price: 100, invoice_id: 'inv', goods_detail: [{ merchant_goods_id: 'g1', goods_name: 'n', quantity: 1, unit_price: 100 }] },
      scene_info: { payer_client_ip: '::1', device_id: 'dev', store_info: { id: 's1', name: 'n', area_code: '440305', address: 'a' } },
      out_trade_no: `A_b-c|d*${seq++}xyz`,
    });
    expect(reply.json.prepay_id).toBeDefined();
  });
});

describe('certificates and response keys (spec §2.5, §8)', () => {
  function decryptCertificates(r: Reply, apiV3Key: string): Array<{ serial: string; pem: string; item: Json }> {
    return (r.json.data as Json[]).map((item) => {
      const enc = item.encrypt_certificate as { algorithm: string; nonce: string; associated_data: string; ciphertext: string };
      expect(enc).toMatchObject({ algorithm: 'AEAD_AES_256_GCM', associated_data: 'certificate' });
      expect(enc.nonce).toHaveLength(12);
      return { serial: item.serial_no as string, pem: aesGcmDecrypt(Buffer.from(apiV3Key), enc).toString('utf8'), item };
    });
  }

  it('serves certificates that decrypt with the APIv3 key; the answer verifies with the downloaded certificate', async () => {
    const r = await call(sim, 'GET', '/v3/certificates');
    const certs = decryptCertificates(r, creds.apiV3Key);
    expect(certs).toHaveLength(1);
    const x509 = new X509Certificate(certs[0].pem);
    expect(x509.serialNumber.toUpperCase()).toBe(certs[0].serial);
    expect(keysMatch(x509.publicKey, loadPrivateKey(creds.platformCertificates[0].privateKeyPem))).toBe(true);
    expect(certs[0].serial).toMatch(/^[0-9A-F]{40}$/);
    expect(certs[0].item.effective_time).toMatch(/\+08:00$/);
    expect(r.headers.get('wechatpay-serial')).toBe(certs[0].serial);
    expect(verifies(sim, r, certs[0].pem)).toBe(true);
    expect(new Date(String(certs[0].item.expire_time)).getTime()).toBe(new Date(x509.validTo).getTime());
  });

  it('chooses the answer key by the request Wechatpay-Serial, else the default mode', async () => {
    const certSerial = creds.platformCertificates[0].serialNo;
    const byCert = await call(sim, 'GET', queryUrl('NOPE000001'), { headers: { 'Wechatpay-Serial': certSerial } });
    expect(byCert.headers.get('wechatpay-serial')).toBe(certSerial);
    expect(verifies(sim, byCert, creds.platformCertificates[0].certificatePem)).toBe(true);
    const byKey = await call(sim, 'POST', `${ORDERS}/native`, { body: order('native'), headers: { 'Wechatpay-Serial': creds.publicKeyId } });
    expect(byKey.headers.get('wechatpay-serial')).toBe(creds.publicKeyId);
    expect(verifies(sim, byKey, creds.publicKeyPem)).toBe(true);
    const unknown = await call(sim, 'POST', `${ORDERS}/native`, { body: order('native'), headers: { 'Wechatpay-Serial': 'PUB_KEY_ID_0000' } });
    expect(unknown.headers.get('wechatpay-serial')).toBe(creds.publicKeyId);

    const s = await WechatPaySimulator.start({ credentials: creds, signWith: 'platformCertificate' });
    try {
      const r = await call(s, 'POST', `${ORDERS}/native`, { body: order('native') });
      expect(r.headers.get('wechatpay-serial')).toBe(certSerial);
      expect(verifies(s, r)).toBe(true);
    } finally {
      await s.close();
    }
  });

  it('serves two certificates and signs with the newest (platformCertificateCount 2)', async () => {
    const s = await WechatPaySimulator.start({ platformCertificateCount: 2 });
    try {
      const r = await call(s, 'GET', '/v3/certificates');
      const certs = decryptCertificates(r, s.credentials.apiV3Key);
      expect(certs).toHaveLength(2);
      const newest = s.credentials.platformCertificates[1];
      expect(r.headers.get('wechatpay-serial')).toBe(newest.serialNo);
      expect(verifies(s, r, certs.find((c) => c.serial === newest.serialNo)!.pem)).toBe(true);
    } finally {
      await s.close();
    }
  });

  it('rotates: the new certificate signs, the old one stays listed until it expires', async () => {
    const s = await WechatPaySimulator.start({ credentials: creds });
    try {
      const old = s.credentials.platformCertificates[0];
      const rotated = await s.rotatePlatformCertificate({ retireOldAfterMs: 3600_000, signAfterMs: 0 });
      expect(rotated.serialNo).not.toBe(old.serialNo);
      const r = await call(s, 'GET', '/v3/certificates');
      const certs = decryptCertificates(r, creds.apiV3Key);
      expect(certs.map((c) => c.serial).sort()).toEqual([old.serialNo, rotated.serialNo].sort());
      expect(r.headers.get('wechatpay-serial')).toBe(rotated.serialNo);
      expect(verifies(s, r, rotated.certificatePem)).toBe(true);
      expect(s.credentials.platformCertificates.map((c) => c.serialNo)).toEqual([old.serialNo, rotated.serialNo]);
      // A request that still names the old certificate gets an answer signed by it.
      const byOld = await call(s, 'GET', queryUrl('NOPE000001'), { headers: { 'Wechatpay-Serial': old.serialNo } });
      expect(verifies(s, byOld, old.certificatePem)).toBe(true);
      // After the old one's (moved) expiry, only the new one is listed.
      s.setClock(() => Date.now() + 2 * 3600_000);
      const later = await call(s, 'GET', '/v3/certificates', { timestamp: Math.floor(s.now() / 1000) });
      expect(decryptCertificates(later, creds.apiV3Key).map((c) => c.serial)).toEqual([rotated.serialNo]);
      expect(creds.platformCertificates).toHaveLength(1); // the caller's credentials were not mutated
    } finally {
      await s.close();
    }
  });

  it('rotates as WeChat Pay does: the new certificate is listed 24 h before it signs; the list is signed by the certificate the request names', async () => {
    const s = await WechatPaySimulator.start({ credentials: creds, signWith: 'platformCertificate' });
    try {
      const old = s.credentials.platformCertificates[0];
      const rotated = await s.rotatePlatformCertificate();
      // Listed at once, so that clients learn it ahead of the switch, but the one in force still signs.
      const listed = await call(s, 'GET', '/v3/certificates');
      expect(decryptCertificates(listed, creds.apiV3Key).map((c) => c.serial).sort()).toEqual([old.serialNo, rotated.serialNo].sort());
      expect(listed.headers.get('wechatpay-serial')).toBe(old.serialNo);
      expect(verifies(s, listed, old.certificatePem)).toBe(true);
      const o = await call(s, 'POST', `${ORDERS}/native`, { body: order('native') });
      expect(o.headers.get('wechatpay-serial')).toBe(old.serialNo);
      expect(s.signedNotification('TRANSACTION.SUCCESS', {}).headers['Wechatpay-Serial']).toBe(old.serialNo);
      // A client that already knows the new certificate and names it gets the list signed by it.
      const byNew = await call(s, 'GET', '/v3/certificates', { headers: { 'Wechatpay-Serial': rotated.serialNo } });
      expect(byNew.headers.get('wechatpay-serial')).toBe(rotated.serialNo);
      expect(verifies(s, byNew, rotated.certificatePem)).toBe(true);
      // 24 h later the new certificate is in force and signs.
      s.setClock(() => Date.now() + 24 * 3600_000 + 60_000);
      const later = await call(s, 'GET', '/v3/certificates', { timestamp: Math.floor(s.now() / 1000) });
      expect(later.headers.get('wechatpay-serial')).toBe(rotated.serialNo);
      expect(s.signedNotification('TRANSACTION.SUCCESS', {}).headers['Wechatpay-Serial']).toBe(rotated.serialNo);
    } finally {
      await s.close();
    }
  });

  it('public-key-only merchants get 404 RESOURCE_NOT_EXISTS from /v3/certificates and public-key signatures', async () => {
    const s = await WechatPaySimulator.start({ credentials: creds, publicKeyOnly: true, signWith: 'platformCertificate' });
    try {
      const r = await call(s, 'GET', '/v3/certificates');
      expect(r.status).toBe(404);
      expect(r.json).toEqual({ code: 'RESOURCE_NOT_EXISTS', message: '无可用的平台证书，请在商户平台-API安全申请使用微信支付公钥' });
      const o = await call(s, 'POST', `${ORDERS}/native`, { body: order('native'), headers: { 'Wechatpay-Serial': creds.platformCertificates[0].serialNo } });
      expect(o.headers.get('wechatpay-serial')).toBe(creds.publicKeyId);
      expect(verifies(s, o, creds.publicKeyPem)).toBe(true);
      expect(s.credentials.platformCertificates).toEqual([]);
      await expect(s.rotatePlatformCertificate()).rejects.toThrow(/publicKeyOnly/);
    } finally {
      await s.close();
    }
  });
});

describe('faults', () => {
  afterEach(() => sim.faults.clear());

  it('answers an injected status with a JSON error body, for `times` matching requests only', async () => {
    sim.faults.next({ path: `${ORDERS}/native`, method: 'POST', status: 500, times: 2 });
    const body = order('native');
    for (let i = 0; i < 2; i++) {
      const r = await call(sim, 'POST', `${ORDERS}/native`, { body });
      expect([r.status, r.json.code]).toEqual([500, 'SYSTEM_ERROR']);
      expect(verifies(sim, r)).toBe(true);
    }
    expect(sim.getOrder(SUB, body.out_trade_no as string)).toBeUndefined();
    expect((await call(sim, 'POST', `${ORDERS}/native`, { body })).status).toBe(200);
  });

  it('matches by RegExp and method, with a custom code and message', async () => {
    sim.faults.next({ path: /\/out-trade-no\/[^/]+$/, method: 'GET', status: 429, code: 'FREQUENCY_LIMITED', message: 'slow down' });
    expect((await call(sim, 'POST', `${ORDERS}/native`, { body: order('native') })).status).toBe(200);
    const r = await call(sim, 'GET', queryUrl('NOPE000001'));
    expect([r.status, r.json.code, r.json.message]).toEqual([429, 'FREQUENCY_LIMITED', 'slow down']);
    expect(r.headers.get('request-id')).toMatch(/-268447840$/);
  });

  it('delays an answer long enough for a client timeout; the request is still processed', async () => {
    sim.faults.next({ path: `${ORDERS}/native`, delayMs: 400 });
    const body = order('native');
    const timestamp = String(Math.floor(Date.now() / 1000));
    const nonce = generateNonce();
    const text = JSON.stringify(body);
    const signature = rsaSign(buildRequestMessage('POST', `${ORDERS}/native`, timestamp, nonce, text), merchantKey);
    const authorization = formatAuthorization({ mchid: creds.spMchid, nonce_str: nonce, timestamp, serial_no: creds.merchantSerialNo, signature });
    const started = Date.now();
    await expect(
      fetch(`${sim.baseUrl}${ORDERS}/native`, { method: 'POST', headers: { Authorization: authorization, 'Content-Type': 'application/json' }, body: text, signal: AbortSignal.timeout(100) }),
    ).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(350);
    await new Promise((r) => setTimeout(r, 450));
    expect(sim.getOrder(SUB, body.out_trade_no as string)?.tradeState).toBe('NOTPAY');
  });

  it('resets the connection without processing, or after processing (answer lost)', async () => {
    sim.faults.next({ path: `${ORDERS}/native`, resetConnection: true });
    const lost = order('native');
    await expect(call(sim, 'POST', `${ORDERS}/native`, { body: lost })).rejects.toThrow();
    expect(sim.getOrder(SUB, lost.out_trade_no as string)).toBeUndefined();
    expect(sim.requests[sim.requests.length - 1]).toMatchObject({ status: 0, code: 'RESET' });

    sim.faults.next({ path: `${ORDERS}/native`, resetConnection: true, afterProcessing: true });
    const processed = order('native');
    await expect(call(sim, 'POST', `${ORDERS}/native`, { body: processed })).rejects.toThrow();
    expect(sim.getOrder(SUB, processed.out_trade_no as string)?.tradeState).toBe('NOTPAY');
    // The client's retry with the identical body succeeds (re-entry).
    expect((await call(sim, 'POST', `${ORDERS}/native`, { body: processed })).status).toBe(200);
  });

  it('spoils the signature (badSignature) or the body (flipBillByte) of a valid answer', async () => {
    sim.faults.next({ path: '/v3/certificates', badSignature: true });
    const bad = await call(sim, 'GET', '/v3/certificates');
    expect(bad.status).toBe(200);
    expect(bad.headers.get('wechatpay-signature')).toMatch(/^[A-Za-z0-9+/]{342}==$/);
    expect(verifies(sim, bad)).toBe(false);
    sim.faults.next({ path: `${ORDERS}/native`, flipBillByte: true });
    const flipped = await call(sim, 'POST', `${ORDERS}/native`, { body: order('native') });
    expect(verifies(sim, flipped)).toBe(false);
    expect(verifies(sim, await call(sim, 'GET', '/v3/certificates'))).toBe(true);
  });

  it('clear() drops queued faults', async () => {
    sim.faults.next({ status: 503 });
    expect(sim.faults.pending).toBe(1);
    sim.faults.clear();
    expect((await call(sim, 'GET', '/v3/certificates')).status).toBe(200);
  });
});

describe('cashier pages and /__sim/pay', () => {
  async function cashierAction(action: 'pay' | 'cancel', token: Json): Promise<{ status: number; json: Json }> {
    const r = await fetch(`${sim.baseUrl}/__sim/cashier/${action}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(token) });
    return { status: r.status, json: (await r.json()) as Json };
  }

  it('gives JSAPI and App orders a cashier page by prepay_id, and refuses anything else', async () => {
    for (const scene of ['jsapi', 'app'] as const) {
      const { body, reply } = await create(scene);
      const url = sim.cashierUrl(reply.json.prepay_id as string);
      expect(url).toBe(`${sim.baseUrl}/__sim/cashier?prepay_id=${reply.json.prepay_id as string}`);
      const page = await fetch(url);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain(body.out_trade_no as string);
    }
    for (const bad of ['', 'https://example.com/pay', 'weixin://wxpay/bizpayurl', 'prepay_123']) {
      expect(() => sim.cashierUrl(bad)).toThrow('expected a Native code_url (weixin://wxpay/bizpayurl?pr=…) or a prepay_id (wx…)');
    }
  });

  it('shows a Native order after "scanning" its code_url, HTML-escaped, and pays it', async () => {
    const { body, reply } = await create('native', { description: '<script>alert("x")</script> & QQ公仔', amount: { total: 12345 } });
    const url = sim.cashierUrl(reply.json.code_url as string);
    expect(url.startsWith(`${sim.baseUrl}/__sim/cashier?pr=`)).toBe(true);
    const page = await fetch(url);
    const html = await page.text();
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(html).toContain('¥123.45');
    expect(html).toContain('&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62; &#38; QQ公仔');
    expect(html).not.toContain('<script>alert');
    expect(html).toMatch(/id="sim-pay"[^>]*>Pay \/ 支付</);
    expect(html).toMatch(/id="sim-cancel"[^>]*>Cancel \/ 取消</);
    expect(html).toContain('id="sim-result"');
    expect(html).toContain('腾讯充值中心 Test Shop');

    const pr = new URL(url).searchParams.get('pr')!;
    expect(await cashierAction('cancel', { pr })).toEqual({ status: 200, json: { result: 'cancelled', out_trade_no: body.out_trade_no } });
    expect(sim.getOrder(SUB, body.out_trade_no as string)?.tradeState).toBe('NOTPAY');
    const paid = await cashierAction('pay', { pr });
    expect(paid.json).toMatchObject({ result: 'paid', transaction_id: expect.stringMatching(/^42\d{26}$/) });
    expect(sim.getOrder(SUB, body.out_trade_no as string)?.tradeState).toBe('SUCCESS');
    expect((await cashierAction('pay', { pr })).json.code).toBe('ORDER_PAID');
    expect(await (await fetch(url)).text()).toMatch(/id="sim-result"[^>]*>paid</);
  });

  it('links back to redirect_url on H5 pages (never a javascript: URL) and expires the link after 5 minutes', async () => {
    const t0 = Date.now();
    const s = await WechatPaySimulator.start({ credentials: creds, clock: () => t0 });
    try {
      const r = await call(s, 'POST', `${ORDERS}/h5`, { body: order('h5') });
      const h5 = r.json.h5_url as string;
      const withRedirect = await (await fetch(`${h5}&redirect_url=${encodeURIComponent('https://shop.example.com/done?o=1&x="y"')}`)).text();
      expect(withRedirect).toContain('id="sim-return" href="https://shop.example.com/done?o=1&#38;x=%22y%22" hidden');
      const hostile = await (await fetch(`${h5}&redirect_url=${encodeURIComponent('javascript:alert(1)')}`)).text();
      expect(hostile).not.toContain('id="sim-return"');
      s.setClock(() => t0 + 6 * 60_000);
      const expired = await fetch(h5);
      expect(expired.status).toBe(410);
      expect(await (await fetch(`${s.baseUrl}/__sim/cashier?pr=unknown`)).text()).toContain('Unknown payment link');
    } finally {
      await s.close();
    }
  });

  it("runs the page's own script: clicking Pay posts to the simulator and shows 'paid' (minimal DOM, no browser needed)", async () => {
    const { body, reply } = await create('h5');
    const html = await (await fetch(`${reply.json.h5_url}&redirect_url=${encodeURIComponent('https://shop.example.com/done')}`)).text();
    const script = /<script>([\s\S]*)<\/script>/.exec(html)![1];
    const attr = (name: string): string => new RegExp(`${name}="([^"]*)"`).exec(html)![1];
    type FakeElement = { textContent: string; hidden: boolean; disabled: boolean; listeners: Array<() => void>; addEventListener(type: string, fn: () => void): void };
    const element = (): FakeElement => ({ textContent: '', hidden: true, disabled: false, listeners: [], addEventListener(_t, fn) { this.listeners.push(fn); } });
    const elements: Record<string, FakeElement> = { 'sim-result': element(), 'sim-return': element(), 'sim-pay': element(), 'sim-cancel': element() };
    const document = { body: { dataset: { param: attr('data-param'), token: attr('data-token') } }, getElementById: (id: string) => elements[id] };
    const pageFetch = (path: string, init: RequestInit): Promise<Response> => fetch(sim.baseUrl + path, init);
    new Function('document', 'fetch', script)(document, pageFetch);
    elements['sim-pay'].listeners[0]();
    for (let i = 0; i < 100 && !elements['sim-result'].textContent; i++) await new Promise((r) => setTimeout(r, 10));
    expect(elements['sim-result'].textContent).toBe('paid');
    expect(elements['sim-return'].hidden).toBe(false);
    expect(sim.getOrder(SUB, body.out_trade_no as string)?.tradeState).toBe('SUCCESS');
  });

  it('POST /__sim/pay pays by out_trade_no without authentication', async () => {
    const { body } = await create('app');
    const r = await fetch(`${sim.baseUrl}/__sim/pay`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ sub_mchid: SUB, out_trade_no: body.out_trade_no, payer_openid: 'oPAYER', bank_type: 'ICBC_CREDIT' }),
    });
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ trade_state: 'SUCCESS', payer: { sp_openid: 'oPAYER' }, bank_type: 'ICBC_CREDIT', trade_type: 'APP' });
    const missing = await fetch(`${sim.baseUrl}/__sim/pay`, { method: 'POST', body: JSON.stringify({ out_trade_no: 'NOPE000001' }) });
    expect(missing.status).toBe(404);
  });
});

describe('module options', () => {
  it('produces options that the module configuration accepts', () => {
    const config = resolveWechatPayConfig(sim.moduleOptions());
    expect(config).toMatchObject({ baseUrl: sim.baseUrl, spMchid: creds.spMchid, merchantSerialNo: creds.merchantSerialNo });
    expect(config.verification).toMatchObject({ mode: 'publicKey', publicKeyId: creds.publicKeyId });
    const pc = sim.moduleOptions({ verification: { mode: 'platformCertificate' }, timeoutMs: 1000 });
    expect(pc.verification).toEqual({ mode: 'platformCertificate' });
    expect(pc.timeoutMs).toBe(1000);
  });
});
