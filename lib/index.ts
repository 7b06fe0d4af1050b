/**
 * The public API: the module, its services, wire DTOs, errors, decorators, dedupe stores and time helpers.
 * Crypto primitives are in `nestjs-wechat-partner-pay/crypto`, the simulator and test helpers in `/testing`.
 *
 * @packageDocumentation
 * @module nestjs-wechat-partner-pay
 */
export * from './interfaces';
export * from './core/errors/wechat-pay.errors';
export * from './client/wechat-pay.client';
export * from './certificates';
export * from './orders';
export * from './combine-orders';
export * from './bills';
export * from './refunds';
export * from './media';
export * from './profit-sharing';
export * from './notifications';
export * from './filters';
export { formatBeijingRfc3339, beijingDate, parseRfc3339 } from './core/time';
export { WechatPartnerPayModule } from './wechat-partner-pay.module';
export { WECHAT_PARTNER_PAY_OPTIONS } from './wechat-partner-pay.module-definition';
export type { WechatPartnerPayForRootOptions, WechatPartnerPayAsyncOptions } from './wechat-partner-pay.module-definition';
