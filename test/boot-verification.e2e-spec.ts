/**
 * Boot checks against the real simulator: `verifyOnBoot` (one signed query of a non-existent order), an APIv3 key
 * that cannot decrypt the downloaded platform certificates, refundNotifyUrl reaching its own route, and the transport's
 * retry warning and network errors naming the host once.
 */
import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:net';
import { Controller, type INestApplication, Logger, Post } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import {
  NotificationResource,
  PartnerRefundResource,
  WechatPartnerPayModule,
  WechatPayConfigError,
  WechatPayNetworkError,
  WechatPayNotification,
  WechatPayOrdersService,
  WechatPayRefundsService,
} from 'nestjs-wechat-partner-pay';
import { WechatPaySimulator } from 'nestjs-wechat-partner-pay/testing';
import { type SimApp, startSimApp } from './helpers/sim-app';

const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
const otherPrivatePem = other.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const otherPublicPem = other.publicKey.export({ type: 'spki', format: 'pem' }).toString();
const BOOT_QUERY =
  /^\/v3\/pay\/partner\/transactions\/out-trade-no\/BOOTCHECK[0-9A-F]{16}\?sp_mchid=\d+&sub_mchid=\d+$/;

async function bootError(...args: Parameters<typeof startSimApp>): Promise<WechatPayConfigError> {
  const err = await startSimApp(...args).then(
    async (app) => {
      await app.close();
      return undefined;
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WechatPayConfigError);
  return err as WechatPayConfigError;
}

describe('verifyOnBoot', () => {
  let app: SimApp | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('queries a non-existent order under the sub-merchant: a signed 404 ORDER_NOT_EXIST boots', async () => {
    app = await startSimApp((sim) => ({
      verifyOnBoot: { subMchid: sim.credentials.subMerchants[0].subMchid },
    }));
    const checks = app.sim.requests.filter((r) => BOOT_QUERY.test(r.path));
    expect(checks).toEqual([
      expect.objectContaining({ method: 'GET', status: 404, code: 'ORDER_NOT_EXIST' }),
    ]);
  });

  it('with true, queries under the service provider itself: the signed refusal boots too', async () => {
    app = await startSimApp({ verifyOnBoot: true });
    expect(app.sim.requests.filter((r) => BOOT_QUERY.test(r.path))).toEqual([
      expect.objectContaining({ status: 400 }),
    ]);
  });

  it('makes no call without verifyOnBoot', async () => {
    app = await startSimApp({ merchantCertificate: undefined, privateKey: otherPrivatePem });
    expect(app.sim.requests).toHaveLength(0);
  });

  it('fails the boot naming merchantSerialNo and privateKey when WeChat Pay answers 401', async () => {
    const err = await bootError({
      merchantCertificate: undefined,
      privateKey: otherPrivatePem,
      verifyOnBoot: true,
    });
    expect(err.problems).toEqual([
      expect.stringMatching(
        /^verifyOnBoot: WeChat Pay refused the request signature \(HTTP 401 SIGN_ERROR.*merchantSerialNo \([0-9A-F]+\).*privateKey/,
      ),
    ]);
    expect(err.message).not.toContain(otherPrivatePem.split('\n')[1]);
  });

  it('fails the boot naming verification.publicKey when the answer does not verify', async () => {
    const err = await bootError((sim) => ({
      verification: {
        mode: 'publicKey',
        publicKeyId: sim.credentials.publicKeyId,
        publicKey: otherPublicPem,
      },
      verifyOnBoot: true,
    }));
    expect(err.problems).toEqual([
      expect.stringMatching(
        /^verifyOnBoot: the answer's signature by PUB_KEY_ID_\w+ does not verify: verification.publicKey is not the WeChat Pay public key/,
      ),
    ]);
  });

  it('fails the boot naming verification.publicKeyId when the answer is signed by another key', async () => {
    const err = await bootError((sim) => ({
      verification: {
        mode: 'publicKey',
        publicKeyId: 'PUB_KEY_ID_0000000000000000000000000000000001',
        publicKey: sim.credentials.publicKeyPem,
      },
      verifyOnBoot: true,
    }));
    expect(err.problems).toEqual([
      expect.stringMatching(
        /^verifyOnBoot: the answer is signed by PUB_KEY_ID_\w+, which is none of the configured keys \(verification.publicKeyId PUB_KEY_ID_0+1\)/,
      ),
    ]);
  });

  it('fails the boot naming the host when WeChat Pay cannot be reached', async () => {
    const err = await bootError({ baseUrl: 'http://127.0.0.1:9', verifyOnBoot: true });
    expect(err.problems).toEqual([
      expect.stringMatching(/^verifyOnBoot: WeChat Pay \(127\.0\.0\.1:9\) could not be reached/),
    ]);
  });

  it('verifies with the downloaded platform certificate in platformCertificate mode', async () => {
    app = await startSimApp(
      { verification: { mode: 'platformCertificate' }, verifyOnBoot: true },
      { signWith: 'platformCertificate' },
    );
    const paths = app.sim.requests.map((r) => r.path);
    expect(paths[0]).toBe('/v3/certificates');
    expect(paths.filter((p) => BOOT_QUERY.test(p))).toHaveLength(1);
  });
});

describe('platformCertificate mode boot', () => {
  it('fails the boot naming apiV3Key when it cannot decrypt the downloaded certificates', async () => {
    const err = await bootError(
      { verification: { mode: 'platformCertificate' }, apiV3Key: 'ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ' },
      { signWith: 'platformCertificate' },
    );
    expect(err.problems).toEqual([
      expect.stringMatching(
        /^apiV3Key cannot decrypt the platform certificate [0-9A-F]+ downloaded from \/v3\/certificates/,
      ),
    ]);
    expect(err.message).not.toContain('ZZZZZZZZ');
  });
});

@Controller('wechatpay')
class NotifyController {
  static readonly refunds: string[] = [];

  @Post('notify')
  @WechatPayNotification('TRANSACTION.SUCCESS')
  paid(): void {}

  @Post('refund-notify')
  @WechatPayNotification('REFUND.SUCCESS')
  refunded(@NotificationResource() refund: PartnerRefundResource): void {
    NotifyController.refunds.push(refund.out_refund_no);
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

describe('refundNotifyUrl', () => {
  let sim: WechatPaySimulator;
  let app: INestApplication;
  afterAll(async () => {
    await app?.close();
    await sim?.close();
  });

  it('sends a refund created without notify_url to refundNotifyUrl, whose route takes REFUND.SUCCESS', async () => {
    sim = await WechatPaySimulator.start();
    const port = await freePort();
    const base = `http://127.0.0.1:${port}/wechatpay`;
    const ref = await Test.createTestingModule({
      imports: [
        WechatPartnerPayModule.forRoot(
          sim.moduleOptions({ notifyUrl: `${base}/notify`, refundNotifyUrl: `${base}/refund-notify` }),
        ),
      ],
      controllers: [NotifyController],
    }).compile();
    app = ref.createNestApplication<NestExpressApplication>({ rawBody: true, logger: false });
    await app.listen(port, '127.0.0.1');
    const sub = sim.credentials.subMerchants[0].subMchid;
    const outTradeNo = `RNU${Date.now()}`;
    await app
      .get(WechatPayOrdersService)
      .nativePrepay({
        sub_mchid: sub,
        description: 'refund url',
        out_trade_no: outTradeNo,
        amount: { total: 100 },
      });
    await sim.pay(outTradeNo);
    const outRefundNo = `RF${outTradeNo}`;
    await app
      .get(WechatPayRefundsService)
      .create({
        sub_mchid: sub,
        out_trade_no: outTradeNo,
        out_refund_no: outRefundNo,
        amount: { refund: 100, total: 100, currency: 'CNY' },
      });
    await sim.notifications.flush();
    expect(sim.getRefund(outRefundNo)?.notifyUrl).toBe(`${base}/refund-notify`);
    expect(NotifyController.refunds).toEqual([outRefundNo]);
    expect(sim.deliveries.filter((d) => d.url.endsWith('/refund-notify')).map((d) => d.status)).toEqual([
      204,
    ]);
  });
});

describe('transport messages', () => {
  let app: SimApp | undefined;
  afterEach(async () => {
    jest.restoreAllMocks();
    await app?.close();
    app = undefined;
  });

  it('names the path once and the host in the retry warning of a network error', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    app = await startSimApp({ retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 1 } });
    app.sim.faults.next({ path: '/v3/pay/partner/transactions/out-trade-no/', resetConnection: true });
    const sub = app.sim.credentials.subMerchants[0].subMchid;
    await expect(
      app.ref
        .get(WechatPayOrdersService)
        .queryByOutTradeNo({ out_trade_no: 'RETRY_MSG_0001', sub_mchid: sub }),
    ).rejects.toMatchObject({ code: 'ORDER_NOT_EXIST' });
    const lines = warn.mock.calls.map((c) => String(c[0])).filter((l) => l.includes('retrying'));
    expect(lines).toHaveLength(1);
    const host = new URL(app.sim.baseUrl).host;
    expect(lines[0]).toContain(`talking to WeChat Pay (${host})`);
    expect(lines[0].split('/v3/pay/partner/transactions/out-trade-no/RETRY_MSG_0001')).toHaveLength(2);
    expect(lines[0]).toMatch(/retrying \(attempt 2\/2\)$/);
  });

  it('names the host in a network error', async () => {
    app = await startSimApp({ baseUrl: 'http://127.0.0.1:9', retry: { attempts: 1 } });
    const err = await app.ref
      .get(WechatPayOrdersService)
      .queryByOutTradeNo({
        out_trade_no: 'NET_MSG_0001',
        sub_mchid: app.sim.credentials.subMerchants[0].subMchid,
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WechatPayNetworkError);
    expect((err as Error).message).toMatch(
      /^GET \/v3\/pay\/partner\/transactions\/out-trade-no\/NET_MSG_0001: network error ECONNREFUSED talking to WeChat Pay \(127\.0\.0\.1:9\)/,
    );
  });
});
