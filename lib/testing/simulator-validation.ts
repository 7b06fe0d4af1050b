/**
 * Server-side validation of partner order requests, as WeChat Pay does it: the first problem wins and is reported
 * as 400 PARAM_ERROR with `detail { field (JSON pointer), value, issue, location }`. Written independently of the
 * client-side DTOs on purpose, so that the simulator catches what a client forgets to check.
 */
import { parseRfc3339 } from '../core/time';
import { SIMULATOR_ERRORS, type SimulatorErrorDefinition, SimulatorHttpError } from './simulator-errors';

/** A field rule. */
type Rule =
  | { type: 'string'; required?: boolean; min?: number; max?: number; pattern?: RegExp; enum?: readonly string[]; issue?: string }
  | { type: 'integer'; required?: boolean; min?: number }
  | { type: 'boolean'; required?: boolean }
  | { type: 'object'; required?: boolean; fields: Record<string, Rule> }
  | { type: 'array'; required?: boolean; min?: number; max?: number; items: Rule };

const str = (min: number, max: number, required = false): Rule => ({ type: 'string', min, max, required });

/** `[0-9A-Za-z_-|*]`, 6–32 characters (spec §4.1). */
export const SIM_OUT_TRADE_NO_PATTERN = /^[0-9A-Za-z_\-|*]{6,32}$/;

const AMOUNT: Rule = {
  type: 'object',
  required: true,
  fields: { total: { type: 'integer', required: true, min: 1 }, currency: { type: 'string', enum: ['CNY'] } },
};

const DETAIL: Rule = {
  type: 'object',
  fields: {
    cost_price: { type: 'integer', min: 0 },
    invoice_id: str(1, 32),
    goods_detail: {
      type: 'array',
      min: 1,
      max: 6000,
      items: {
        type: 'object',
        fields: {
          merchant_goods_id: str(1, 32, true),
          wechatpay_goods_id: str(1, 32),
          goods_name: str(1, 256),
          quantity: { type: 'integer', required: true, min: 1 },
          unit_price: { type: 'integer', required: true, min: 0 },
        },
      },
    },
  },
};

const STORE_INFO: Rule = {
  type: 'object',
  // Only `id` is required: sources disagree (spec §4.1), so the simulator takes the most permissive one.
  fields: { id: str(1, 32, true), name: str(1, 256), area_code: str(1, 32), address: str(1, 512) },
};

const H5_INFO: Rule = {
  type: 'object',
  required: true,
  fields: {
    type: { type: 'string', required: true, enum: ['iOS', 'Android', 'Wap'] },
    app_name: str(1, 64),
    app_url: str(1, 128),
    bundle_id: str(1, 128),
    package_name: str(1, 128),
  },
};

function sceneInfo(h5: boolean): Rule {
  const fields: Record<string, Rule> = { payer_client_ip: str(1, 45, true), device_id: str(1, 32), store_info: STORE_INFO };
  if (h5) fields.h5_info = H5_INFO;
  return { type: 'object', required: h5, fields };
}

const PAYER: Rule = {
  type: 'object',
  required: true,
  fields: {
    sp_openid: str(1, 128),
    sub_openid: str(1, 128),
    identity: { type: 'object', fields: { type: str(1, 32), number: str(1, 1024), name: str(1, 1024) } },
  },
};

/** The four partner order scenes, as named in the URL. */
export type OrderScene = 'jsapi' | 'app' | 'h5' | 'native';

function orderSchema(scene: OrderScene): Rule {
  const fields: Record<string, Rule> = {
    sp_appid: str(1, 32, true),
    sp_mchid: str(1, 32, true),
    sub_appid: str(1, 32),
    sub_mchid: str(1, 32, true),
    description: str(1, 127, true),
    out_trade_no: { type: 'string', required: true, pattern: SIM_OUT_TRADE_NO_PATTERN, issue: 'must be 6-32 characters of [0-9A-Za-z_-|*]' },
    time_expire: str(1, 64),
    attach: str(1, 128),
    notify_url: str(1, 256, true),
    goods_tag: str(1, 32),
    limit_pay: { type: 'array', items: { type: 'string', enum: ['no_balance', 'no_credit', 'no_debit', 'balance_only'] } },
    support_fapiao: { type: 'boolean' },
    settle_info: { type: 'object', fields: { profit_sharing: { type: 'boolean' } } },
    amount: AMOUNT,
    detail: DETAIL,
    scene_info: sceneInfo(scene === 'h5'),
  };
  if (scene === 'jsapi') fields.payer = PAYER;
  return { type: 'object', required: true, fields };
}

const SCHEMAS: Record<OrderScene, Rule> = {
  jsapi: orderSchema('jsapi'),
  app: orderSchema('app'),
  h5: orderSchema('h5'),
  native: orderSchema('native'),
};

/** `[0-9A-Za-z_-|*@]`, 1–64 characters (spec §10). */
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

const BILL_DATE: Rule = { type: 'string', required: true, pattern: /^\d{4}-\d{2}-\d{2}$/, issue: 'must be a date YYYY-MM-DD' };
const TAR_TYPE: Rule = { type: 'string', enum: ['GZIP'] };

/** Which bill endpoint a query is for. */
export type BillQueryKind = 'trade' | 'fundflow' | 'subfundflow';

/** Query parameters of the bill endpoints (spec §7.1, §7.2, §7.4). Required ones are checked in this order. */
const BILL_QUERIES: Record<BillQueryKind, Record<string, Rule>> = {
  trade: { bill_date: BILL_DATE, sub_mchid: str(1, 32), bill_type: { type: 'string', enum: ['ALL', 'SUCCESS', 'REFUND'] }, tar_type: TAR_TYPE },
  fundflow: { bill_date: BILL_DATE, account_type: { type: 'string', enum: ['BASIC', 'OPERATION', 'FEES'] }, tar_type: TAR_TYPE },
  subfundflow: {
    sub_mchid: str(1, 32, true),
    bill_date: BILL_DATE,
    // DEPOSIT is listed by IMSITE only (spec §7.4); accepted.
    account_type: { type: 'string', required: true, enum: ['BASIC', 'OPERATION', 'FEES', 'DEPOSIT'] },
    algorithm: { type: 'string', required: true, enum: ['AEAD_AES_256_GCM', 'SM4_GCM'] },
    tar_type: TAR_TYPE,
  },
};

const CLOSE_SCHEMA: Rule = { type: 'object', required: true, fields: { sp_mchid: str(1, 32, true), sub_mchid: str(1, 32, true) } };

/** A JSON pointer segment (RFC 6901 escaping). */
function pointer(parent: string, key: string | number): string {
  return `${parent}/${String(key).replace(/~/g, '~0').replace(/\//g, '~1')}`;
}

type Location = 'body' | 'query' | 'path';

function fail(field: string, value: unknown, issue: string, location: Location = 'body', definition: SimulatorErrorDefinition = SIMULATOR_ERRORS.PARAM_ERROR): never {
  throw new SimulatorHttpError(definition, `${definition.message}: ${field} ${issue}`, { field, value, issue, location });
}

/** Walks a value against a rule; the first problem throws 400 PARAM_ERROR with detail. */
function check(rule: Rule, value: unknown, field: string, location: Location = 'body'): void {
  switch (rule.type) {
    case 'string': {
      if (typeof value !== 'string') return fail(field, value, 'must be a string', location);
      // Surrogates are exactly the characters that take 4 bytes in UTF-8, which APIv3 rejects (spec §1.1).
      if (/[\uD800-\uDFFF]/.test(value)) return fail(field, value, 'contains a 4-byte UTF-8 character (e.g. an emoji), which APIv3 does not accept', location);
      const length = [...value].length;
      if (rule.min !== undefined && length < rule.min) return fail(field, value, `must be at least ${rule.min} characters`, location);
      if (rule.max !== undefined && length > rule.max) return fail(field, value, `must be at most ${rule.max} characters`, location);
      if (rule.pattern && !rule.pattern.test(value)) return fail(field, value, rule.issue ?? `does not match ${rule.pattern.source}`, location);
      if (rule.enum && !rule.enum.includes(value)) return fail(field, value, `must be one of ${rule.enum.join(', ')}`, location);
      return;
    }
    case 'integer':
      if (typeof value !== 'number' || !Number.isInteger(value)) return fail(field, value, 'must be an integer', location);
      if (rule.min !== undefined && value < rule.min) return fail(field, value, `must be at least ${rule.min}`, location);
      return;
    case 'boolean':
      if (typeof value !== 'boolean') return fail(field, value, 'must be a boolean', location);
      return;
    case 'array':
      if (!Array.isArray(value)) return fail(field, value, 'must be an array', location);
      if (rule.min !== undefined && value.length < rule.min) return fail(field, value, `must have at least ${rule.min} items`, location);
      if (rule.max !== undefined && value.length > rule.max) return fail(field, value, `must have at most ${rule.max} items`, location);
      value.forEach((item, i) => check(rule.items, item, pointer(field, i), location));
      return;
    case 'object': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail(field || '/', value, 'must be an object', location);
      const record = value as Record<string, unknown>;
      for (const key of Object.keys(record)) {
        if (!(key in rule.fields)) fail(pointer(field, key), record[key], 'is not a field of this API', location, SIMULATOR_ERRORS.EXTRA_PARAM);
      }
      for (const [key, child] of Object.entries(rule.fields)) {
        const v = record[key];
        if (v === undefined || v === null) {
          if (child.required) fail(pointer(field, key), v ?? null, 'is required', location);
          continue;
        }
        check(child, v, pointer(field, key), location);
      }
    }
  }
}

/** Whether a notify_url is acceptable: absolute http(s), no query string, no fragment. */
function notifyUrlIssue(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be an absolute http(s) URL';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must be an absolute http(s) URL';
  if (value.includes('?')) return 'must not contain a query string';
  if (value.includes('#')) return 'must not contain a fragment';
  return undefined;
}

/** Validates a prepay body of a scene: schema, then cross-field rules. Throws `SimulatorHttpError`. */
export function validateOrderBody(scene: OrderScene, body: unknown): void {
  check(SCHEMAS[scene], body, '');
  const b = body as Record<string, unknown>;
  const notifyIssue = notifyUrlIssue(b.notify_url as string);
  if (notifyIssue) fail('/notify_url', b.notify_url, notifyIssue);
  if (typeof b.time_expire === 'string' && !parseRfc3339(b.time_expire)) {
    fail('/time_expire', b.time_expire, 'must be RFC 3339 with an offset, e.g. 2018-06-08T10:34:56+08:00');
  }
  const payer = b.payer as Record<string, unknown> | undefined;
  if (scene === 'jsapi' && !payer?.sp_openid && !payer?.sub_openid) {
    fail('/payer', payer, 'needs sp_openid or sub_openid', 'body', SIMULATOR_ERRORS.JSAPI_OPENID_REQUIRED);
  }
  if (payer?.sub_openid !== undefined && b.sub_appid === undefined) fail('/sub_appid', null, 'is required when payer.sub_openid is given');
}

/** Validates the close body `{sp_mchid, sub_mchid}`. */
export function validateCloseBody(body: unknown): void {
  check(CLOSE_SCHEMA, body, '');
}

/** Validates a refund body (spec §10): schema, exactly one order id, notify_url, and `amount.from` adding up. */
export function validateRefundBody(body: unknown): void {
  check(REFUND_SCHEMA, body, '');
  const b = body as Record<string, unknown>;
  if ((b.transaction_id === undefined) === (b.out_trade_no === undefined)) {
    fail('/transaction_id', b.transaction_id ?? null, 'give exactly one of transaction_id and out_trade_no');
  }
  const notifyIssue = typeof b.notify_url === 'string' ? notifyUrlIssue(b.notify_url) : undefined;
  if (notifyIssue) fail('/notify_url', b.notify_url, notifyIssue);
  const amount = b.amount as { refund: number; from?: Array<{ amount: number }> };
  const fromSum = amount.from?.reduce((sum, f) => sum + f.amount, 0);
  if (fromSum !== undefined && fromSum !== amount.refund) fail('/amount/from', fromSum, `must add up to amount.refund (${amount.refund})`);
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

/**
 * Validates the query of `GET /v3/bill/tradebill`, `/v3/bill/fundflowbill` or `/v3/bill/sub-merchant-fundflowbill`:
 * known parameters only, each well formed. Returns them as a record (date range, readiness and the sub-merchant are
 * business rules checked by the bill office).
 */
export function validateBillQuery(kind: BillQueryKind, query: URLSearchParams): Record<string, string | undefined> {
  const record: Record<string, string> = {};
  for (const [k, v] of query) if (!(k in record)) record[k] = v;
  check({ type: 'object', required: true, fields: BILL_QUERIES[kind] }, record, '', 'query');
  const t = Date.parse(`${record.bill_date}T00:00:00Z`);
  if (Number.isNaN(t) || new Date(t).toISOString().slice(0, 10) !== record.bill_date) fail('/bill_date', record.bill_date, 'is not a calendar date', 'query');
  return record;
}

/** Validates the refund query `?sub_mchid=` and the out_refund_no path segment; returns sub_mchid. */
export function validateRefundQuery(outRefundNo: string, query: URLSearchParams): string {
  if (!SIM_OUT_REFUND_NO_PATTERN.test(outRefundNo)) fail('/out_refund_no', outRefundNo, 'must be 1-64 characters of [0-9A-Za-z_-|*@]', 'path');
  const sub = query.get('sub_mchid');
  if (!sub) fail('/sub_mchid', sub, 'is required', 'query');
  if (sub.length > 32) fail('/sub_mchid', sub, 'must be at most 32 characters', 'query');
  return sub;
}

/** Validates `sp_mchid` and `sub_mchid` of a query string; returns them. */
export function validateQueryIds(query: URLSearchParams): { spMchid: string; subMchid: string } {
  const ids: string[] = [];
  for (const name of ['sp_mchid', 'sub_mchid']) {
    const v = query.get(name);
    if (!v) fail(`/${name}`, v, 'is required', 'query');
    if (v.length > 32) fail(`/${name}`, v, 'must be at most 32 characters', 'query');
    ids.push(v);
  }
  return { spMchid: ids[0], subMchid: ids[1] };
}

/** Validates a path parameter: out_trade_no or transaction_id. */
export function validatePathParam(name: 'out_trade_no' | 'transaction_id', value: string): void {
  const ok = name === 'out_trade_no' ? SIM_OUT_TRADE_NO_PATTERN.test(value) : /^\d{1,32}$/.test(value);
  if (!ok) fail(`/${name}`, value, name === 'out_trade_no' ? 'must be 6-32 characters of [0-9A-Za-z_-|*]' : 'must be 1-32 digits', 'path');
}

/** Deep equality of parsed JSON values, ignoring key order (re-entry compares parameters, not bytes). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => jsonEqual(v, b[i]));
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  const ka = Object.keys(ra);
  return ka.length === Object.keys(rb).length && ka.every((k) => Object.prototype.hasOwnProperty.call(rb, k) && jsonEqual(ra[k], rb[k]));
}

/** A copy of a JSON value with object keys sorted, as the real server returns them (spec §4.3). */
export function sortKeys<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v) => sortKeys(v)) as T;
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(value).sort()) out[k] = sortKeys((value as Record<string, unknown>)[k]);
  return out as T;
}
