import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { WechatPartnerPayModuleOptions } from './interfaces/wechat-partner-pay-options.interface';

/** forRoot/forRootAsync come from ConfigurableModuleBuilder; `isGlobal` registers the module globally. */
export const {
  ConfigurableModuleClass: WechatPartnerPayConfigurableModule,
  MODULE_OPTIONS_TOKEN: WECHAT_PARTNER_PAY_MODULE_OPTIONS,
  OPTIONS_TYPE: WECHAT_PARTNER_PAY_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: WECHAT_PARTNER_PAY_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<WechatPartnerPayModuleOptions>({ moduleName: 'WechatPartnerPay' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createWechatPartnerPayOptions')
  .setExtras({ isGlobal: false }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
  .build();

/** Argument of `WechatPartnerPayModule.forRoot()`: the module options plus `isGlobal`. */
export type WechatPartnerPayForRootOptions = typeof WECHAT_PARTNER_PAY_OPTIONS_TYPE;
/** Argument of `WechatPartnerPayModule.forRootAsync()`: `imports`, `inject`, `useFactory | useClass | useExisting`, `isGlobal`. */
export type WechatPartnerPayAsyncOptions = typeof WECHAT_PARTNER_PAY_ASYNC_OPTIONS_TYPE;

/**
 * The injection token of the raw module options (what `forRoot()` is given or `forRootAsync()`'s factory returns).
 * Tests override it to point an app at the simulator:
 * `Test.createTestingModule({ imports: [AppModule] }).overrideProvider(WECHAT_PARTNER_PAY_OPTIONS).useValue(sim.moduleOptions())`.
 */
export const WECHAT_PARTNER_PAY_OPTIONS: string | symbol = WECHAT_PARTNER_PAY_MODULE_OPTIONS;
