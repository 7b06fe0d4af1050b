/**
 * Validation of profit-sharing requests, both families (both families, as WeChat Pay documents them):
 * written from WeChat's tables, not from the client's DTOs. Names are ciphertexts here (up to 10240 bytes).
 */
import { check, fail, type Rule, str } from '../simulator-validation';

/** `out_order_no` / `out_return_no`. */
export const SIM_PROFIT_SHARING_NO = /^[0-9A-Za-z_\-|*@]{1,64}$/;
const NO: Rule = { type: 'string', required: true, pattern: SIM_PROFIT_SHARING_NO, issue: 'must be 1-64 characters of [0-9A-Za-z_-|*@]' };
const OPT_NO: Rule = { type: 'string', pattern: SIM_PROFIT_SHARING_NO, issue: 'must be 1-64 characters of [0-9A-Za-z_-|*@]' };
const CIPHER = str(1, 10240);
const E_TYPES = ['MERCHANT_ID', 'PERSONAL_OPENID'] as const;
const P_TYPES = ['MERCHANT_ID', 'PERSONAL_OPENID', 'PERSONAL_SUB_OPENID'] as const;
const RELATIONS = ['SUPPLIER', 'DISTRIBUTOR', 'SERVICE_PROVIDER', 'PLATFORM', 'OTHERS', 'STORE', 'STAFF', 'STORE_OWNER', 'PARTNER', 'HEADQUARTER', 'BRAND', 'USER', 'CUSTOM'] as const;

/** Which family a request came in on. */
export type ProfitSharingFamily = 'ecommerce' | 'partner';

const schemas = (maxReceivers: number) => ({
  ecommerce: {
    addReceiver: {
      type: 'object',
      required: true,
      fields: {
        appid: str(1, 32),
        type: { type: 'string', required: true, enum: E_TYPES },
        account: str(1, 64, true),
        name: str(1, 256),
        encrypted_name: CIPHER,
        relation_type: { type: 'string', required: true, enum: RELATIONS.slice(0, 5) },
      },
    },
    deleteReceiver: { type: 'object', required: true, fields: { appid: str(1, 32), type: { type: 'string', required: true, enum: E_TYPES }, account: str(1, 64, true) } },
    createOrder: {
      type: 'object',
      required: true,
      fields: {
        appid: str(1, 32),
        sub_mchid: str(1, 32, true),
        transaction_id: str(1, 32, true),
        out_order_no: NO,
        receivers: {
          type: 'array',
          required: true,
          min: 1,
          max: maxReceivers,
          items: {
            type: 'object',
            fields: {
              type: { type: 'string', required: true, enum: E_TYPES },
              receiver_account: str(1, 64, true),
              receiver_mchid: str(1, 32),
              amount: { type: 'integer', required: true, min: 1 },
              description: str(1, 80, true),
              receiver_name: CIPHER,
            },
          },
        },
        finish: { type: 'boolean', required: true },
        notify_url: str(1, 256),
      },
    },
  },
  partner: {
    addReceiver: {
      type: 'object',
      required: true,
      fields: {
        sub_mchid: str(1, 32, true),
        appid: str(1, 32, true),
        sub_appid: str(1, 32),
        type: { type: 'string', required: true, enum: P_TYPES },
        account: str(1, 64, true),
        name: CIPHER,
        relation_type: { type: 'string', required: true, enum: RELATIONS },
        custom_relation: str(1, 10),
      },
    },
    deleteReceiver: {
      type: 'object',
      required: true,
      fields: { sub_mchid: str(1, 32, true), appid: str(1, 32, true), sub_appid: str(1, 32), type: { type: 'string', required: true, enum: P_TYPES }, account: str(1, 64, true) },
    },
    createOrder: {
      type: 'object',
      required: true,
      fields: {
        sub_mchid: str(1, 32, true),
        appid: str(1, 32, true),
        sub_appid: str(1, 32),
        transaction_id: str(1, 32, true),
        out_order_no: NO,
        receivers: {
          type: 'array',
          required: true,
          min: 1,
          max: maxReceivers,
          items: {
            type: 'object',
            fields: {
              type: { type: 'string', required: true, enum: P_TYPES },
              account: str(1, 64, true),
              name: CIPHER,
              amount: { type: 'integer', required: true, min: 1 },
              description: str(1, 80, true),
            },
          },
        },
        unfreeze_unsplit: { type: 'boolean', required: true },
      },
    },
  },
});

const FINISH: Rule = { type: 'object', required: true, fields: { sub_mchid: str(1, 32, true), transaction_id: str(1, 32, true), out_order_no: NO, description: str(1, 80, true), notify_url: str(1, 256) } };
const RETURN: Rule = {
  type: 'object',
  required: true,
  fields: {
    sub_mchid: str(1, 32, true),
    order_id: str(1, 64),
    out_order_no: OPT_NO,
    out_return_no: NO,
    return_mchid: str(1, 32, true),
    amount: { type: 'integer', required: true, min: 1 },
    description: str(1, 80, true),
    transaction_id: str(1, 32),
  },
};

/** Validates an add / delete receiver or split body of a family (`maxReceivers` lines per split). */
export function validateProfitSharingBody(family: ProfitSharingFamily, call: 'addReceiver' | 'deleteReceiver' | 'createOrder', body: unknown, maxReceivers: number): void {
  check(schemas(maxReceivers)[family][call] as Rule, body, '');
  const b = body as Record<string, unknown>;
  if (call === 'addReceiver' && b.type === 'MERCHANT_ID' && b.name === undefined) fail('/name', null, 'is required for a MERCHANT_ID receiver');
  if (family === 'ecommerce' && call !== 'deleteReceiver' && b.appid === undefined && hasPersonal(b)) fail('/appid', null, 'is required with a PERSONAL_OPENID receiver');
  if (family === 'partner' && b.relation_type === 'CUSTOM' && b.custom_relation === undefined) fail('/custom_relation', null, 'is required when relation_type is CUSTOM');
}

function hasPersonal(b: Record<string, unknown>): boolean {
  if (b.type === 'PERSONAL_OPENID') return true;
  return Array.isArray(b.receivers) && b.receivers.some((r) => (r as Record<string, unknown>).type === 'PERSONAL_OPENID');
}

/** Validates a finish-order / unfreeze body. */
export function validateFinishBody(body: unknown): void {
  check(FINISH, body, '');
}

/** Validates a return body: exactly one of order_id and out_order_no. */
export function validateReturnBody(body: unknown): void {
  check(RETURN, body, '');
  const b = body as Record<string, unknown>;
  if ((b.order_id === undefined) === (b.out_order_no === undefined)) fail('/out_order_no', b.out_order_no ?? null, 'give exactly one of order_id and out_order_no');
}

/** A required query parameter. */
export function queryParam(query: URLSearchParams, name: string, max = 64): string {
  const v = query.get(name);
  if (!v) fail(`/${name}`, v, 'is required', 'query');
  if (Buffer.byteLength(v, 'utf8') > max) fail(`/${name}`, v, `must be at most ${max} bytes`, 'query');
  return v;
}
