import { defineEndpoint } from '../core/http/endpoint';

const COMBINE = '/v3/combine-transactions';

/**
 * Combine orders (合单支付): one payment for sub-orders of several sub-merchants. The paths are
 * the same for direct merchants, partners and 平台收付通; the partner body is what this module sends.
 */
export const COMBINE_ORDER_ENDPOINTS = {
  // Safe to retry: WeChat keys a combine order on combine_out_trade_no ("同一…单号多次请求等同一次").
  jsapiPrepay: defineEndpoint({ name: 'combineOrders.jsapiPrepay', method: 'POST', path: `${COMBINE}/jsapi`, idempotent: true, response: 'json' }),
  appPrepay: defineEndpoint({ name: 'combineOrders.appPrepay', method: 'POST', path: `${COMBINE}/app`, idempotent: true, response: 'json' }),
  h5Prepay: defineEndpoint({ name: 'combineOrders.h5Prepay', method: 'POST', path: `${COMBINE}/h5`, idempotent: true, response: 'json' }),
  nativePrepay: defineEndpoint({ name: 'combineOrders.nativePrepay', method: 'POST', path: `${COMBINE}/native`, idempotent: true, response: 'json' }),
  // No query string: the combine order is the provider's own.
  query: defineEndpoint({ name: 'combineOrders.query', method: 'GET', path: `${COMBINE}/out-trade-no/{combine_out_trade_no}`, idempotent: true, response: 'json' }),
  close: defineEndpoint({ name: 'combineOrders.close', method: 'POST', path: `${COMBINE}/out-trade-no/{combine_out_trade_no}/close`, idempotent: true, response: 'empty' }),
} as const;
