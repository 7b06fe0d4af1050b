import { generateKeyPairSync } from 'node:crypto';
import { Test } from '@nestjs/testing';
import {
  WechatPartnerPayModule,
  WechatPayClient,
  WechatPayConfigError,
  WechatPayNetworkError,
  WechatPayOrdersService,
} from 'nestjs-wechat-partner-pay';
import { resolveWechatPayConfig } from '../lib/core/config/resolve-config';
import { WechatPaySimulator } from 'nestjs-wechat-partner-pay/testing';

let sim: WechatPaySimulator;
beforeAll(async () => {
  sim = await WechatPaySimulator.start();
});
afterAll(() => sim.close());

function nativeOrder(orders: WechatPayOrdersService, out_trade_no: string) {
  return orders.nativePrepay({
    sub_mchid: sim.credentials.subMerchants[0].subMchid,
    description: 'client test',
    out_trade_no,
    amount: { total: 1 },
    notify_url: 'https://shop.example.com/notify',
  });
}

async function client(overrides: object) {
  const ref = await Test.createTestingModule({ imports: [WechatPartnerPayModule.forRoot({ ...sim.moduleOptions(), ...overrides })] }).compile();
  await ref.init();
  return ref;
}

describe('merchant certificate checks at boot', () => {
  it('derives merchantSerialNo from merchantCertificate', () => {
    const { merchantSerialNo: _serial, ...rest } = sim.moduleOptions();
    const c = resolveWechatPayConfig({ ...rest, merchantCertificate: sim.credentials.merchantCertificatePem });
    expect(c.merchantSerialNo).toBe(sim.credentials.merchantSerialNo);
  });

  it('rejects a serial that does not match the certificate', () => {
    expect(() =>
      resolveWechatPayConfig({
        ...sim.moduleOptions(),
        merchantSerialNo: '5157F09EFDC096DE15EBE81A47057A7232F1B8E1',
        merchantCertificate: sim.credentials.merchantCertificatePem,
      }),
    ).toThrow(/does not match the serial of merchantCertificate.*most common cause of 401/s);
  });

  it('rejects a certificate that does not belong to the private key, without printing either', () => {
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    let err: unknown;
    try {
      resolveWechatPayConfig({ ...sim.moduleOptions(), privateKey: other, merchantCertificate: sim.credentials.merchantCertificatePem });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(WechatPayConfigError);
    expect((err as Error).message).toMatch(/merchantCertificate does not belong to privateKey/);
    expect((err as Error).message).not.toMatch(/BEGIN|MII/);
  });

  it('a wrong serial is what the simulator answers 401 to', async () => {
    // Without merchantCertificate the boot check cannot know the serial is wrong: WeChat Pay answers 401.
    const ref = await client({ merchantSerialNo: '5157F09EFDC096DE15EBE81A47057A7232F1B8E1', merchantCertificate: undefined });
    const err = await ref
      .get(WechatPayOrdersService)
      .queryByOutTradeNo('NO_SUCH_ORDER', sim.credentials.subMerchants[0].subMchid)
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 401, code: 'SIGN_ERROR', retryable: false });
    expect((err as Error).message).not.toMatch(/WECHATPAY2-SHA256-RSA2048|signature="/);
    await ref.close();
  });
});

describe('signed HTTP client', () => {
  it('fails over to the backup host on network errors', async () => {
    const ref = await client({
      baseUrl: 'http://127.0.0.1:9', // discard port: connection refused
      backupBaseUrl: sim.baseUrl,
      retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 5, failover: true },
    });
    await expect(nativeOrder(ref.get(WechatPayOrdersService), 'FAILOVER_0001')).resolves.toHaveProperty('code_url');
    await ref.close();
  });

  it('without failover a refused connection is a typed network error after the configured attempts', async () => {
    const ref = await client({ baseUrl: 'http://127.0.0.1:9', retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 5 } });
    const err = await ref.get(WechatPayClient).request({ method: 'GET', path: '/v3/certificates' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WechatPayNetworkError);
    expect(err).toMatchObject({ code: 'ECONNREFUSED', timedOut: false, retryable: true });
    await ref.close();
  });

  it('signs on the threadpool when asked', async () => {
    const ref = await client({ threadpoolSigning: true });
    await expect(nativeOrder(ref.get(WechatPayOrdersService), 'THREADPOOL_0001')).resolves.toHaveProperty('code_url');
    await ref.close();
  });

  it('sends the package User-Agent and the verifiable Wechatpay-Serial', async () => {
    const seen: Array<Record<string, string | string[] | undefined>> = [];
    const http = await import('node:http');
    const spy = http.createServer((req, res) => {
      seen.push(req.headers);
      res.statusCode = 500;
      res.end('{"code":"SYSTEM_ERROR","message":"x"}');
    });
    await new Promise<void>((r) => spy.listen(0, '127.0.0.1', r));
    const port = (spy.address() as { port: number }).port;
    const ref = await client({ baseUrl: `http://127.0.0.1:${port}`, retry: { attempts: 1 } });
    await ref.get(WechatPayClient).request({ method: 'GET', path: '/v3/certificates' }).catch(() => undefined);
    expect(seen[0]['user-agent']).toMatch(/^nestjs-wechat-partner-pay\/\S+ \(\w+\) Node\/\d+/);
    expect(seen[0]['wechatpay-serial']).toBe(sim.credentials.publicKeyId);
    expect(seen[0].accept).toBe('application/json');
    expect(String(seen[0].authorization)).toMatch(/^WECHATPAY2-SHA256-RSA2048 mchid="1230000109",nonce_str="[0-9A-Za-z]{32}"/);
    await ref.close();
    spy.close();
  });
});
