/**
 * Validation of refund requests: the refund body, the query of a refund, and the application for an
 * abnormal refund, whose encrypted fields are never echoed in an error.
 */
import { SIMULATOR_ERRORS, SimulatorHttpError } from '../simulator-errors';
import { check, fail, notifyUrlIssue, type Rule, str } from '../simulator-validation';
import { SIM_OUT_TRADE_NO_PATTERN } from './orders.validation';

/** `[0-9A-Za-z_-|*@]`, 1–64 characters. */
export const SIM_OUT_REFUND_NO_PATTERN = /^[0-9A-Za-z_\-|*@]{1,64}$/;

const REFUND_SCHEMA: Rule = {
  type: 'object',
  required: true,
  fields: {
    sub_mchid: str(1, 32, true),
    transaction_id: { type: 'string', pattern: /^\d{1,32}$/, issue: 'must be 1-32 digits' },
    out_trade_no: { type: 'string', pattern: SIM_OUT_TRADE_NO_PATTERN, issue: 'must be 6-32 characters of [0-9A-Za-z_-|*]' },
    out_refund_no: { type: 'string', required: true, pattern: SIM_OUT_REFUND_NO_PATTERN, issue: 'must be 1-64 characters of [0-9A-Za-z_-|*@]' },
    // 80 is the usual bound; the spec marks it UNVERIFIED.
    reason: str(1, 80),
    notify_url: str(1, 256),
    funds_account: { type: 'string', enum: ['AVAILABLE'] },
    amount: {
      type: 'object',
      required: true,
      fields: {
        refund: { type: 'integer', required: true, min: 1 },
        total: { type: 'integer', required: true, min: 1 },
        currency: { type: 'string', required: true, enum: ['CNY'] },
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
    goods_detail: {
      type: 'array',
      min: 1,
      items: {
        type: 'object',
        fields: {
          merchant_goods_id: str(1, 32, true),
          wechatpay_goods_id: str(1, 32),
          goods_name: str(1, 256),
          unit_price: { type: 'integer', required: true, min: 0 },
          refund_amount: { type: 'integer', required: true, min: 0 },
          refund_quantity: { type: 'integer', required: true, min: 1 },
        },
      },
    },
  },
};


/**
 * The checks both refund families make after their schema: exactly one order id, notify_url, and `amount.from` adding
 * up to `amount.refund`. Returns the body and its amount for the family's own checks.
 */
export function checkRefundCommon(body: unknown): { b: Record<string, unknown>; amount: { refund: number; from?: Array<{ account: string; amount: number }> } } {
  const b = body as Record<string, unknown>;
  if ((b.transaction_id === undefined) === (b.out_trade_no === undefined)) {
    fail('/transaction_id', b.transaction_id ?? null, 'give exactly one of transaction_id and out_trade_no');
  }
  const notifyIssue = typeof b.notify_url === 'string' ? notifyUrlIssue(b.notify_url) : undefined;
  if (notifyIssue) fail('/notify_url', b.notify_url, notifyIssue);
  const amount = b.amount as { refund: number; from?: Array<{ account: string; amount: number }> };
  const fromSum = amount.from?.reduce((sum, f) => sum + f.amount, 0);
  if (fromSum !== undefined && fromSum !== amount.refund) fail('/amount/from', fromSum, `must add up to amount.refund (${amount.refund})`);
  return { b, amount };
}

/** Validates a refund body: schema, exactly one order id, notify_url, and `amount.from` adding up. */
export function validateRefundBody(body: unknown): void {
  check(REFUND_SCHEMA, body, '');
  checkRefundCommon(body);
}

const ABNORMAL_REFUND_SCHEMA: Rule = {
  type: 'object',
  required: true,
  fields: {
    sub_mchid: str(1, 32, true),
    out_refund_no: { type: 'string', required: true, pattern: SIM_OUT_REFUND_NO_PATTERN, issue: 'must be 1-64 characters of [0-9A-Za-z_-|*@]' },
    type: { type: 'string', required: true, enum: ['USER_BANK_CARD', 'MERCHANT_BANK_CARD'] },
    bank_type: str(1, 16),
    bank_account: str(1, 1024),
    real_name: str(1, 1024),
  },
};

/** Sensitive fields: their value is never echoed in `detail`. */
const SENSITIVE_FIELDS = new Set(['/bank_account', '/real_name']);

/**
 * Validates the body of `POST /v3/refund/domestic/refunds/{refund_id}/apply-abnormal-refund` and its path segment:
 * schema, and for USER_BANK_CARD the bank fields the docs require ("若退款至用户此字段必填"). Encrypted values are
 * never echoed in the error.
 */
export function validateAbnormalRefundBody(refundId: string, body: unknown): void {
  if (!/^[0-9A-Za-z_-]{1,32}$/.test(refundId)) fail('/refund_id', refundId, 'must be 1-32 characters', 'path');
  try {
    check(ABNORMAL_REFUND_SCHEMA, body, '');
  } catch (e) {
    if (e instanceof SimulatorHttpError && e.detail && SENSITIVE_FIELDS.has(e.detail.field)) {
      throw new SimulatorHttpError(SIMULATOR_ERRORS.PARAM_ERROR, e.message, { ...e.detail, value: null });
    }
    throw e;
  }
  const b = body as Record<string, unknown>;
  if (b.type === 'USER_BANK_CARD') {
    for (const name of ['bank_type', 'bank_account', 'real_name']) {
      if (b[name] === undefined) fail(`/${name}`, null, 'is required when type is USER_BANK_CARD');
    }
  }
}

/** Validates the refund query `?sub_mchid=` and the out_refund_no path segment; returns sub_mchid. */
export function validateRefundQuery(outRefundNo: string, query: URLSearchParams): string {
  if (!SIM_OUT_REFUND_NO_PATTERN.test(outRefundNo)) fail('/out_refund_no', outRefundNo, 'must be 1-64 characters of [0-9A-Za-z_-|*@]', 'path');
  const sub = query.get('sub_mchid');
  if (!sub) fail('/sub_mchid', sub, 'is required', 'query');
  if (sub.length > 32) fail('/sub_mchid', sub, 'must be at most 32 characters', 'query');
  return sub;
}
