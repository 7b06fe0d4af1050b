export * from './dto';
export * from './wechat-pay-media.service';
