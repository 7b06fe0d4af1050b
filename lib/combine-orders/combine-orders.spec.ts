import 'reflect-metadata';
import { WechatPayNotificationMismatchError } from '../notifications/wechat-pay-notification.errors';
import { PARTNER_TRANSACTION_EVENT } from '../orders/orders.events';
import { assertNotificationMatchesCart, type NotificationCartFields } from './assert-notification-matches-cart';
import { COMBINE_TRANSACTION_EVENT } from './combine-orders.events';

const cartResource = (): NotificationCartFields & Record<string, unknown> => ({
  combine_appid: 'wx8888888888888888',
  combine_mchid: '1230000109',
  combine_out_trade_no: 'C20240520001',
  sub_orders: [
    { out_trade_no: 'S1', sub_mchid: '1900000109', amount: { total_amount: 100 } },
    { out_trade_no: 'S2', sub_mchid: '1900000110', amount: { total_amount: 250 } },
  ],
});

const single = { sp_mchid: '1230000109', sub_mchid: '1900000109', out_trade_no: 'S1', trade_state: 'SUCCESS', amount: { total: 1 } };

describe('combine-transaction notification kind', () => {
  it('recognises a cart under TRANSACTION.SUCCESS / transaction, and nothing else', () => {
    const m = COMBINE_TRANSACTION_EVENT.match;
    expect(m('TRANSACTION.SUCCESS', 'transaction', cartResource())).toBe(true);
    expect(m('TRANSACTION.SUCCESS', undefined, cartResource())).toBe(true);
    expect(m('TRANSACTION.SUCCESS', 'profitsharing', cartResource())).toBe(false);
    expect(m('REFUND.SUCCESS', 'refund', cartResource())).toBe(false);
    expect(m('TRANSACTION.SUCCESS', 'transaction', single)).toBe(false);
    const { sub_orders: _, ...noSubOrders } = cartResource();
    expect(m('TRANSACTION.SUCCESS', 'transaction', noSubOrders)).toBe(false);
  });

  it('and the single-order kind never takes a cart', () => {
    expect(PARTNER_TRANSACTION_EVENT.match('TRANSACTION.SUCCESS', 'transaction', cartResource())).toBe(false);
    expect(PARTNER_TRANSACTION_EVENT.match('TRANSACTION.SUCCESS', 'transaction', single)).toBe(true);
  });

  it('is not accepted by routes that list no resources', () => {
    expect(COMBINE_TRANSACTION_EVENT.acceptedByDefault).toBeFalsy();
  });
});

describe('assertNotificationMatchesCart', () => {
  const cart = {
    combine_out_trade_no: 'C20240520001',
    combine_mchid: '1230000109',
    sub_orders: [
      { out_trade_no: 'S1', sub_mchid: '1900000109', total_amount: 100 },
      { out_trade_no: 'S2', sub_mchid: '1900000110', total_amount: 250 },
    ],
  };
  const fieldsOf = (f: () => void): readonly string[] => {
    try {
      f();
    } catch (e) {
      if (e instanceof WechatPayNotificationMismatchError) return e.fields;
      throw e;
    }
    return [];
  };

  it('passes a matching cart, in any sub-order order', () => {
    const r = cartResource();
    expect(fieldsOf(() => assertNotificationMatchesCart({ ...r, sub_orders: [...r.sub_orders].reverse() }, cart))).toEqual([]);
  });

  it('names every differing field by the index in the local cart, never a value', () => {
    const r = cartResource();
    const tampered = { ...r, combine_mchid: '1230000999', sub_orders: [{ ...r.sub_orders[0], sub_mchid: '1900000110' }, { ...r.sub_orders[1], amount: { total_amount: 1 } }] };
    const fields = fieldsOf(() => assertNotificationMatchesCart(tampered, cart));
    expect(fields).toEqual(['combine_mchid', 'sub_orders[0].sub_mchid', 'sub_orders[1].amount.total_amount']);
    expect(fields.join()).not.toContain('1230000999');
  });

  it('names missing and extra sub-orders', () => {
    const r = cartResource();
    expect(fieldsOf(() => assertNotificationMatchesCart({ ...r, sub_orders: [r.sub_orders[0]] }, cart))).toEqual(['sub_orders[1]', 'sub_orders.length']);
    const extra = { ...r, sub_orders: [...r.sub_orders, { out_trade_no: 'S3', sub_mchid: '1900000109', amount: { total_amount: 5 } }] };
    expect(fieldsOf(() => assertNotificationMatchesCart(extra, cart))).toEqual(['sub_orders.length']);
    expect(fieldsOf(() => assertNotificationMatchesCart({ ...r, combine_out_trade_no: 'C2' }, { sub_orders: cart.sub_orders, combine_out_trade_no: 'C20240520001' }))).toEqual(['combine_out_trade_no']);
  });
});
