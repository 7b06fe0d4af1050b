import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { WechatPayLifecycleModuleOptions } from './lifecycle.options';

/** forRoot/forRootAsync come from ConfigurableModuleBuilder, as for WechatPartnerPayModule. */
export const {
  ConfigurableModuleClass: WechatPayLifecycleConfigurableModule,
  MODULE_OPTIONS_TOKEN: WECHAT_PAY_LIFECYCLE_MODULE_OPTIONS,
  OPTIONS_TYPE: WECHAT_PAY_LIFECYCLE_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: WECHAT_PAY_LIFECYCLE_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<WechatPayLifecycleModuleOptions>({ moduleName: 'WechatPayLifecycle' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createWechatPayLifecycleOptions')
  .setExtras({ isGlobal: false }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
  .build();

/** Argument of `WechatPayLifecycleModule.forRoot()`. */
export type WechatPayLifecycleForRootOptions = typeof WECHAT_PAY_LIFECYCLE_OPTIONS_TYPE;
/** Argument of `WechatPayLifecycleModule.forRootAsync()`. */
export type WechatPayLifecycleAsyncOptions = typeof WECHAT_PAY_LIFECYCLE_ASYNC_OPTIONS_TYPE;
