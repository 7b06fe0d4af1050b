import { defineEndpoint } from '../core/http/endpoint';

const REFUNDS = '/v3/refund/domestic/refunds';

/** Partner (普通服务商) refunds. */
export const REFUND_ENDPOINTS = {
  // WeChat Pay keys a refund on out_refund_no: the same body again returns the same refund.
  create: defineEndpoint({ name: 'refunds.create', method: 'POST', path: REFUNDS, idempotent: true, response: 'json' }),
  queryByOutRefundNo: defineEndpoint({
    name: 'refunds.queryByOutRefundNo',
    method: 'GET',
    path: `${REFUNDS}/{out_refund_no}`,
    query: ['sub_mchid'],
    idempotent: true,
    response: 'json',
  }),
  // The body is serialized once, so a retry resends the same ciphertexts; WeChat Pay keys the application on
  // out_refund_no ("同一退款单号多次请求只退一笔") [UNVERIFIED for this endpoint's re-entry].
  applyAbnormalRefund: defineEndpoint({
    name: 'refunds.applyAbnormalRefund',
    method: 'POST',
    path: `${REFUNDS}/{refund_id}/apply-abnormal-refund`,
    idempotent: true,
    response: 'json',
    sensitive: ['bank_account', 'real_name'],
  }),
} as const;
