export * from './dto';
export * from './profit-sharing.errors';
export * from './profit-sharing.events';
export * from './wechat-pay-profit-sharing.service';
