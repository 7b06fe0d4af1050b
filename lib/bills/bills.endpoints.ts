import { defineEndpoint } from '../core/http/endpoint';

/** Bills: apply for a bill, then download the file its answer points at. */
export const BILL_ENDPOINTS = {
  tradeBill: defineEndpoint({
    name: 'bills.tradeBill',
    method: 'GET',
    path: '/v3/bill/tradebill',
    query: ['bill_date', 'sub_mchid', 'bill_type', 'tar_type'],
    idempotent: true,
    response: 'json',
  }),
  fundFlowBill: defineEndpoint({
    name: 'bills.fundFlowBill',
    method: 'GET',
    path: '/v3/bill/fundflowbill',
    query: ['bill_date', 'account_type', 'tar_type'],
    idempotent: true,
    response: 'json',
  }),
  subMerchantFundFlowBill: defineEndpoint({
    name: 'bills.subMerchantFundFlowBill',
    method: 'GET',
    path: '/v3/bill/sub-merchant-fundflowbill',
    query: ['sub_mchid', 'bill_date', 'account_type', 'algorithm', 'tar_type'],
    idempotent: true,
    response: 'json',
  }),
  /** The file behind a `download_url`: signed request, unsigned answer. */
  download: defineEndpoint({ name: 'bills.download', method: 'GET', path: '/v3/billdownload/file', query: ['token', 'tartype'], idempotent: true, response: 'file' }),
} as const;
