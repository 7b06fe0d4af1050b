/**
 * The transport signs exactly what it sends. For characters that URL encoders disagree about (`'`, space, `中`, `|`,
 * `*`, `@`, `!`, `(`, `)`, `~`, `%`), a path parameter and a query value holding each one are sent by the module's
 * `WechatPayClient` and checked twice: by the simulator (which verifies the signature over its raw `req.url`), and by
 * an independent verifier in this file, a plain node:http server that checks the Authorization signature over the
 * `req.url` it received with node:crypto alone. Both must see a valid signature and, after decoding, exactly the path
 * and query the client meant. The simulator may reject an id as malformed (400 PARAM_ERROR): what matters is that it
 * is never 401 SIGN_ERROR.
 */
import { createPublicKey, createVerify, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Test, type TestingModule } from '@nestjs/testing';
import { WechatPartnerPayModule, WechatPayApiError, WechatPayClient } from 'nestjs-wechat-partner-pay';
import { WechatPaySimulator } from 'nestjs-wechat-partner-pay/testing';
import { buildPath } from '../lib/core/http/endpoint';
import { ORDER_ENDPOINTS } from '../lib/orders/orders.endpoints';

const CHARS = ["'", ' ', '中', '|', '*', '@', '!', '(', ')', '~', '%'];
const SUB = '1900000109';
const QUERY_BY_NO = ORDER_ENDPOINTS.queryByOutTradeNo;

/** What the independent verifier saw of one request. */
interface Seen {
  method: string;
  url: string;
  signatureValid: boolean;
  mchid?: string;
  serialNo?: string;
}

/** Checks `Authorization: WECHATPAY2-SHA256-RSA2048 k="v",…` over METHOD\nURL\nTIMESTAMP\nNONCE\nBODY\n with node:crypto. */
function verifyAuthorization(header: string | undefined, method: string, url: string, body: string, key: KeyObject): Omit<Seen, 'method' | 'url'> {
  const scheme = 'WECHATPAY2-SHA256-RSA2048 ';
  if (!header?.startsWith(scheme)) return { signatureValid: false };
  const pairs: Record<string, string> = {};
  for (const m of header.slice(scheme.length).matchAll(/(\w+)="([^"]*)"/g)) pairs[m[1]] = m[2];
  const { mchid, serial_no: serialNo, timestamp, nonce_str: nonce, signature } = pairs;
  if (!timestamp || !nonce || !signature) return { signatureValid: false, mchid, serialNo };
  const message = `${method}\n${url}\n${timestamp}\n${nonce}\n${body}\n`;
  const signatureValid = createVerify('RSA-SHA256').update(message, 'utf8').verify(key, signature, 'base64');
  return { signatureValid, mchid, serialNo };
}

/** A server that knows nothing of this package: it verifies, records, and answers 400 (valid) or 401 (invalid). */
async function startIndependentVerifier(merchantCertificatePem: string): Promise<{ server: Server; url: string; seen: Seen[] }> {
  const key = createPublicKey(merchantCertificatePem);
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const method = req.method ?? '';
      const url = req.url ?? '';
      const result = verifyAuthorization(req.headers.authorization, method, url, Buffer.concat(chunks).toString('utf8'), key);
      seen.push({ method, url, ...result });
      const status = result.signatureValid ? 400 : 401;
      const text = JSON.stringify({ code: result.signatureValid ? 'VERIFIED_ELSEWHERE' : 'SIGN_ERROR', message: 'independent verifier' });
      res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(text)) });
      res.end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

/** The decoded path segments and query of a raw request target. */
function decodeTarget(target: string): { segments: string[]; query: URLSearchParams } {
  const url = new URL(target, 'http://decode.invalid');
  return { segments: url.pathname.split('/').map((s) => decodeURIComponent(s)), query: url.searchParams };
}

let sim: WechatPaySimulator;
let independent: Awaited<ReturnType<typeof startIndependentVerifier>>;
let toSim: TestingModule;
let toIndependent: TestingModule;

async function clientModule(baseUrl: string): Promise<TestingModule> {
  const ref = await Test.createTestingModule({ imports: [WechatPartnerPayModule.forRoot(sim.moduleOptions({ baseUrl }))] }).compile();
  await ref.init();
  return ref;
}

beforeAll(async () => {
  sim = await WechatPaySimulator.start();
  independent = await startIndependentVerifier(sim.credentials.merchantCertificatePem);
  toSim = await clientModule(sim.baseUrl);
  toIndependent = await clientModule(independent.url);
});

afterAll(async () => {
  await toSim?.close();
  await toIndependent?.close();
  await new Promise((resolve) => independent?.server.close(resolve));
  await sim?.close();
});

/** Runs one call, which must fail with an API error (the ids do not exist); returns the error. */
async function apiError(run: () => Promise<unknown>): Promise<WechatPayApiError> {
  const err = await run().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WechatPayApiError);
  return err as WechatPayApiError;
}

describe.each(CHARS)('the character %p', (char) => {
  const outTradeNo = `T${char}123456`;
  const subMchid = `19${char}00`;

  it('in a path parameter (call()): accepted by the simulator and by the independent verifier, decoded as meant', async () => {
    const send = (ref: TestingModule) => () =>
      ref.get(WechatPayClient).call(QUERY_BY_NO, { params: { out_trade_no: outTradeNo }, query: { sp_mchid: sim.credentials.spMchid, sub_mchid: SUB } });

    const before = sim.requests.length;
    const err = await apiError(send(toSim));
    expect(err.status).not.toBe(401);
    expect(err.code).not.toBe('SIGN_ERROR');
    // `|` and `*` are allowed in out_trade_no, so that order is merely unknown; the others are malformed ids.
    if (char === '|' || char === '*') expect(err).toMatchObject({ status: 404, code: 'ORDER_NOT_EXIST' });
    else expect(err).toMatchObject({ status: 400, code: 'PARAM_ERROR', detail: { field: '/out_trade_no', value: outTradeNo, location: 'path' } });
    const received = sim.requests.slice(before);
    expect(received).toHaveLength(1);
    expect(decodeTarget(received[0].path).segments.at(-1)).toBe(outTradeNo);

    const seenBefore = independent.seen.length;
    const elsewhere = await apiError(send(toIndependent));
    expect(elsewhere).toMatchObject({ status: 400, code: 'VERIFIED_ELSEWHERE' });
    const seen = independent.seen.slice(seenBefore);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ method: 'GET', signatureValid: true, mchid: sim.credentials.spMchid, serialNo: sim.credentials.merchantSerialNo });
    const { segments, query } = decodeTarget(seen[0].url);
    expect(segments.join('/')).toBe(`/v3/pay/partner/transactions/out-trade-no/${outTradeNo}`);
    expect([...query]).toEqual([
      ['sp_mchid', sim.credentials.spMchid],
      ['sub_mchid', SUB],
    ]);
  });

  it('in a query value (request()): accepted by the simulator and by the independent verifier, decoded as meant', async () => {
    const send = (ref: TestingModule) => () =>
      ref.get(WechatPayClient).request({
        method: 'GET',
        path: buildPath(QUERY_BY_NO.path, { out_trade_no: 'T1234567' }),
        query: { sp_mchid: sim.credentials.spMchid, sub_mchid: subMchid },
      });

    const before = sim.requests.length;
    const err = await apiError(send(toSim));
    expect(err.status).not.toBe(401);
    // The signature and the sp_mchid passed; the sub-merchant is unknown.
    expect(err).toMatchObject({ status: 400, code: 'MCH_NOT_EXISTS' });
    expect(err.wechatMessage).toContain(subMchid);
    const received = sim.requests.slice(before);
    expect(received).toHaveLength(1);
    expect(decodeTarget(received[0].path).query.get('sub_mchid')).toBe(subMchid);

    const seenBefore = independent.seen.length;
    const elsewhere = await apiError(send(toIndependent));
    expect(elsewhere).toMatchObject({ status: 400, code: 'VERIFIED_ELSEWHERE' });
    const seen = independent.seen.slice(seenBefore);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ method: 'GET', signatureValid: true });
    const { segments, query } = decodeTarget(seen[0].url);
    expect(segments.join('/')).toBe('/v3/pay/partner/transactions/out-trade-no/T1234567');
    expect([...query]).toEqual([
      ['sp_mchid', sim.credentials.spMchid],
      ['sub_mchid', subMchid],
    ]);
  });
});

describe('the independent verifier can fail', () => {
  it('rejects a signature over another URL than the one received', async () => {
    const key = createPublicKey(sim.credentials.merchantCertificatePem);
    const signedUrl = '/v3/pay/partner/transactions/out-trade-no/T(123456?sp_mchid=1&sub_mchid=2';
    const sentUrl = '/v3/pay/partner/transactions/out-trade-no/T%28123456?sp_mchid=1&sub_mchid=2';
    const header = sim.authorization('GET', signedUrl);
    expect(verifyAuthorization(header, 'GET', signedUrl, '', key).signatureValid).toBe(true);
    expect(verifyAuthorization(header, 'GET', sentUrl, '', key).signatureValid).toBe(false);
  });
});
