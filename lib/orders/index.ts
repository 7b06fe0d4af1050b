export * from './dto';
export * from './wechat-pay-orders.service';
export * from './orders.events';
