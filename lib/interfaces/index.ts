export * from './notification-dedupe-store.interface';
export * from './wechat-partner-pay-options.interface';
