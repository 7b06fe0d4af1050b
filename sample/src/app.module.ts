import { type DynamicModule, Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { WechatPartnerPayModule } from 'nestjs-wechat-partner-pay';
import { WechatPayLifecycleModule } from 'nestjs-wechat-partner-pay/lifecycle';
import { BillsModule } from './bills/bills.module';
import { ENV_FILE } from './paths';
import { type SampleOverrides, SampleSettings } from './settings';
import { SettingsModule } from './settings.module';
import { ShopModule } from './shop/shop.module';
import { EmbeddedSimulator } from './wechat-pay/embedded-simulator';
import { lifecycleOptionsFactory } from './wechat-pay/lifecycle.config';
import { wechatPayOptionsFactory } from './wechat-pay/wechat-pay.config';
import { WechatPaySetupModule } from './wechat-pay/wechat-pay-setup.module';
import { WebController } from './web/web.controller';

/** The sample shop. `register()` takes test overrides; `main.ts` passes none. */
@Module({})
export class AppModule {
  static register(overrides: SampleOverrides = {}): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot({
          isGlobal: true,
          envFilePath: ENV_FILE,
          ignoreEnvFile: overrides.envFile === false,
        }),
        SettingsModule.forRoot(overrides),
        WechatPartnerPayModule.forRootAsync({
          imports: [WechatPaySetupModule],
          inject: [ConfigService, SampleSettings, EmbeddedSimulator],
          useFactory: wechatPayOptionsFactory,
          isGlobal: true,
        }),
        // The order watch (a lost notification is found by query) and the reconciliation with the trade bill.
        WechatPayLifecycleModule.forRootAsync({
          imports: [WechatPaySetupModule],
          inject: [SampleSettings, EmbeddedSimulator],
          useFactory: lifecycleOptionsFactory,
          isGlobal: true,
        }),
        ShopModule,
        BillsModule,
      ],
      controllers: [WebController],
    };
  }
}
