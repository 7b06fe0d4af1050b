import { defineEndpoint } from '../core/http/endpoint';

const E = '/v3/ecommerce/profitsharing';
const P = '/v3/profitsharing';

/**
 * 平台收付通 (ecommerce) profit sharing: the family of a module with `product: 'ecommerce'`.
 * The bodies carry no `sp_mchid`: the platform is the signer [SDK wechatpay-java `ecommerceprofitsharing`].
 * `createOrder` always carries `Wechatpay-Serial`, as JAVA sends it (its `receivers[].receiver_name` is 🔐).
 */
export const ECOMMERCE_PROFIT_SHARING_ENDPOINTS = {
  // Re-adding an existing receiver succeeds ("重复绑定返回成功"), so the identical body may be sent again.
  addReceiver: defineEndpoint({ name: 'ecommerceProfitSharing.addReceiver', method: 'POST', path: `${E}/receivers/add`, idempotent: true, response: 'json' }),
  deleteReceiver: defineEndpoint({ name: 'ecommerceProfitSharing.deleteReceiver', method: 'POST', path: `${E}/receivers/delete`, idempotent: true, response: 'json' }),
  // "接口支持幂等重入" on out_order_no; the body is serialized once, so a retry resends the same ciphertexts.
  createOrder: defineEndpoint({ name: 'ecommerceProfitSharing.createOrder', method: 'POST', path: `${E}/orders`, idempotent: true, response: 'json', sensitive: ['receivers'] }),
  queryOrder: defineEndpoint({
    name: 'ecommerceProfitSharing.queryOrder',
    method: 'GET',
    path: `${E}/orders`,
    query: ['sub_mchid', 'transaction_id', 'out_order_no'],
    idempotent: true,
    response: 'json',
  }),
  finishOrder: defineEndpoint({ name: 'ecommerceProfitSharing.finishOrder', method: 'POST', path: `${E}/finish-order`, idempotent: true, response: 'json' }),
  queryAmounts: defineEndpoint({ name: 'ecommerceProfitSharing.queryAmounts', method: 'GET', path: `${E}/orders/{transaction_id}/amounts`, idempotent: true, response: 'json' }),
  // Keyed on out_return_no: "never change it while the return is PROCESSING" [SDK javadoc].
  createReturnOrder: defineEndpoint({ name: 'ecommerceProfitSharing.createReturnOrder', method: 'POST', path: `${E}/returnorders`, idempotent: true, response: 'json' }),
  queryReturnOrder: defineEndpoint({
    name: 'ecommerceProfitSharing.queryReturnOrder',
    method: 'GET',
    path: `${E}/returnorders`,
    query: ['sub_mchid', 'out_return_no', 'order_id', 'out_order_no'],
    idempotent: true,
    response: 'json',
  }),
} as const;

/**
 * 普通服务商 (partner) profit sharing (right column) [SDK wechatpay-go `services/profitsharing`]:
 * the family of a module with `product: 'partner'`. Receivers are per `sub_mchid`, and `name` is 🔐 on both
 * `receivers/add` and the split.
 */
export const PARTNER_PROFIT_SHARING_ENDPOINTS = {
  addReceiver: defineEndpoint({ name: 'profitSharing.addReceiver', method: 'POST', path: `${P}/receivers/add`, idempotent: true, response: 'json', sensitive: ['name'] }),
  deleteReceiver: defineEndpoint({ name: 'profitSharing.deleteReceiver', method: 'POST', path: `${P}/receivers/delete`, idempotent: true, response: 'json' }),
  createOrder: defineEndpoint({ name: 'profitSharing.createOrder', method: 'POST', path: `${P}/orders`, idempotent: true, response: 'json', sensitive: ['receivers'] }),
  queryOrder: defineEndpoint({ name: 'profitSharing.queryOrder', method: 'GET', path: `${P}/orders/{out_order_no}`, query: ['sub_mchid', 'transaction_id'], idempotent: true, response: 'json' }),
  finishOrder: defineEndpoint({ name: 'profitSharing.finishOrder', method: 'POST', path: `${P}/orders/unfreeze`, idempotent: true, response: 'json' }),
  queryAmounts: defineEndpoint({ name: 'profitSharing.queryAmounts', method: 'GET', path: `${P}/transactions/{transaction_id}/amounts`, idempotent: true, response: 'json' }),
  createReturnOrder: defineEndpoint({ name: 'profitSharing.createReturnOrder', method: 'POST', path: `${P}/return-orders`, idempotent: true, response: 'json' }),
  queryReturnOrder: defineEndpoint({
    name: 'profitSharing.queryReturnOrder',
    method: 'GET',
    path: `${P}/return-orders/{out_return_no}`,
    query: ['sub_mchid', 'out_order_no'],
    idempotent: true,
    response: 'json',
  }),
} as const;
