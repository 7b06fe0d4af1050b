/**
 * Every endpoint descriptor the client calls has a route in the simulator: an unsigned request to each descriptor's
 * path is routed (401 SIGN_ERROR, from authentication) rather than unknown (404). Paths come from the descriptors
 * only, so a descriptor whose path changes without its simulator route would fail here.
 */
import { buildPath, pathParamNames, type WechatPayEndpoint } from '../lib/core/http/endpoint';
import { BILL_ENDPOINTS } from '../lib/bills/bills.endpoints';
import { CERTIFICATE_ENDPOINTS } from '../lib/certificates/certificates.endpoints';
import { COMBINE_ORDER_ENDPOINTS } from '../lib/combine-orders/combine-orders.endpoints';
import { ORDER_ENDPOINTS } from '../lib/orders/orders.endpoints';
import { REFUND_ENDPOINTS } from '../lib/refunds/refunds.endpoints';
import { ECOMMERCE_REFUND_ENDPOINTS } from '../lib/refunds/ecommerce-refunds.endpoints';
import { MEDIA_ENDPOINTS } from '../lib/media/media.endpoints';
import { ECOMMERCE_PROFIT_SHARING_ENDPOINTS, PARTNER_PROFIT_SHARING_ENDPOINTS } from '../lib/profit-sharing/profit-sharing.endpoints';
import { WechatPaySimulator } from '../lib/testing';

const ENDPOINTS: WechatPayEndpoint[] = [ORDER_ENDPOINTS, COMBINE_ORDER_ENDPOINTS, REFUND_ENDPOINTS, ECOMMERCE_REFUND_ENDPOINTS, MEDIA_ENDPOINTS, BILL_ENDPOINTS, CERTIFICATE_ENDPOINTS, ECOMMERCE_PROFIT_SHARING_ENDPOINTS, PARTNER_PROFIT_SHARING_ENDPOINTS].flatMap((family) => Object.values(family));

let sim: WechatPaySimulator;
beforeAll(async () => {
  sim = await WechatPaySimulator.start();
});
afterAll(() => sim.close());

async function unsigned(method: string, path: string): Promise<{ status: number; code?: string }> {
  const res = await fetch(`${sim.baseUrl}${path}`, { method, headers: { 'Content-Type': 'application/json' }, body: method === 'POST' ? '{}' : undefined });
  const body = (await res.json()) as { code?: string };
  return { status: res.status, code: body.code };
}

it.each(ENDPOINTS.map((e) => [e.name, e] as const))('%s has a simulator route', async (_name, endpoint) => {
  const params = Object.fromEntries(pathParamNames(endpoint.path).map((n) => [n, 'X1234567']));
  expect(await unsigned(endpoint.method, buildPath(endpoint.path, params))).toEqual({ status: 401, code: 'SIGN_ERROR' });
});

it('a path no descriptor declares is 404, before authentication', async () => {
  expect(await unsigned('GET', '/v3/pay/partner/transactions/unknown/X1/Y')).toEqual({ status: 404, code: 'NOT_FOUND' });
  expect(await unsigned('DELETE', buildPath(ORDER_ENDPOINTS.queryByOutTradeNo.path, { out_trade_no: 'X1234567' }))).toEqual({ status: 404, code: 'NOT_FOUND' });
});
