import { Injectable, Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { Test } from '@nestjs/testing';
import {
  WechatPartnerPayModule,
  type WechatPartnerPayModuleOptions,
  WechatPayCertificatesService,
  WechatPayClient,
  WechatPayConfigError,
  WechatPayOrdersService,
} from 'nestjs-wechat-partner-pay';
import { staticOptions } from './helpers/static-options';

@Injectable()
class OptionsFactory {
  createWechatPartnerPayOptions(): WechatPartnerPayModuleOptions {
    return staticOptions();
  }
}

@Module({ providers: [OptionsFactory], exports: [OptionsFactory] })
class OptionsModule {}

@Injectable()
class CheckoutService {
  constructor(readonly orders: WechatPayOrdersService) {}
}

@Module({ providers: [CheckoutService], exports: [CheckoutService] })
class CheckoutModule {}

async function services(imports: NonNullable<Parameters<typeof Test.createTestingModule>[0]['imports']>) {
  const ref = await Test.createTestingModule({ imports }).compile();
  await ref.init();
  return ref;
}

describe('WechatPartnerPayModule registration', () => {
  it('forRoot', async () => {
    const ref = await services([WechatPartnerPayModule.forRoot(staticOptions())]);
    expect(ref.get(WechatPayOrdersService)).toBeInstanceOf(WechatPayOrdersService);
    expect(ref.get(WechatPayClient)).toBeInstanceOf(WechatPayClient);
    expect(ref.get(WechatPayCertificatesService).list()).toEqual([
      expect.objectContaining({ serial: 'PUB_KEY_ID_0000000000000024101100397200000006', kind: 'publicKey' }),
    ]);
    await ref.close();
  });

  it('forRootAsync with useFactory and @nestjs/config', async () => {
    const o = staticOptions();
    const env = {
      WECHATPAY_SP_MCHID: o.spMchid,
      WECHATPAY_SP_APPID: o.spAppid,
      WECHATPAY_SERIAL_NO: o.merchantSerialNo,
      WECHATPAY_PRIVATE_KEY: o.privateKey,
      WECHATPAY_API_V3_KEY: o.apiV3Key,
    };
    const ref = await services([
      WechatPartnerPayModule.forRootAsync({
        imports: [ConfigModule.forRoot({ ignoreEnvFile: true, load: [() => env] })],
        inject: [ConfigService],
        useFactory: (c: ConfigService) => ({
          ...o,
          spMchid: c.getOrThrow<string>('WECHATPAY_SP_MCHID'),
          privateKey: c.getOrThrow<string>('WECHATPAY_PRIVATE_KEY'),
        }),
      }),
    ]);
    expect(ref.get(WechatPayOrdersService)).toBeDefined();
    await ref.close();
  });

  it('forRootAsync with useClass and with useExisting', async () => {
    const a = await services([WechatPartnerPayModule.forRootAsync({ useClass: OptionsFactory })]);
    expect(a.get(WechatPayOrdersService)).toBeDefined();
    await a.close();
    const b = await services([WechatPartnerPayModule.forRootAsync({ imports: [OptionsModule], useExisting: OptionsFactory })]);
    expect(b.get(WechatPayOrdersService)).toBeDefined();
    await b.close();
  });

  it('isGlobal makes the services injectable in a feature module that does not import it', async () => {
    const ref = await services([WechatPartnerPayModule.forRoot({ ...staticOptions(), isGlobal: true }), CheckoutModule]);
    expect(ref.get(CheckoutService).orders).toBeInstanceOf(WechatPayOrdersService);
    await ref.close();
  });

  it('without isGlobal a feature module cannot see the services', async () => {
    await expect(
      Test.createTestingModule({ imports: [WechatPartnerPayModule.forRoot(staticOptions()), CheckoutModule] }).compile(),
    ).rejects.toThrow(/WechatPayOrdersService/);
  });

  it('fails at boot with one WechatPayConfigError listing every problem', async () => {
    const err = await Test.createTestingModule({
      imports: [WechatPartnerPayModule.forRoot(staticOptions({ apiV3Key: 'short', spAppid: '' }))],
    })
      .compile()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WechatPayConfigError);
    expect((err as WechatPayConfigError).problems).toHaveLength(2);
  });
});
