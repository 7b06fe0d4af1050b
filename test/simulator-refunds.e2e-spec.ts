/**
 * The simulator's refunds over real HTTP (spec §10, §6.3), without the module: requests are signed with
 * the core at the simulator clock (test/helpers/sim-http.ts) and sent with fetch; answers and
 * notifications are verified with the core (buildResponseMessage + rsaVerify) and decrypted with aesGcmDecrypt.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { aesGcmDecrypt, buildRequestMessage, loadPublicKey, parseCertificate, rsaOaepEncrypt } from '../lib/core/crypto';
import { parseRfc3339 } from '../lib/core/time';
import { SIMULATOR_ERRORS, type SimulatorOptions, WechatPaySimulator } from '../lib/testing';
import { type Json, notifyReceiver, type Reply, signedCall, verifiesSigned } from './helpers/sim-http';

interface Received {
  headers: IncomingHttpHeaders;
  raw: Buffer;
}

const SUB = '1900000109';
const SUB2 = '1900000110';
const REFUNDS = '/v3/refund/domestic/refunds';
const running: Array<{ close(): Promise<void> }> = [];
let seq = 0;

function no(prefix: string): string {
  return `${prefix}${Date.now()}${String(++seq).padStart(4, '0')}`;
}

async function simulator(options: SimulatorOptions = {}): Promise<WechatPaySimulator> {
  const sim = await WechatPaySimulator.start({ refundMode: 'manual', notificationTimeScale: 0, ...options });
  running.push(sim);
  return sim;
}

/** A signed request; a Buffer body is sent and signed as exact bytes. */
function call(sim: WechatPaySimulator, method: string, url: string, body?: Json | Buffer, mchid?: string): Promise<Reply> {
  return signedCall(sim, method, url, { body, mchid });
}

const verifies = verifiesSigned;

const receiver = () => notifyReceiver(running);

/** Creates a Native order through the signed API and pays it; returns its ids. */
async function paidOrder(sim: WechatPaySimulator, total: number, notifyUrl: string, sub = SUB, at?: number): Promise<{ outTradeNo: string; transactionId: string }> {
  const c = sim.credentials;
  const outTradeNo = no('T');
  const body = { sp_appid: c.spAppid, sp_mchid: c.spMchid, sub_mchid: sub, description: '退款测试', out_trade_no: outTradeNo, notify_url: notifyUrl, amount: { total } };
  expect((await call(sim, 'POST', '/v3/pay/partner/transactions/native', body)).status).toBe(200);
  const paid = await sim.pay(outTradeNo, { sub_mchid: sub, at });
  return { outTradeNo, transactionId: paid.transactionId! };
}

function refundBody(order: { outTradeNo: string }, refund: number, total: number, extra: Json = {}): Json {
  return { sub_mchid: SUB, out_trade_no: order.outTradeNo, out_refund_no: no('R'), amount: { refund, total, currency: 'CNY' }, ...extra };
}

function decrypt(sim: WechatPaySimulator, r: Received): { envelope: Json; resource: Json } {
  const envelope = JSON.parse(r.raw.toString('utf8')) as Json;
  const resource = envelope.resource as { ciphertext: string; nonce: string; associated_data: string };
  return { envelope, resource: JSON.parse(aesGcmDecrypt(Buffer.from(sim.credentials.apiV3Key), resource).toString('utf8')) as Json };
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.close()));
});

describe('POST /v3/refund/domestic/refunds', () => {
  it('accepts a partial refund: a signed PROCESSING Refund, the order turns REFUND, the query answers the same', async () => {
    const sim = await simulator();
    const order = await paidOrder(sim, 1000, 'http://127.0.0.1:9/notify');
    const body = refundBody(order, 300, 1000, { reason: '商品已售完' });
    const r = await call(sim, 'POST', REFUNDS, body);
    expect(r.status).toBe(200);
    expect(verifies(sim, (n) => r.headers.get(n) ?? '', r.raw)).toBe(true);
    expect(Object.keys(r.json)).toEqual([...Object.keys(r.json)].sort());
    expect(r.json).toEqual({
      amount: { currency: 'CNY', discount_refund: 0, from: [], payer_refund: 300, payer_total: 1000, refund: 300, settlement_refund: 300, settlement_total: 1000, total: 1000 },
      channel: 'ORIGINAL',
      create_time: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+08:00$/),
      funds_account: 'AVAILABLE',
      out_refund_no: body.out_refund_no,
      out_trade_no: order.outTradeNo,
      promotion_detail: [],
      refund_id: expect.stringMatching(/^5030\d{25}$/),
      status: 'PROCESSING',
      transaction_id: order.transactionId,
      user_received_account: '支付用户零钱',
    });
    expect(sim.transaction(SUB, order.outTradeNo)).toMatchObject({ trade_state: 'REFUND', trade_state_desc: '转入退款', transaction_id: order.transactionId });

    const q = await call(sim, 'GET', `${REFUNDS}/${String(body.out_refund_no)}?sub_mchid=${SUB}`);
    expect(q.status).toBe(200);
    expect(verifies(sim, (n) => q.headers.get(n) ?? '', q.raw)).toBe(true);
    expect(q.json).toEqual(r.json);
  });

  it('refunds by transaction_id too, and several partial refunds up to the total; one fen more is refused', async () => {
    const sim = await simulator();
    const order = await paidOrder(sim, 1000, 'http://127.0.0.1:9/notify');
    const byId = { sub_mchid: SUB, transaction_id: order.transactionId, out_refund_no: no('R'), amount: { refund: 600, total: 1000, currency: 'CNY' } };
    expect((await call(sim, 'POST', REFUNDS, byId)).json).toMatchObject({ out_trade_no: order.outTradeNo, status: 'PROCESSING' });
    expect((await call(sim, 'POST', REFUNDS, refundBody(order, 400, 1000))).status).toBe(200);
    const over = await call(sim, 'POST', REFUNDS, refundBody(order, 1, 1000));
    expect([over.status, over.json.code]).toEqual([400, 'INVALID_REQUEST']);
    expect(over.json.message).toContain('退款金额超过订单可退金额');
    expect(sim.listRefunds().filter((x) => x.outTradeNo === order.outTradeNo).map((x) => x.amount.refund)).toEqual([600, 400]);
  });

  it('is idempotent on out_refund_no: the same body gives the same refund, a different body 400 INVALID_REQUEST', async () => {
    const sim = await simulator();
    const order = await paidOrder(sim, 500, 'http://127.0.0.1:9/notify');
    const body = refundBody(order, 100, 500);
    const first = await call(sim, 'POST', REFUNDS, body);
    // Same parameters, other key order: still the same request.
    const again = await call(sim, 'POST', REFUNDS, Object.fromEntries(Object.entries(body).reverse()));
    expect(again.json).toEqual(first.json);
    const changed = await call(sim, 'POST', REFUNDS, { ...body, amount: { refund: 101, total: 500, currency: 'CNY' } });
    expect([changed.status, changed.json.code]).toEqual([400, 'INVALID_REQUEST']);
    expect(changed.json.message).toContain('参数与首次请求时不一致');
    expect(sim.listRefunds()).toHaveLength(1);
  });

  it.each<[string, (o: { outTradeNo: string; transactionId: string }) => Json, string, string]>([
    ['neither order id', (o) => ({ ...refundBody(o, 1, 100), out_trade_no: undefined }), '/transaction_id', 'exactly one'],
    ['both order ids', (o) => refundBody(o, 1, 100, { transaction_id: o.transactionId }), '/transaction_id', 'exactly one'],
    ['out_refund_no charset', (o) => refundBody(o, 1, 100, { out_refund_no: 'R#1' }), '/out_refund_no', '[0-9A-Za-z_-|*@]'],
    ['out_refund_no length', (o) => refundBody(o, 1, 100, { out_refund_no: 'R'.repeat(65) }), '/out_refund_no', '1-64'],
    ['refund 0', (o) => refundBody(o, 0, 100), '/amount/refund', 'at least 1'],
    ['fractional fen', (o) => refundBody(o, 1.5, 100), '/amount/refund', 'integer'],
    ['currency missing', (o) => ({ ...refundBody(o, 1, 100), amount: { refund: 1, total: 100 } }), '/amount/currency', 'required'],
    ['from not adding up', (o) => ({ ...refundBody(o, 10, 100), amount: { refund: 10, total: 100, currency: 'CNY', from: [{ account: 'AVAILABLE', amount: 9 }] } }), '/amount/from', 'add up'],
    ['unknown field', (o) => refundBody(o, 1, 100, { sp_mchid: '1230000109' }), '/sp_mchid', 'not a field'],
    ['notify_url with a query', (o) => refundBody(o, 1, 100, { notify_url: 'https://shop.example.com/n?x=1' }), '/notify_url', 'query'],
    ['total differs from the order', (o) => refundBody(o, 1, 99), '/amount/total', 'order total'],
  ])('answers 400 PARAM_ERROR with detail: %s', async (_name, make, field, issue) => {
    const sim = await simulator();
    const order = await paidOrder(sim, 100, 'http://127.0.0.1:9/notify');
    const body = JSON.parse(JSON.stringify(make(order))) as Json;
    const r = await call(sim, 'POST', REFUNDS, body);
    expect([r.status, r.json.code]).toEqual([400, 'PARAM_ERROR']);
    expect(r.json.detail).toMatchObject({ field, location: 'body' });
    expect(String((r.json.detail as Json).issue)).toContain(issue);
    expect(sim.listRefunds()).toEqual([]);
  });

  it('refuses unknown, other-sub-merchant, unpaid and year-old orders (UNVERIFIED labels from the table)', async () => {
    const sim = await simulator();
    const order = await paidOrder(sim, 100, 'http://127.0.0.1:9/notify');
    const unknown = await call(sim, 'POST', REFUNDS, { ...refundBody(order, 1, 100), out_trade_no: 'T_NO_SUCH_ORDER' });
    expect([unknown.status, unknown.json.code]).toEqual([404, 'RESOURCE_NOT_EXISTS']);
    const otherSub = await call(sim, 'POST', REFUNDS, { ...refundBody(order, 1, 100), sub_mchid: SUB2 });
    expect([otherSub.status, otherSub.json.code]).toEqual([404, 'RESOURCE_NOT_EXISTS']);

    const c = sim.credentials;
    const unpaid = no('T');
    await call(sim, 'POST', '/v3/pay/partner/transactions/native', { sp_appid: c.spAppid, sp_mchid: c.spMchid, sub_mchid: SUB, description: 'x', out_trade_no: unpaid, notify_url: 'https://a.example/n', amount: { total: 100 } });
    const notPaid = await call(sim, 'POST', REFUNDS, refundBody({ outTradeNo: unpaid }, 1, 100));
    expect([notPaid.status, notPaid.json.code]).toEqual([SIMULATOR_ERRORS.REFUND_ORDER_NOT_PAID.status, 'INVALID_REQUEST']);

    const old = await paidOrder(sim, 100, 'http://127.0.0.1:9/notify', SUB, sim.now() - 366 * 86_400_000);
    const late = await call(sim, 'POST', REFUNDS, refundBody(old, 1, 100));
    expect([late.status, late.json.code]).toEqual([400, 'INVALID_REQUEST']);
    expect(late.json.message).toContain('退款期限');
    expect(sim.listRefunds()).toEqual([]);
  });

  it('passes an injected NOT_ENOUGH through without creating the refund', async () => {
    const sim = await simulator();
    const order = await paidOrder(sim, 100, 'http://127.0.0.1:9/notify');
    sim.faults.next({ path: REFUNDS, method: 'POST', status: 403, code: 'NOT_ENOUGH', message: '余额不足' });
    const r = await call(sim, 'POST', REFUNDS, refundBody(order, 1, 100));
    expect([r.status, r.json.code, r.json.message]).toEqual([403, 'NOT_ENOUGH', '余额不足']);
    expect(sim.listRefunds()).toEqual([]);
  });

  it('verifies the signature over the raw body bytes: a body that is not UTF-8 authenticates, then is refused as such', async () => {
    const sim = await simulator();
    // The Buffer form of the canonical message is the string form's bytes for UTF-8 text…
    const text = '{"reason":"退款"}';
    expect(buildRequestMessage('POST', REFUNDS, 1, 'n', Buffer.from(text)).equals(Buffer.from(buildRequestMessage('POST', REFUNDS, 1, 'n', text)))).toBe(true);
    // …and keeps bytes that decoding would have replaced by U+FFFD.
    const bytes = Buffer.concat([Buffer.from('{"sub_mchid":"1900000109","reason":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);
    const r = await call(sim, 'POST', REFUNDS, bytes);
    expect([r.status, r.json.code]).toEqual([400, 'PARAM_ERROR']);
    expect(r.json.message).toContain('UTF-8');
  });
});

describe('GET /v3/refund/domestic/refunds/{out_refund_no}', () => {
  it('answers 404 RESOURCE_NOT_EXISTS for an unknown refund and 400 without sub_mchid', async () => {
    const sim = await simulator();
    const missing = await call(sim, 'GET', `${REFUNDS}/R_NOPE?sub_mchid=${SUB}`);
    expect([missing.status, missing.json.code]).toEqual([404, 'RESOURCE_NOT_EXISTS']);
    const noSub = await call(sim, 'GET', `${REFUNDS}/R_NOPE`);
    expect([noSub.status, noSub.json.code, (noSub.json.detail as Json).field]).toEqual([400, 'PARAM_ERROR', '/sub_mchid']);
  });

  it('finds an out_refund_no with | * @ sent percent-encoded', async () => {
    const sim = await simulator();
    const order = await paidOrder(sim, 100, 'http://127.0.0.1:9/notify');
    const outRefundNo = `R|a*b@${seq}`;
    expect((await call(sim, 'POST', REFUNDS, refundBody(order, 1, 100, { out_refund_no: outRefundNo }))).status).toBe(200);
    const q = await call(sim, 'GET', `${REFUNDS}/${encodeURIComponent(outRefundNo)}?sub_mchid=${SUB}`);
    expect([q.status, q.json.out_refund_no]).toEqual([200, outRefundNo]);
  });
});

describe('refund lifecycle and REFUND.* notifications (spec §6.3)', () => {
  it('manual completion: SUCCESS, ABNORMAL and CLOSED each notify once with the right envelope and resource', async () => {
    const sim = await simulator();
    const rx = await receiver();
    const order = await paidOrder(sim, 1000, 'http://127.0.0.1:9/order-notify');
    const bodies = [100, 200, 300].map((refund) => refundBody(order, refund, 1000, { notify_url: rx.url }));
    for (const b of bodies) expect((await call(sim, 'POST', REFUNDS, b)).status).toBe(200);
    const [ok, abnormal, closed] = bodies.map((b) => String(b.out_refund_no));
    expect(sim.completeRefund(ok).status).toBe('SUCCESS');
    sim.completeRefund(abnormal, { status: 'ABNORMAL' });
    sim.completeRefund(closed, { status: 'CLOSED', sub_mchid: SUB });
    expect(() => sim.completeRefund(ok)).toThrow(/already SUCCESS/);
    await sim.notifications.flush();

    expect(rx.received).toHaveLength(3);
    const byRefund = new Map(rx.received.map((r) => [String(decrypt(sim, r).resource.out_refund_no), r]));
    const expected: Array<[string, string, string, number]> = [
      [ok, 'REFUND.SUCCESS', '退款成功', 100],
      [abnormal, 'REFUND.ABNORMAL', '退款异常', 200],
      [closed, 'REFUND.CLOSED', '退款关闭', 300],
    ];
    for (const [outRefundNo, eventType, summary, amount] of expected) {
      const delivery = byRefund.get(outRefundNo)!;
      expect(verifies(sim, (n) => String(delivery.headers[n] ?? ''), delivery.raw)).toBe(true);
      const { envelope, resource } = decrypt(sim, delivery);
      expect(envelope).toMatchObject({ event_type: eventType, summary, resource_type: 'encrypt-resource', resource: { original_type: 'refund', associated_data: 'refund', algorithm: 'AEAD_AES_256_GCM' } });
      const refund = sim.getRefund(outRefundNo)!;
      expect(resource).toEqual({
        sp_mchid: sim.credentials.spMchid,
        sub_mchid: SUB,
        transaction_id: order.transactionId,
        out_trade_no: order.outTradeNo,
        refund_id: refund.refundId,
        out_refund_no: outRefundNo,
        refund_status: eventType.slice('REFUND.'.length),
        ...(eventType === 'REFUND.SUCCESS' ? { success_time: expect.stringMatching(/\+08:00$/) } : {}),
        user_received_account: '支付用户零钱',
        amount: { total: 1000, refund: amount, payer_total: 1000, payer_refund: amount },
      });
    }
    const query = await call(sim, 'GET', `${REFUNDS}/${ok}?sub_mchid=${SUB}`);
    expect(query.json).toMatchObject({ status: 'SUCCESS', success_time: expect.stringMatching(/\+08:00$/) });
    expect((await call(sim, 'GET', `${REFUNDS}/${closed}?sub_mchid=${SUB}`)).json).not.toHaveProperty('success_time');
    // A CLOSED refund gives its amount back: 1000 - 100 - 200 = 700 is refundable again.
    expect((await call(sim, 'POST', REFUNDS, refundBody(order, 700, 1000))).status).toBe(200);
    expect((await call(sim, 'POST', REFUNDS, refundBody(order, 1, 1000))).status).toBe(400);
  });

  it('auto mode: PROCESSING, then SUCCESS after refundDelayMs; notifies the order notify_url when the refund has none', async () => {
    const rx = await receiver();
    const sim = await simulator({ refundMode: 'auto', refundDelayMs: 30 });
    const order = await paidOrder(sim, 500, rx.url);
    await sim.notifications.flush();
    rx.received.length = 0; // the TRANSACTION.SUCCESS
    const body = refundBody(order, 500, 500);
    expect((await call(sim, 'POST', REFUNDS, body)).json.status).toBe('PROCESSING');
    await sim.notifications.flush();
    expect(sim.getRefund(String(body.out_refund_no))!.status).toBe('SUCCESS');
    expect(rx.received.map((r) => decrypt(sim, r).envelope.event_type)).toEqual(['REFUND.SUCCESS']);
    const successTime = parseRfc3339(String(decrypt(sim, rx.received[0]).resource.success_time))!.getTime();
    expect(Math.abs(successTime - sim.now())).toBeLessThan(5000);
  });

  it('redeliver() sends the same notification again (same id and body, fresh signature)', async () => {
    const sim = await simulator();
    const rx = await receiver();
    const order = await paidOrder(sim, 100, 'http://127.0.0.1:9/n');
    const body = refundBody(order, 100, 100, { notify_url: rx.url });
    await call(sim, 'POST', REFUNDS, body);
    sim.completeRefund(String(body.out_refund_no));
    await sim.notifications.flush();
    const id = sim.deliveries.find((d) => d.eventType === 'REFUND.SUCCESS')!.notificationId;
    sim.redeliver(id);
    await sim.notifications.flush();
    expect(rx.received).toHaveLength(2);
    expect(rx.received[1].raw.equals(rx.received[0].raw)).toBe(true);
    expect(rx.received[1].headers['wechatpay-nonce']).not.toBe(rx.received[0].headers['wechatpay-nonce']);
    expect(() => sim.redeliver('no-such-id')).toThrow(/no notification/);
  });

  it('keeps refunds in exportState()/importState() and completes them from /__sim/refunds/complete', async () => {
    const sim = await simulator();
    const order = await paidOrder(sim, 100, 'http://127.0.0.1:9/n');
    const body = refundBody(order, 40, 100);
    await call(sim, 'POST', REFUNDS, body);
    const state = JSON.parse(JSON.stringify(sim.exportState())) as ReturnType<WechatPaySimulator['exportState']>;
    const restored = await simulator({ credentials: sim.credentials });
    restored.importState(state);
    expect(restored.refund(String(body.out_refund_no))).toEqual(sim.refund(String(body.out_refund_no)));
    const res = await fetch(`${restored.baseUrl}/__sim/refunds/complete`, { method: 'POST', body: JSON.stringify({ out_refund_no: body.out_refund_no, status: 'ABNORMAL' }) });
    expect(((await res.json()) as Json).status).toBe('ABNORMAL');
    const list = (await (await fetch(`${restored.baseUrl}/__sim/refunds`)).json()) as Json[];
    expect(list.map((r) => r.status)).toEqual(['ABNORMAL']);
    const again = await fetch(`${restored.baseUrl}/__sim/refunds/complete`, { method: 'POST', body: JSON.stringify({ out_refund_no: body.out_refund_no }) });
    expect(again.status).toBe(400);
  });

  it('rejects invalid refund options at start', async () => {
    await expect(WechatPaySimulator.start({ refundMode: 'later' as 'auto', feeRate: 2 })).rejects.toThrow(/refundMode.*feeRate/);
  });
});

describe('POST /v3/refund/domestic/refunds/{refund_id}/apply-abnormal-refund', () => {
  const CARD = '6222020200112233445';
  const NAME = '李四';

  /** An ABNORMAL refund and helpers to apply for it with fields encrypted for the simulator's public key. */
  async function abnormalRefund(sim: WechatPaySimulator): Promise<{ refundId: string; outRefundNo: string }> {
    const { url } = await receiver();
    const order = await paidOrder(sim, 300, url);
    const created = await call(sim, 'POST', REFUNDS, refundBody(order, 300, 300));
    expect(created.status).toBe(200);
    sim.completeRefund(String(created.json.out_refund_no), { status: 'ABNORMAL' });
    return { refundId: String(created.json.refund_id), outRefundNo: String(created.json.out_refund_no) };
  }

  function apply(sim: WechatPaySimulator, refundId: string, body: Json, serial?: string): Promise<Reply> {
    return signedCall(sim, 'POST', `${REFUNDS}/${refundId}/apply-abnormal-refund`, { body, headers: serial ? { 'Wechatpay-Serial': serial } : {} });
  }

  function encryptForPublicKey(sim: WechatPaySimulator, text: string): string {
    return rsaOaepEncrypt(text, loadPublicKey(sim.credentials.publicKeyPem));
  }

  it('decrypts the fields with the key Wechatpay-Serial names, answers PROCESSING, and accepts the same application again', async () => {
    const sim = await simulator();
    const { refundId, outRefundNo } = await abnormalRefund(sim);
    const cert = sim.credentials.platformCertificates[0];
    const body = {
      sub_mchid: SUB,
      out_refund_no: outRefundNo,
      type: 'USER_BANK_CARD',
      bank_type: 'CMB_DEBIT',
      bank_account: rsaOaepEncrypt(CARD, parseCertificate(cert.certificatePem).publicKey),
      real_name: rsaOaepEncrypt(NAME, parseCertificate(cert.certificatePem).publicKey),
    };
    const res = await apply(sim, refundId, body, cert.serialNo);
    expect(res.status).toBe(200);
    expect(verifies(sim, (n) => res.headers.get(n) ?? '', res.raw)).toBe(true);
    expect(res.json).toMatchObject({ refund_id: refundId, status: 'PROCESSING', channel: 'OTHER_BANKCARD', user_received_account: 'CMB_DEBIT3445' });
    expect(sim.getRefund(outRefundNo)?.abnormalRefund).toMatchObject({ type: 'USER_BANK_CARD', bankType: 'CMB_DEBIT', bankAccount: CARD, realName: NAME, serial: cert.serialNo });
    // Re-entry with the same (re-encrypted) fields answers the refund again [UNVERIFIED]; other fields are refused.
    const again = await apply(sim, refundId, { ...body, real_name: rsaOaepEncrypt(NAME, parseCertificate(cert.certificatePem).publicKey) }, cert.serialNo);
    expect(again.status).toBe(200);
    const other = await apply(sim, refundId, { ...body, bank_type: 'ICBC_DEBIT' }, cert.serialNo);
    expect([other.status, other.json.code]).toEqual([400, SIMULATOR_ERRORS.REFUND_NOT_ABNORMAL.code]);
    // Decrypted bank details are not written to --state-file.
    expect(JSON.stringify(sim.exportState())).not.toMatch(new RegExp(`${CARD}|${NAME}`));
    sim.completeRefund(outRefundNo);
    expect(sim.refund(outRefundNo)).toMatchObject({ status: 'SUCCESS' });
  });

  it('rejects fields encrypted for another key, a missing or unknown serial, and missing bank fields with 400 PARAM_ERROR', async () => {
    const sim = await simulator();
    const { refundId, outRefundNo } = await abnormalRefund(sim);
    const pubId = sim.credentials.publicKeyId;
    const certSerial = sim.credentials.platformCertificates[0].serialNo;
    const good = { sub_mchid: SUB, out_refund_no: outRefundNo, type: 'USER_BANK_CARD', bank_type: 'CMB_DEBIT', bank_account: encryptForPublicKey(sim, CARD), real_name: encryptForPublicKey(sim, NAME) };
    const cases: Array<[Json, string | undefined, string, string]> = [
      [good, certSerial, '/bank_account', 'body'], // encrypted for the public key, serial names a certificate
      [{ ...good, real_name: Buffer.from(NAME).toString('base64') }, pubId, '/real_name', 'body'], // not encrypted at all
      [good, undefined, 'Wechatpay-Serial', 'header'],
      [good, 'PUB_KEY_ID_0000000000000000000000000000', 'Wechatpay-Serial', 'header'],
      [{ ...good, bank_type: undefined }, pubId, '/bank_type', 'body'],
      [{ ...good, type: 'BALANCE' }, pubId, '/type', 'body'],
    ];
    for (const [body, serial, field, location] of cases) {
      const res = await apply(sim, refundId, JSON.parse(JSON.stringify(body)) as Json, serial);
      expect([res.status, res.json.code]).toEqual([400, 'PARAM_ERROR']);
      expect(res.json.detail).toMatchObject({ field, location });
      expect(res.raw.toString('utf8')).not.toContain(good.bank_account);
      expect(res.raw.toString('utf8')).not.toContain(good.real_name);
    }
    expect(sim.getRefund(outRefundNo)?.status).toBe('ABNORMAL');
    expect(sim.getRefund(outRefundNo)?.abnormalRefund).toBeUndefined();
    const ok = await apply(sim, refundId, good, pubId);
    expect([ok.status, ok.json.status]).toEqual([200, 'PROCESSING']);
  });

  it('answers 404 RESOURCE_NOT_EXISTS for an unknown refund_id and 400 for a refund that is not ABNORMAL', async () => {
    const sim = await simulator();
    const { url } = await receiver();
    const order = await paidOrder(sim, 300, url);
    const created = await call(sim, 'POST', REFUNDS, refundBody(order, 100, 300));
    const body = { sub_mchid: SUB, out_refund_no: String(created.json.out_refund_no), type: 'MERCHANT_BANK_CARD' };
    const missing = await apply(sim, '50300000000000000000000000000', body);
    expect([missing.status, missing.json.code]).toEqual([404, 'RESOURCE_NOT_EXISTS']);
    const processing = await apply(sim, String(created.json.refund_id), body);
    expect([processing.status, processing.json.code]).toEqual([SIMULATOR_ERRORS.REFUND_NOT_ABNORMAL.status, SIMULATOR_ERRORS.REFUND_NOT_ABNORMAL.code]);
    expect([SIMULATOR_ERRORS.ABNORMAL_REFUND_NOT_EXISTS.verified, SIMULATOR_ERRORS.REFUND_NOT_ABNORMAL.verified]).toEqual([false, false]);
  });
});
