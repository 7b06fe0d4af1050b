/**
 * Validation of 平台收付通 refund requests: the apply body, and the `sub_mchid` of the
 * queries and of the return-advance.
 */
import { check, fail, type Rule, str } from '../simulator-validation';
import { SIM_OUT_TRADE_NO_PATTERN } from './orders.validation';
import { checkRefundCommon, SIM_OUT_REFUND_NO_PATTERN } from './refunds.validation';

const ECOMMERCE_REFUND_SCHEMA: Rule = {
  type: 'object',
  required: true,
  fields: {
    sub_mchid: str(1, 32, true),
    sp_appid: str(1, 32, true),
    sub_appid: str(1, 32),
    transaction_id: { type: 'string', pattern: /^\d{1,32}$/, issue: 'must be 1-32 digits' },
    out_trade_no: { type: 'string', pattern: SIM_OUT_TRADE_NO_PATTERN, issue: 'must be 6-32 characters of [0-9A-Za-z_-|*]' },
    out_refund_no: { type: 'string', required: true, pattern: SIM_OUT_REFUND_NO_PATTERN, issue: 'must be 1-64 characters of [0-9A-Za-z_-|*@]' },
    reason: str(1, 80),
    notify_url: str(1, 256),
    refund_account: { type: 'string', enum: ['REFUND_SOURCE_SUB_MERCHANT', 'REFUND_SOURCE_PARTNER_ADVANCE'] },
    funds_account: { type: 'string', enum: ['AVAILABLE'] },
    amount: {
      type: 'object',
      required: true,
      fields: {
        refund: { type: 'integer', required: true, min: 1 },
        total: { type: 'integer', required: true, min: 1 },
        // Whether WeChat requires it is UNVERIFIED: the simulator accepts its absence.
        currency: { type: 'string', enum: ['CNY'] },
        from: {
          type: 'array',
          min: 1,
          items: {
            type: 'object',
            fields: { account: { type: 'string', required: true, enum: ['AVAILABLE', 'UNAVAILABLE'] }, amount: { type: 'integer', required: true, min: 1 } },
          },
        },
      },
    },
  },
};

/**
 * Validates `POST /v3/ecommerce/refunds/apply`: schema, exactly one order id, notify_url, and `amount.from` adding up,
 * one entry per account, neither with `funds_account` nor on an advance refund [SDK javadoc].
 */
export function validateEcommerceRefundBody(body: unknown): void {
  check(ECOMMERCE_REFUND_SCHEMA, body, '');
  const { b, amount } = checkRefundCommon(body);
  if (amount.from) {
    if (new Set(amount.from.map((f) => f.account)).size !== amount.from.length) fail('/amount/from', null, 'must name each account at most once');
    if (b.funds_account !== undefined) fail('/amount/from', null, 'must not be sent together with funds_account');
    if (b.refund_account === 'REFUND_SOURCE_PARTNER_ADVANCE') fail('/amount/from', null, 'is not allowed on an advance refund');
  }
}

/** The `sub_mchid` of a query string (`?sub_mchid=`), required. */
export function querySubMchid(query: URLSearchParams): string {
  const sub = query.get('sub_mchid');
  if (!sub) fail('/sub_mchid', sub, 'is required', 'query');
  if (sub.length > 32) fail('/sub_mchid', sub, 'must be at most 32 characters', 'query');
  return sub;
}

/** The body of `POST …/{refund_id}/return-advance`: `{ "sub_mchid": "…" }` and nothing else. */
export function validateReturnAdvanceBody(refundId: string, body: unknown): string {
  validateRefundIdParam(refundId);
  check({ type: 'object', required: true, fields: { sub_mchid: str(1, 32, true) } }, body, '');
  return (body as { sub_mchid: string }).sub_mchid;
}

/** The refund_id path segment. */
export function validateRefundIdParam(refundId: string): void {
  if (!/^[0-9A-Za-z_-]{1,32}$/.test(refundId)) fail('/refund_id', refundId, 'must be 1-32 characters', 'path');
}
