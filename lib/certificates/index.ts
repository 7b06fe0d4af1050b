export * from './wechat-pay-certificates.service';
