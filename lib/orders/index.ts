export * from './dto';
export * from './wechat-pay-orders.service';
