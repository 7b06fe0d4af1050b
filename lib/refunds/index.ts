export * from './dto';
export * from './wechat-pay-refunds.service';
