import { defineEndpoint } from '../core/http/endpoint';

const REFUNDS = '/v3/ecommerce/refunds';

/**
 * 平台收付通 (ecommerce) refunds: the refund family of a module with `product: 'ecommerce'`.
 * The bodies carry no `sp_mchid`: the platform is the signer [SDK wechatpay-java `ecommercerefund`].
 */
export const ECOMMERCE_REFUND_ENDPOINTS = {
  // Keyed on out_refund_no: "同一退款单号多次请求只退一笔", so the identical body may be sent again.
  create: defineEndpoint({ name: 'ecommerceRefunds.create', method: 'POST', path: `${REFUNDS}/apply`, idempotent: true, response: 'json' }),
  queryByRefundId: defineEndpoint({
    name: 'ecommerceRefunds.queryByRefundId',
    method: 'GET',
    path: `${REFUNDS}/id/{refund_id}`,
    query: ['sub_mchid'],
    idempotent: true,
    response: 'json',
  }),
  queryByOutRefundNo: defineEndpoint({
    name: 'ecommerceRefunds.queryByOutRefundNo',
    method: 'GET',
    path: `${REFUNDS}/out-refund-no/{out_refund_no}`,
    query: ['sub_mchid'],
    idempotent: true,
    response: 'json',
  }),
  // Keyed on refund_id, with no merchant number; a second POST is expected to answer the existing result
  // [UNVERIFIED], so it is not retried automatically: query with queryReturnAdvance() after a network error.
  returnAdvance: defineEndpoint({ name: 'ecommerceRefunds.returnAdvance', method: 'POST', path: `${REFUNDS}/{refund_id}/return-advance`, idempotent: false, response: 'json' }),
  queryReturnAdvance: defineEndpoint({
    name: 'ecommerceRefunds.queryReturnAdvance',
    method: 'GET',
    path: `${REFUNDS}/{refund_id}/return-advance`,
    query: ['sub_mchid'],
    idempotent: true,
    response: 'json',
  }),
  // As the partner version: the body is serialized once, so a retry resends the same ciphertexts [UNVERIFIED re-entry].
  applyAbnormalRefund: defineEndpoint({
    name: 'ecommerceRefunds.applyAbnormalRefund',
    method: 'POST',
    path: `${REFUNDS}/{refund_id}/apply-abnormal-refund`,
    idempotent: true,
    response: 'json',
    sensitive: ['bank_account', 'real_name'],
  }),
} as const;
