export * from './interfaces';
export * from './core/errors/wechat-pay.errors';
export * from './core/crypto';
export { resolveWechatPayConfig, notifyUrlProblem, DEFAULT_BASE_URL, DEFAULT_BACKUP_BASE_URL } from './core/config/resolve-config';
export type { ResolvedWechatPayConfig } from './core/config/resolve-config';
export * from './core/http/wechat-pay.client';
export * from './certificates';
export { WechatPartnerPayModule } from './wechat-partner-pay.module';
export { WECHAT_PARTNER_PAY_OPTIONS_TYPE, WECHAT_PARTNER_PAY_ASYNC_OPTIONS_TYPE } from './wechat-partner-pay.module-definition';
