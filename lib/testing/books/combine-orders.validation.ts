/**
 * Validation of combine order requests, partner / 平台收付通 variant, in the simulator's
 * shared rules. Written from WeChat's pages, not from the client's DTOs.
 */
import { parseRfc3339 } from '../../core/time';
import { SIMULATOR_ERRORS } from '../simulator-errors';
import { check, fail, notifyUrlIssue, type Rule, str } from '../simulator-validation';
import { H5_INFO, type OrderScene, SIM_OUT_TRADE_NO_PATTERN } from './orders.validation';

/** The UNVERIFIED or mode-dependent limits of combine orders, configurable through `SimulatorOptions.combine`. */
export interface CombineValidationLimits {
  /** Most sub-orders per order: 50 in partner / 平台收付通 mode (direct merchants: 10). */
  maxSubOrders: number;
  /** `combine_out_trade_no` charset: the pages disagree; default the widest, 2–32 of `[0-9A-Za-z_-|*@]`. */
  outTradeNoPattern: RegExp;
}

/** Defaults of `CombineValidationLimits`. */
export const DEFAULT_COMBINE_LIMITS: CombineValidationLimits = { maxSubOrders: 50, outTradeNoPattern: /^[0-9A-Za-z_\-|*@]{2,32}$/ };

/** 1000 万 yuan per sub-order. */
const MAX_SUB_ORDER_FEN = 1_000_000_000;

const OUT_TRADE_NO: Rule = { type: 'string', required: true, pattern: SIM_OUT_TRADE_NO_PATTERN, issue: 'must be 6-32 characters of [0-9A-Za-z_-|*]' };

const SUB_ORDER: Rule = {
  type: 'object',
  fields: {
    mchid: str(1, 32, true),
    // Required in partner / 平台收付通 mode; the 2024 page shows 选填 only because it merges the direct variant.
    sub_mchid: str(1, 32, true),
    sub_appid: str(1, 32),
    out_trade_no: OUT_TRADE_NO,
    attach: str(1, 128, true),
    amount: {
      type: 'object',
      required: true,
      fields: { total_amount: { type: 'integer', required: true, min: 1 }, currency: { type: 'string', required: true, enum: ['CNY'] } },
    },
    description: str(1, 127, true),
    detail: str(1, 6000),
    goods_tag: str(1, 32),
    settle_info: { type: 'object', fields: { profit_sharing: { type: 'boolean' }, subsidy_amount: { type: 'integer', min: 0 } } },
  },
};

const PAYER_INFO: Rule = {
  type: 'object',
  fields: {
    openid: str(1, 128),
    sub_openid: str(1, 128),
    identity: { type: 'object', fields: { type: str(1, 32), number: str(1, 1024), name: str(1, 1024) } },
  },
};

function schema(scene: OrderScene, limits: CombineValidationLimits): Rule {
  const sceneFields: Record<string, Rule> = { device_id: str(1, 16), payer_client_ip: str(1, 45, true) };
  if (scene === 'h5') sceneFields.h5_info = H5_INFO;
  return {
    type: 'object',
    required: true,
    fields: {
      combine_appid: str(1, 32, true),
      combine_mchid: str(1, 32, true),
      combine_out_trade_no: { type: 'string', required: true, pattern: limits.outTradeNoPattern, issue: `does not match ${limits.outTradeNoPattern.source}` },
      scene_info: { type: 'object', required: scene === 'h5', fields: sceneFields },
      sub_orders: { type: 'array', required: true, min: 1, max: limits.maxSubOrders, items: SUB_ORDER },
      combine_payer_info: { ...PAYER_INFO, required: scene === 'jsapi' },
      time_start: str(1, 64),
      time_expire: str(1, 64),
      notify_url: str(1, 256, true),
      limit_pay: { type: 'array', items: { type: 'string', enum: ['no_balance', 'no_debit', 'balance_only'] } },
    },
  };
}

/** Validates a combine prepay body of a scene: schema, then cross-field rules. Throws `SimulatorHttpError`. */
export function validateCombineOrderBody(scene: OrderScene, body: unknown, limits: CombineValidationLimits): void {
  check(schema(scene, limits), body, '');
  const b = body as Record<string, unknown>;
  const notifyIssue = notifyUrlIssue(b.notify_url as string);
  if (notifyIssue) fail('/notify_url', b.notify_url, notifyIssue);
  for (const name of ['time_start', 'time_expire']) {
    if (typeof b[name] === 'string' && !parseRfc3339(b[name])) fail(`/${name}`, b[name], 'must be RFC 3339 with an offset, e.g. 2018-06-08T10:34:56+08:00');
  }
  const payer = b.combine_payer_info as Record<string, unknown> | undefined;
  if (scene === 'jsapi' && !payer?.openid && !payer?.sub_openid) {
    fail('/combine_payer_info', payer, 'needs openid or sub_openid', 'body', SIMULATOR_ERRORS.JSAPI_OPENID_REQUIRED);
  }
  const subs = b.sub_orders as Array<Record<string, unknown>>;
  const seen = new Set<string>();
  subs.forEach((s, i) => {
    if (s.mchid !== b.combine_mchid) fail(`/sub_orders/${i}/mchid`, s.mchid, '此处请填写服务商(合单发起方)的商户号 (must be combine_mchid)');
    if ((s.amount as { total_amount: number }).total_amount > MAX_SUB_ORDER_FEN) fail(`/sub_orders/${i}/amount/total_amount`, (s.amount as { total_amount: number }).total_amount, 'must be at most 1000000000 fen (1000万 yuan)');
    const no = s.out_trade_no as string;
    if (seen.has(no)) fail(`/sub_orders/${i}/out_trade_no`, no, '子单商户订单号重复 (each sub-order needs its own out_trade_no)');
    seen.add(no);
  });
}

/** Validates the close body `{ combine_appid, sub_orders: [{ mchid, out_trade_no, sub_mchid, sub_appid? }] }`. */
export function validateCombineCloseBody(body: unknown, limits: CombineValidationLimits): void {
  check(
    {
      type: 'object',
      required: true,
      fields: {
        combine_appid: str(1, 32, true),
        sub_orders: {
          type: 'array',
          required: true,
          min: 1,
          max: limits.maxSubOrders,
          items: {
            type: 'object',
            fields: {
              mchid: str(1, 32, true),
              out_trade_no: OUT_TRADE_NO,
              sub_mchid: str(1, 32, true),
              sub_appid: str(1, 32),
            },
          },
        },
      },
    },
    body,
    '',
  );
}

/** Validates the `combine_out_trade_no` of a path. */
export function validateCombinePathParam(value: string, limits: CombineValidationLimits): void {
  if (!limits.outTradeNoPattern.test(value)) fail('/combine_out_trade_no', value, `does not match ${limits.outTradeNoPattern.source}`, 'path');
}
