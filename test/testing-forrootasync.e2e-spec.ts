/**
 * Testing an app that registers the module with forRootAsync: (1) the CLI simulator's dotenv file read by
 * @nestjs/config, (2) the exported options token overridden with the simulator's options in a testing module.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Controller, Module, Post } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { Test } from '@nestjs/testing';
import { parse } from 'dotenv';
import {
  NotificationResource,
  type PartnerTransactionResource,
  WECHAT_PARTNER_PAY_OPTIONS,
  WechatPartnerPayModule,
  WechatPayApiError,
  WechatPayNotification,
  WechatPayOrdersService,
} from 'nestjs-wechat-partner-pay';
import { WechatPaySimulator } from 'nestjs-wechat-partner-pay/testing';
import { type CliHandle, main } from '../lib/testing/cli';

/** Expects the query of an unknown order to reach the simulator signed and come back verified: 404 ORDER_NOT_EXIST. */
async function expectSignedRoundTrip(orders: WechatPayOrdersService, sub_mchid: string): Promise<void> {
  const err = await orders.queryByOutTradeNo({ out_trade_no: 'NO_SUCH_ORDER_1', sub_mchid }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(WechatPayApiError);
  expect((err as WechatPayApiError).code).toBe('ORDER_NOT_EXIST');
}

describe('forRootAsync against the simulator', () => {
  let dir: string;
  let cli: CliHandle | undefined;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'wechatpay-forrootasync-'));
  });
  afterAll(async () => {
    await cli?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads the CLI sandbox .env through @nestjs/config', async () => {
    const envFile = join(dir, 'sandbox.env');
    cli = await main(['--port', '0', '--credentials-out', join(dir, 'sandbox.json'), '--env-out', envFile], { out: () => undefined, err: () => undefined, installSignalHandlers: false });
    expect(cli?.envFile).toBe(envFile);
    expect(statSync(envFile).mode & 0o777).toBe(0o600);
    const env = parse(readFileSync(envFile));
    expect(env.WECHATPAY_PRIVATE_KEY).toMatch(/^-----BEGIN PRIVATE KEY-----\n[\s\S]+\n-----END PRIVATE KEY-----\n?$/);
    expect(env.WECHATPAY_BASE_URL).toBe(cli!.simulator.baseUrl);

    const ref = await Test.createTestingModule({
      imports: [
        WechatPartnerPayModule.forRootAsync({
          imports: [ConfigModule.forRoot({ envFilePath: envFile, ignoreEnvVars: true, isGlobal: false })],
          inject: [ConfigService],
          useFactory: (c: ConfigService) => ({
            baseUrl: c.getOrThrow<string>('WECHATPAY_BASE_URL'),
            product: c.getOrThrow<'ecommerce' | 'partner'>('WECHATPAY_PRODUCT'),
            spMchid: c.getOrThrow<string>('WECHATPAY_SP_MCHID'),
            spAppid: c.getOrThrow<string>('WECHATPAY_SP_APPID'),
            privateKey: c.getOrThrow<string>('WECHATPAY_PRIVATE_KEY'),
            merchantCertificate: c.getOrThrow<string>('WECHATPAY_MERCHANT_CERTIFICATE'),
            apiV3Key: c.getOrThrow<string>('WECHATPAY_API_V3_KEY'),
            verification: { mode: 'publicKey', publicKeyId: c.getOrThrow<string>('WECHATPAY_PUBLIC_KEY_ID'), publicKey: c.getOrThrow<string>('WECHATPAY_PUBLIC_KEY') },
          }),
        }),
      ],
    }).compile();
    await expectSignedRoundTrip(ref.get(WechatPayOrdersService), env.WECHATPAY_SUB_MCHID);
    await ref.close();
  });

  it('lets a test override the options of an app module with the simulator options (WECHAT_PARTNER_PAY_OPTIONS)', async () => {
    const sim = await WechatPaySimulator.start();
    try {
      // The app as it runs in production: options from the environment, which a test does not have.
      @Module({
        imports: [
          WechatPartnerPayModule.forRootAsync({
            useFactory: () => {
              throw new Error('production options are not available in tests');
            },
          }),
        ],
      })
      class AppModule {}
      const ref = await Test.createTestingModule({ imports: [AppModule] })
        .overrideProvider(WECHAT_PARTNER_PAY_OPTIONS)
        .useValue(sim.moduleOptions())
        .compile();
      await expectSignedRoundTrip(ref.get(WechatPayOrdersService), sim.credentials.subMerchants[0].subMchid);
      await ref.close();
    } finally {
      await sim.close();
    }
  });
});

const received: string[] = [];

@Controller()
class NotifyController {
  @Post('wechatpay/notify')
  @WechatPayNotification('TRANSACTION.SUCCESS')
  paid(@NotificationResource() tx: PartnerTransactionResource): void {
    received.push(tx.out_trade_no);
  }
}

describe('notifications to an app on port 0', () => {
  it('arrive through sim.routeNotificationsTo(app URL), with the production-like notify URL kept in the options', async () => {
    const sim = await WechatPaySimulator.start();
    const ref = await Test.createTestingModule({
      imports: [WechatPartnerPayModule.forRoot(sim.moduleOptions({ notifyUrl: 'https://shop.example.com/wechatpay/notify' }))],
      controllers: [NotifyController],
    }).compile();
    const app = ref.createNestApplication<NestExpressApplication>({ rawBody: true, logger: false });
    try {
      await app.listen(0, '127.0.0.1');
      sim.routeNotificationsTo(await app.getUrl());
      const out_trade_no = `PORT0${Date.now()}`;
      await app.get(WechatPayOrdersService).nativePrepay({ sub_mchid: '1900000109', description: 'port 0', out_trade_no, amount: { total: 1 } });
      await sim.pay(out_trade_no);
      await sim.notifications.flush();
      expect(received).toEqual([out_trade_no]);
      expect(sim.deliveries.map((d) => [d.url, d.status])).toEqual([['https://shop.example.com/wechatpay/notify', 204]]);
    } finally {
      await app.close();
      await sim.close();
    }
  });

  it('are logged by the CLI with --verbose (event, id, URL, reply), never their content', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wechatpay-verbose-'));
    const logs: string[] = [];
    const cli = await main(['--port', '0', '--credentials-out', join(dir, 's.json'), '--verbose', '--notification-mode', 'once'], { out: () => undefined, err: (l) => logs.push(l), installSignalHandlers: false });
    try {
      const sim = cli!.simulator;
      const id = sim.notify('http://127.0.0.1:9/nobody-listens', 'TRANSACTION.SUCCESS', { secret_field: 'must not be logged' });
      await sim.notifications.flush();
      const line = logs.find((l) => l.startsWith('notify '));
      expect(line).toMatch(new RegExp(`^notify TRANSACTION\\.SUCCESS ${id} attempt 1 -> http://127\\.0\\.0\\.1:9/nobody-listens: \\w+`));
      expect(logs.join('\n')).not.toContain('must not be logged');
    } finally {
      await cli?.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
