export { WechatPayExceptionFilter } from './wechat-pay-exception.filter';
export type { WechatPayErrorReply, WechatPayErrorResponseBody } from './wechat-pay-exception.filter';
