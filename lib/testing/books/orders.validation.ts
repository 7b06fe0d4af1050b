/**
 * Validation of partner order requests: the four prepay bodies, the close body, and the ids of the
 * query calls, in the simulator's shared rules (`simulator-validation.ts`).
 */
import { parseRfc3339 } from '../../core/time';
import { SIMULATOR_ERRORS } from '../simulator-errors';
import { check, fail, notifyUrlIssue, type Rule, str } from '../simulator-validation';

/** `[0-9A-Za-z_-|*]`, 6–32 characters. */
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
  // Only `id` is required: sources disagree, so the simulator takes the most permissive one.
  fields: { id: str(1, 32, true), name: str(1, 256), area_code: str(1, 32), address: str(1, 512) },
};

/** `scene_info.h5_info` of H5 orders, single and combine. */
export const H5_INFO: Rule = {
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
    settle_info: { type: 'object', fields: { profit_sharing: { type: 'boolean' }, subsidy_amount: { type: 'integer', min: 0 } } },
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


const CLOSE_SCHEMA: Rule = { type: 'object', required: true, fields: { sp_mchid: str(1, 32, true), sub_mchid: str(1, 32, true) } };


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
  const settle = b.settle_info as { profit_sharing?: boolean; subsidy_amount?: number } | undefined;
  if (settle?.subsidy_amount !== undefined) {
    // 5000 元 per order [3P WxJava]; only a profit-sharing order can carry a subsidy.
    if (settle.subsidy_amount > 500_000) fail('/settle_info/subsidy_amount', settle.subsidy_amount, 'must be at most 500000 (5000 元)');
    if (settle.profit_sharing !== true) fail('/settle_info/subsidy_amount', settle.subsidy_amount, 'is allowed only with settle_info.profit_sharing true');
  }
}

/** Validates the close body `{sp_mchid, sub_mchid}`. */
export function validateCloseBody(body: unknown): void {
  check(CLOSE_SCHEMA, body, '');
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

