/**
 * The root entry point: the module, its services, notifications, bills, crypto and errors. The offline WeChat Pay
 * simulator is the `nestjs-wechat-partner-pay/testing` entry point.
 *
 * @packageDocumentation
 * @module nestjs-wechat-partner-pay
 */
export * from './interfaces';
export * from './core/errors/wechat-pay.errors';
export * from './core/crypto';
export { resolveWechatPayConfig, notifyUrlProblem, DEFAULT_BASE_URL, DEFAULT_BACKUP_BASE_URL } from './core/config/resolve-config';
export type { ResolvedWechatPayConfig } from './core/config/resolve-config';
export * from './core/http/wechat-pay.client';
export * from './certificates';
export * from './orders';
export * from './bills';
export * from './refunds';
export * from './notifications';
export { formatBeijingRfc3339, beijingDate, parseRfc3339 } from './core/time';
export { WechatPartnerPayModule } from './wechat-partner-pay.module';
export type { WechatPartnerPayForRootOptions, WechatPartnerPayAsyncOptions } from './wechat-partner-pay.module-definition';
