import { defineEndpoint } from '../core/http/endpoint';

const TRANSACTIONS = '/v3/pay/partner/transactions';

/** Partner orders: prepay per scene, query by either id, close. */
export const ORDER_ENDPOINTS = {
  // Safe to retry: a re-sent identical body for the same out_trade_no returns a usable prepay_id.
  jsapiPrepay: defineEndpoint({ name: 'orders.jsapiPrepay', method: 'POST', path: `${TRANSACTIONS}/jsapi`, idempotent: true, response: 'json' }),
  appPrepay: defineEndpoint({ name: 'orders.appPrepay', method: 'POST', path: `${TRANSACTIONS}/app`, idempotent: true, response: 'json' }),
  h5Prepay: defineEndpoint({ name: 'orders.h5Prepay', method: 'POST', path: `${TRANSACTIONS}/h5`, idempotent: true, response: 'json' }),
  nativePrepay: defineEndpoint({ name: 'orders.nativePrepay', method: 'POST', path: `${TRANSACTIONS}/native`, idempotent: true, response: 'json' }),
  queryByTransactionId: defineEndpoint({
    name: 'orders.queryByTransactionId',
    method: 'GET',
    path: `${TRANSACTIONS}/id/{transaction_id}`,
    query: ['sp_mchid', 'sub_mchid'],
    idempotent: true,
    response: 'json',
  }),
  queryByOutTradeNo: defineEndpoint({
    name: 'orders.queryByOutTradeNo',
    method: 'GET',
    path: `${TRANSACTIONS}/out-trade-no/{out_trade_no}`,
    query: ['sp_mchid', 'sub_mchid'],
    idempotent: true,
    response: 'json',
  }),
  close: defineEndpoint({ name: 'orders.close', method: 'POST', path: `${TRANSACTIONS}/out-trade-no/{out_trade_no}/close`, idempotent: true, response: 'empty' }),
} as const;
