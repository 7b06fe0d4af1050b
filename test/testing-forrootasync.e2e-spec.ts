/**
 * Testing an app that registers the module with forRootAsync: (1) the CLI simulator's dotenv file read by
 * @nestjs/config, (2) the exported options token overridden with the simulator's options in a testing module.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { Test } from '@nestjs/testing';
import { parse } from 'dotenv';
import { WECHAT_PARTNER_PAY_OPTIONS, WechatPartnerPayModule, WechatPayApiError, WechatPayOrdersService } from 'nestjs-wechat-partner-pay';
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
