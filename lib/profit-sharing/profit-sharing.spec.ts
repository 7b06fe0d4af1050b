import 'reflect-metadata';
import { PARTNER_TRANSACTION_EVENT } from '../orders/orders.events';
import { COMBINE_TRANSACTION_EVENT } from '../combine-orders/combine-orders.events';
import { BUILT_IN_NOTIFICATION_EVENTS } from '../notifications/notification-events';
import { NotificationEventRegistry } from '../core/notify/notification-event-registry';
import { ProfitSharingResource } from './dto/profit-sharing-resource.dto';
import { PROFIT_SHARING_EVENT } from './profit-sharing.events';
import { profitSharingErrorReason } from './profit-sharing.errors';

const split = { sp_mchid: '1900000100', sub_mchid: '1900000109', transaction_id: '4200', order_id: '3008', out_order_no: 'P1', receiver: { type: 'MERCHANT_ID', account: '1900000100', amount: 5, description: 'x' }, success_time: '2026-12-01T10:00:00+08:00' };
const payment = { sp_mchid: '1900000100', sub_mchid: '1900000109', out_trade_no: 'T1', transaction_id: '4200', trade_state: 'SUCCESS' };

describe('the profit-sharing notification kind', () => {
  it.each([
    ['PROFITSHARING.SUCCESS', 'profitsharing'],
    ['PROFITSHARING.RETURN', 'profitsharing'],
    ['TRANSACTION.SUCCESS', 'transaction'],
    ['TRANSACTION.SUCCESS', 'profitsharing'],
    ['PROFITSHARING.SUCCESS', undefined],
  ])('recognises %s with original_type %s by its shape', (eventType, originalType) => {
    const registry = new NotificationEventRegistry(BUILT_IN_NOTIFICATION_EVENTS);
    expect(registry.find(eventType, originalType, split)?.name).toBe('profit-sharing');
  });

  it('is not a payment, not a cart, and not accepted by default', () => {
    expect(PROFIT_SHARING_EVENT.match('TRANSACTION.SUCCESS', 'transaction', payment)).toBe(false);
    expect(PARTNER_TRANSACTION_EVENT.match('TRANSACTION.SUCCESS', 'transaction', split)).toBe(false);
    expect(COMBINE_TRANSACTION_EVENT.match('TRANSACTION.SUCCESS', 'transaction', split)).toBe(false);
    expect(PROFIT_SHARING_EVENT.match('REFUND.SUCCESS', 'refund', split)).toBe(false);
    expect(new NotificationEventRegistry(BUILT_IN_NOTIFICATION_EVENTS).defaultKinds()).not.toContain('profit-sharing');
  });

  it('dedupes per order_id, receiver and event (the summary when both arrive as TRANSACTION.SUCCESS)', () => {
    const resource = Object.assign(new ProfitSharingResource(), split);
    const key = (event_type: string, summary: string) =>
      PROFIT_SHARING_EVENT.dedupeKey({ envelope: { id: 'n', create_time: '', event_type, resource_type: 'encrypt-resource', summary }, resource, kind: 'profit-sharing' });
    expect(key('PROFITSHARING.SUCCESS', '分账')).toBe('profitsharing:3008:1900000100:PROFITSHARING.SUCCESS');
    expect(key('TRANSACTION.SUCCESS', '分账')).not.toBe(key('TRANSACTION.SUCCESS', '分账回退'));
  });
});

describe('profit-sharing error reasons (ecommerce spec §1.13)', () => {
  it.each([
    ['非分账订单不支持分账', 'NOT_PROFIT_SHARING_ORDER'],
    ['分账金额不足', 'INSUFFICIENT_AMOUNT'],
    ['分账金额超出最大分账比例', 'RATIO_EXCEEDED'],
    ['分账接收方关系不存在', 'RECEIVER_NOT_FOUND'],
    ['订单处理中，请稍后重试', 'ORDER_PROCESSING'],
    ['请在到达结算周期之后再请求分账', 'ORDER_PROCESSING'],
    ['订单已完结分账，不支持分账', 'ALREADY_FINISHED'],
    ['电商商户不允许调用非电商分账API', 'WRONG_PRODUCT'],
    ['非电商商户暂不支持调用此API', 'WRONG_PRODUCT'],
    ['HTTP header缺少微信支付平台证书序列号(Wechatpay-Serial)', 'ENCRYPTION'],
    ['微信用户姓名与实名不一致', 'NAME_MISMATCH'],
    ['something else', 'OTHER'],
  ])('%s → %s', (message, reason) => {
    expect(profitSharingErrorReason('INVALID_REQUEST', message)).toBe(reason);
  });
});
