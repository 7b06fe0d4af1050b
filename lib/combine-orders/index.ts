export * from './dto';
export * from './assert-notification-matches-cart';
export * from './combine-orders.events';
export * from './wechat-pay-combine-orders.service';
