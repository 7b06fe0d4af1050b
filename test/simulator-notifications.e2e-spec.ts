/**
 * Notifications from the simulator to a real node:http receiver: verified with the core (buildResponseMessage +
 * rsaVerify over the raw bytes), decrypted with the APIv3 key (aesGcmDecrypt), retried on WeChat's schedule, and
 * preceded by signature probes when asked.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { aesGcmDecrypt, buildResponseMessage, loadPublicKey, rsaVerify } from '../lib/core/crypto';
import { type Json, signedCall } from './helpers/sim-http';
import { buildSignedNotification, WechatPaySimulator, type SimulatorCredentials, type SimulatorOptions } from '../lib/testing';


interface Received {
  headers: IncomingHttpHeaders;
  raw: Buffer;
}

interface Receiver {
  url: string;
  received: Received[];
  close(): Promise<void>;
}

/** A notify_url; `answer` picks the status of each request (it sees the request and its index). */
async function startReceiver(answer: (r: Received, index: number) => number | 'hang'): Promise<Receiver> {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r = { headers: req.headers, raw: Buffer.concat(chunks) };
      received.push(r);
      const status = answer(r, received.length - 1);
      if (status === 'hang') return;
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(status < 300 ? '' : JSON.stringify({ code: 'FAIL', message: '失败' }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/wechatpay/notify`,
    received,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** What a correct merchant does: verify the signature over the raw body with the key named by Wechatpay-Serial. */
function verifiesWith(keys: Record<string, string>, r: Received): boolean {
  const h = (name: string): string => String(r.headers[name] ?? '');
  const pem = keys[h('wechatpay-serial')];
  return !!pem && rsaVerify(buildResponseMessage(h('wechatpay-timestamp'), h('wechatpay-nonce'), r.raw), h('wechatpay-signature'), loadPublicKey(pem));
}

function decrypt(apiV3Key: string, raw: Buffer): { envelope: Json; resource: Json } {
  const envelope = JSON.parse(raw.toString('utf8')) as Json;
  const resource = JSON.parse(aesGcmDecrypt(Buffer.from(apiV3Key), envelope.resource as { ciphertext: string; nonce: string }).toString('utf8')) as Json;
  return { envelope, resource };
}

/** Creates a Native order through the signed API and returns its out_trade_no. */
async function createOrder(sim: WechatPaySimulator, notifyUrl: string, total = 888): Promise<string> {
  const c = sim.credentials;
  const outTradeNo = `N${Date.now()}${Math.floor(Math.random() * 1e6)}`;
  const body = { sp_appid: c.spAppid, sp_mchid: c.spMchid, sub_mchid: '1900000109', description: '通知测试', out_trade_no: outTradeNo, notify_url: notifyUrl, amount: { total } };
  const reply = await signedCall(sim, 'POST', '/v3/pay/partner/transactions/native', { body });
  expect(reply.status).toBe(200);
  return outTradeNo;
}

let creds: Readonly<SimulatorCredentials>;
const running: Array<{ close(): Promise<void> }> = [];

async function simulator(options: SimulatorOptions = {}): Promise<WechatPaySimulator> {
  const sim = await WechatPaySimulator.start({ credentials: creds, ...options });
  running.push(sim);
  return sim;
}

async function receiver(answer: (r: Received, index: number) => number | 'hang'): Promise<Receiver> {
  const r = await startReceiver(answer);
  running.push(r);
  return r;
}

beforeAll(async () => {
  const first = await WechatPaySimulator.start();
  creds = first.credentials;
  await first.close();
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.close()));
});

describe('payment notifications (spec §6)', () => {
  it('delivers a verifiable, decryptable TRANSACTION.SUCCESS; retries after a 500 and stops at the 204', async () => {
    const sim = await simulator();
    const rx = await receiver((_r, i) => (i === 0 ? 500 : 204));
    const outTradeNo = await createOrder(sim, rx.url);
    const paid = await sim.pay(outTradeNo);
    await sim.notifications.flush();

    expect(sim.deliveries.map((d) => d.status)).toEqual([500, 204]);
    expect(sim.deliveries.map((d) => d.attempt)).toEqual([1, 2]);
    expect(sim.deliveries.every((d) => !d.probe && d.url === rx.url && d.eventType === 'TRANSACTION.SUCCESS')).toBe(true);
    expect(new Set(sim.deliveries.map((d) => d.notificationId)).size).toBe(1);
    expect(sim.deliveries[1].elapsedMs).toBeGreaterThanOrEqual(15); // 15 s × 0.001
    expect(rx.received).toHaveLength(2);

    for (const r of rx.received) {
      expect(r.headers['content-type']).toBe('application/json');
      expect(r.headers['user-agent']).toBeTruthy();
      expect(r.headers['wechatpay-signature-type']).toBe('WECHATPAY2-SHA256-RSA2048');
      expect(r.headers['wechatpay-serial']).toBe(creds.publicKeyId);
      expect(verifiesWith({ [creds.publicKeyId]: creds.publicKeyPem }, r)).toBe(true);
    }
    // Every attempt is signed afresh over the same body.
    expect(rx.received[0].headers['wechatpay-nonce']).not.toBe(rx.received[1].headers['wechatpay-nonce']);
    expect(rx.received[0].raw.equals(rx.received[1].raw)).toBe(true);

    const { envelope, resource } = decrypt(creds.apiV3Key, rx.received[1].raw);
    expect(Object.keys(envelope)).toEqual(['id', 'create_time', 'resource_type', 'event_type', 'summary', 'resource']);
    expect(envelope).toMatchObject({ resource_type: 'encrypt-resource', event_type: 'TRANSACTION.SUCCESS', summary: '支付成功' });
    expect(envelope.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(envelope.create_time).toMatch(/\+08:00$/);
    expect(envelope.resource).toMatchObject({ original_type: 'transaction', algorithm: 'AEAD_AES_256_GCM', associated_data: 'transaction', nonce: expect.stringMatching(/^.{12}$/) });
    expect(resource).toMatchObject({
      sp_mchid: creds.spMchid,
      sub_mchid: '1900000109',
      out_trade_no: outTradeNo,
      transaction_id: paid.transactionId,
      trade_state: 'SUCCESS',
      trade_type: 'NATIVE',
      amount: { total: 888, payer_total: 888, currency: 'CNY', payer_currency: 'CNY' },
    });
    // The resource is exactly what the query API answers.
    expect(resource).toEqual(sim.transaction('1900000109', outTradeNo));
  });

  it('signs with the newest platform certificate when signWith is platformCertificate', async () => {
    const sim = await simulator({ signWith: 'platformCertificate' });
    const rx = await receiver(() => 204);
    await sim.pay(await createOrder(sim, rx.url));
    await sim.notifications.flush();
    const cert = creds.platformCertificates[creds.platformCertificates.length - 1];
    expect(rx.received[0].headers['wechatpay-serial']).toBe(cert.serialNo);
    expect(verifiesWith({ [cert.serialNo]: cert.certificatePem }, rx.received[0])).toBe(true);
  });

  it("sends a single attempt in 'once' mode and records network failures and timeouts as status 0", async () => {
    const sim = await simulator({ notificationMode: 'once', notificationReplyTimeoutMs: 150 });
    const failing = await receiver(() => 503);
    const hanging = await receiver(() => 'hang');
    await sim.pay(await createOrder(sim, failing.url));
    await sim.pay(await createOrder(sim, hanging.url));
    await sim.pay(await createOrder(sim, 'http://127.0.0.1:9/unreachable'));
    await sim.notifications.flush();
    const byUrl = (url: string) => sim.deliveries.filter((d) => d.url === url).map((d) => [d.status, d.error]);
    expect(byUrl(failing.url)).toEqual([[503, undefined]]);
    expect(byUrl(hanging.url)).toEqual([[0, 'TIMEOUT']]);
    expect(byUrl('http://127.0.0.1:9/unreachable')).toEqual([[0, 'ECONNREFUSED']]);
  });

  it('close() cancels scheduled retries', async () => {
    const sim = await WechatPaySimulator.start({ credentials: creds, notificationTimeScale: 1 });
    const rx = await receiver(() => 500);
    await sim.pay(await createOrder(sim, rx.url));
    while (sim.deliveries.length === 0) await new Promise((r) => setTimeout(r, 5));
    const started = Date.now();
    await sim.close();
    await sim.notifications.flush();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(sim.notifications.pending).toBe(0);
    expect(sim.deliveries).toHaveLength(1);
  });
});

describe('signature probes (spec §2.4)', () => {
  it('flags a merchant that accepts a WECHATPAY/SIGNTEST/ probe', async () => {
    const sim = await simulator({ probeRate: 1 });
    const naive = await receiver(() => 204);
    await sim.pay(await createOrder(sim, naive.url));
    await sim.notifications.flush();
    expect(naive.received[0].headers['wechatpay-signature']).toMatch(/^WECHATPAY\/SIGNTEST\//);
    expect(sim.deliveries.map((d) => [d.probe, d.status])).toEqual([
      [true, 204],
      [false, 204],
    ]);
    expect(sim.violations).toHaveLength(1);
    expect(sim.violations[0]).toMatch(/accepted a WECHATPAY\/SIGNTEST\/ signature probe/);
  });

  it('records no violation when the merchant verifies and rejects the probe, then accepts the real delivery', async () => {
    const sim = await simulator({ probeRate: 1 });
    const keys = { [creds.publicKeyId]: creds.publicKeyPem };
    const careful = await receiver((r) => (verifiesWith(keys, r) ? 204 : 401));
    await sim.pay(await createOrder(sim, careful.url));
    await sim.notifications.flush();
    expect(sim.deliveries.map((d) => [d.probe, d.status])).toEqual([
      [true, 401],
      [false, 204],
    ]);
    expect(sim.violations).toEqual([]);
  });
});

describe('notification factory and sim.notify', () => {
  it('buildSignedNotification produces headers and a body that verify and decrypt', () => {
    const resource = { sp_mchid: '1230000109', sub_mchid: '1900000109', out_trade_no: 'T20240101001', trade_state: 'SUCCESS' };
    const n = buildSignedNotification({ eventType: 'TRANSACTION.SUCCESS', resource, apiV3Key: creds.apiV3Key, signingKey: creds.publicKeyPrivateKeyPem, serial: creds.publicKeyId });
    const headers = Object.fromEntries(Object.entries(n.headers).map(([k, v]) => [k.toLowerCase(), v]));
    expect(headers['wechatpay-nonce']).toMatch(/^[0-9A-Za-z]{32}$/);
    expect(verifiesWith({ [creds.publicKeyId]: creds.publicKeyPem }, { headers, raw: Buffer.from(n.body) })).toBe(true);
    const { envelope, resource: decrypted } = decrypt(creds.apiV3Key, Buffer.from(n.body));
    expect(envelope.id).toBe(n.id);
    expect(decrypted).toEqual(resource);
  });

  it('sim.notify delivers any event, e.g. REFUND.SUCCESS with AAD refund', async () => {
    const sim = await simulator();
    const rx = await receiver(() => 200);
    const id = sim.notify(rx.url, 'REFUND.SUCCESS', { sp_mchid: creds.spMchid, sub_mchid: '1900000109', refund_status: 'SUCCESS' });
    await sim.notifications.flush();
    expect(sim.deliveries).toEqual([expect.objectContaining({ notificationId: id, status: 200, eventType: 'REFUND.SUCCESS' })]);
    const { envelope, resource } = decrypt(creds.apiV3Key, rx.received[0].raw);
    expect(envelope).toMatchObject({ summary: '退款成功', resource: { original_type: 'refund', associated_data: 'refund' } });
    expect(resource.refund_status).toBe('SUCCESS');
    const own = sim.signedNotification('TRANSACTION.SUCCESS', { out_trade_no: 'X' });
    expect(own.headers['Wechatpay-Serial']).toBe(creds.publicKeyId);
  });
});

describe('lost notifications: WeChat Pay does not guarantee that a notification arrives (§3.2.6)', () => {
  const query = (sim: WechatPaySimulator, no: string) =>
    signedCall(sim, 'GET', `/v3/pay/partner/transactions/out-trade-no/${no}?sp_mchid=${sim.credentials.spMchid}&sub_mchid=1900000109`);

  it('sim.pay(no, { loseNotification: true }) pays but never posts nor retries; the log says lost; a query finds SUCCESS', async () => {
    const sim = await simulator();
    const rx = await receiver(() => 204);
    const lostNo = await createOrder(sim, rx.url);
    const paid = await sim.pay(lostNo, { loseNotification: true });
    await sim.notifications.flush();
    expect(rx.received).toHaveLength(0);
    expect(sim.notifications.pending).toBe(0);
    expect(sim.deliveries).toEqual([
      expect.objectContaining({ url: rx.url, attempt: 1, status: 0, error: 'LOST', lost: true, probe: false, eventType: 'TRANSACTION.SUCCESS' }),
    ]);
    const answer = await query(sim, lostNo);
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({ trade_state: 'SUCCESS', transaction_id: paid.transactionId });

    // Other payments are notified as usual; the lost one can still arrive late, by redeliver().
    const normalNo = await createOrder(sim, rx.url);
    await sim.pay(normalNo);
    await sim.notifications.flush();
    expect(rx.received.map((r) => decrypt(creds.apiV3Key, r.raw).resource.out_trade_no)).toEqual([normalNo]);
    sim.redeliver(sim.deliveries[0].notificationId);
    await sim.notifications.flush();
    expect(rx.received.map((r) => decrypt(creds.apiV3Key, r.raw).resource.out_trade_no)).toEqual([normalNo, lostNo]);
    expect(sim.deliveries.filter((d) => d.lost)).toHaveLength(1);
  });

  it('POST /__sim/pay and the cashier page lose the notification when asked (lose_notification)', async () => {
    const sim = await simulator();
    const rx = await receiver(() => 204);
    const byTooling = await createOrder(sim, rx.url);
    const tooling = await fetch(`${sim.baseUrl}/__sim/pay`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ sub_mchid: '1900000109', out_trade_no: byTooling, lose_notification: true }),
    });
    expect(tooling.status).toBe(200);
    expect(await tooling.json()).toMatchObject({ out_trade_no: byTooling, trade_state: 'SUCCESS' });

    const c = sim.credentials;
    const byPage = `P${Date.now()}`;
    const created = await signedCall(sim, 'POST', '/v3/pay/partner/transactions/native', {
      body: { sp_appid: c.spAppid, sp_mchid: c.spMchid, sub_mchid: '1900000109', description: '通知测试', out_trade_no: byPage, notify_url: rx.url, amount: { total: 1 } },
    });
    const codeUrl = String(created.json.code_url);
    const pageUrl = sim.cashierUrl(codeUrl, { loseNotification: true });
    expect(pageUrl).toMatch(/&lose_notification=1$/);
    const page = await (await fetch(pageUrl)).text();
    expect(page).toMatch(/<input id="sim-lose-notification" type="checkbox" checked>/);
    expect(await (await fetch(sim.cashierUrl(codeUrl))).text()).toMatch(/<input id="sim-lose-notification" type="checkbox">/);
    const pr = new URL(pageUrl).searchParams.get('pr');
    const button = await fetch(`${sim.baseUrl}/__sim/cashier/pay`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ pr, lose_notification: true }),
    });
    expect(await button.json()).toMatchObject({ result: 'paid', out_trade_no: byPage, notification: 'lost' });

    await sim.notifications.flush();
    expect(rx.received).toHaveLength(0);
    expect(sim.deliveries.map((d) => [d.lost, d.status])).toEqual([
      [true, 0],
      [true, 0],
    ]);
    for (const no of [byTooling, byPage]) expect((await query(sim, no)).json.trade_state).toBe('SUCCESS');
  });

  it('notificationLossRate loses that share of all notifications (1: every one), and is checked at start', async () => {
    const sim = await simulator({ notificationLossRate: 1 });
    const rx = await receiver(() => 204);
    await sim.pay(await createOrder(sim, rx.url));
    sim.notify(rx.url, 'REFUND.SUCCESS', { sp_mchid: creds.spMchid, sub_mchid: '1900000109', refund_status: 'SUCCESS' });
    await sim.notifications.flush();
    expect(rx.received).toHaveLength(0);
    expect(sim.deliveries.map((d) => [d.eventType, d.lost])).toEqual([
      ['TRANSACTION.SUCCESS', true],
      ['REFUND.SUCCESS', true],
    ]);
    await expect(WechatPaySimulator.start({ credentials: creds, notificationLossRate: 1.5 })).rejects.toThrow(
      /notificationLossRate must be a number in \[0, 1\]/,
    );
  });
});
