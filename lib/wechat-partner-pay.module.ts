import { HttpModule } from '@nestjs/axios';
import { Logger, Module, type Provider } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { WechatPayBootVerification } from './boot/wechat-pay-boot-verification.service';
import { WechatPayRouteCheck } from './boot/wechat-pay-route-check.service';
import { resolveWechatPayConfig, type ResolvedWechatPayConfig } from './core/config/resolve-config';
import { WechatPayKeyStore } from './core/crypto/key-store';
import { WechatPayVerifier } from './core/crypto/verifier';
import { WechatPayClient } from './client/wechat-pay.client';
import { WechatPayCertificatesService } from './certificates/wechat-pay-certificates.service';
import { WechatPayOrdersService } from './orders/wechat-pay-orders.service';
import { WechatPayOrderCreatedHooks } from './orders/order-created.hooks';
import { WechatPayCombineOrdersService } from './combine-orders/wechat-pay-combine-orders.service';
import { WechatPayBillsService } from './bills/wechat-pay-bills.service';
import { WechatPayRefundsService } from './refunds/wechat-pay-refunds.service';
import { WechatPayMediaService } from './media/wechat-pay-media.service';
import { WechatPayProfitSharingService } from './profit-sharing/wechat-pay-profit-sharing.service';
import { WechatPayNotificationService } from './notifications/wechat-pay-notification.service';
import type { WechatPartnerPayModuleOptions } from './interfaces/wechat-partner-pay-options.interface';
import { WECHAT_PAY_CONFIG, WECHAT_PAY_KEY_STORE, WECHAT_PAY_VERIFIER } from './wechat-partner-pay.constants';
import { WECHAT_PARTNER_PAY_MODULE_OPTIONS, WechatPartnerPayConfigurableModule } from './wechat-partner-pay.module-definition';

const internalProviders: Provider[] = [
  {
    provide: WECHAT_PAY_CONFIG,
    inject: [WECHAT_PARTNER_PAY_MODULE_OPTIONS],
    useFactory: (options: WechatPartnerPayModuleOptions) => {
      const config = resolveWechatPayConfig(options);
      const logger = new Logger('WechatPartnerPayModule');
      for (const w of config.warnings) logger.warn(w);
      return config;
    },
  },
  {
    provide: WECHAT_PAY_KEY_STORE,
    inject: [WECHAT_PAY_CONFIG],
    useFactory: (config: ResolvedWechatPayConfig) => {
      const store = new WechatPayKeyStore(config.clock, config.verification.minForcedRefreshIntervalMs);
      const v = config.verification;
      if (v.publicKeyId && v.publicKey) store.add({ serial: v.publicKeyId, key: v.publicKey, kind: 'publicKey' });
      for (const c of v.certificates) {
        store.add({ serial: c.serialNo, key: c.publicKey, kind: 'platformCertificate', effectiveTime: c.validFrom, expireTime: c.validTo });
      }
      return store;
    },
  },
  {
    provide: WECHAT_PAY_VERIFIER,
    inject: [WECHAT_PAY_CONFIG, WECHAT_PAY_KEY_STORE],
    useFactory: (config: ResolvedWechatPayConfig, keys: WechatPayKeyStore) =>
      new WechatPayVerifier(keys, { clockSkewSeconds: config.clockSkewSeconds, clock: config.clock }),
  },
  // Boot checks: run at application bootstrap, after every module's onModuleInit (certificates downloaded).
  WechatPayRouteCheck,
  WechatPayBootVerification,
];

const services = [
  WechatPayClient,
  // Exported for the lifecycle module's automatic order watch (`watch.auto`); not part of the root entry.
  WechatPayOrderCreatedHooks,
  WechatPayCertificatesService,
  WechatPayOrdersService,
  WechatPayCombineOrdersService,
  WechatPayBillsService,
  WechatPayRefundsService,
  WechatPayNotificationService,
  WechatPayMediaService,
  WechatPayProfitSharingService];

/**
 * WeChat Pay APIv3 partner payments for NestJS. Register once with `forRoot(options)` or
 * `forRootAsync({ imports, inject, useFactory })`; inject the services by class.
 */
@Module({
  imports: [HttpModule.register({}), DiscoveryModule],
  providers: [...internalProviders, ...services],
  exports: [...services],
})
export class WechatPartnerPayModule extends WechatPartnerPayConfigurableModule {}
