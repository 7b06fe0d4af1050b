export * from './dto';
export * from './assert-notification-matches-cart';
export * from './wechat-pay-combine-orders.service';
