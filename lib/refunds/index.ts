export * from './dto';
export * from './wechat-pay-refunds.service';
export * from './refunds.events';
