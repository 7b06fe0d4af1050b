import { Inject, Injectable } from '@nestjs/common';
import { WECHAT_PAY_CONFIG } from '../wechat-partner-pay.constants';
import type { ResolvedWechatPayConfig } from '../core/config/resolve-config';
import { WechatPayValidationError, type WechatPayFieldProblem } from '../core/errors/wechat-pay.errors';
import { WechatPayClient } from '../client/wechat-pay.client';
import { formatBeijingRfc3339 } from '../core/time';
import { checkNotifyUrl, checkOrderTime } from '../core/validation/order-fields';
import { validateRequest } from '../core/validation/validate-request';
import type { AppPayParams, H5PrepayResponse, JsapiPayParams, NativePrepayResponse, PrepayIdResponse } from '../orders/dto/partner-prepay.dto';
import { WechatPayOrderCreatedHooks } from '../orders/order-created.hooks';
import { type PayParamsOptions, WechatPayInvokeHelpers } from '../orders/pay-invoke';
import { COMBINE_ORDER_ENDPOINTS } from './combine-orders.endpoints';
import {
  COMBINE_OUT_TRADE_NO_PATTERN,
  CombineAppPrepayRequest,
  CombineCloseRequest,
  CombineH5PrepayRequest,
  CombineJsapiPrepayRequest,
  CombineNativePrepayRequest,
  type CombinePrepayRequestBase,
} from './dto/combine-prepay.dto';
import type { CombineTransaction } from './dto/combine-transaction.dto';

type Scene = 'jsapi' | 'app' | 'h5' | 'native';

const SCENE_DTO = {
  jsapi: CombineJsapiPrepayRequest,
  app: CombineAppPrepayRequest,
  h5: CombineH5PrepayRequest,
  native: CombineNativePrepayRequest,
} as const;

/** Identifies a combine order by your `combine_out_trade_no`. */
export interface CombineOutTradeNoQuery {
  combine_out_trade_no: string;
}

/**
 * Combine orders (合单支付): one payment for a cart of 1–50 sub-orders of several sub-merchants, paid all or
 * nothing, with one notification for the whole cart. `combine_appid` / `combine_mchid` default from `spAppid` /
 * `spMchid`; each `sub_orders[].mchid` is `spMchid`. Refund a sub-order with `WechatPayRefundsService` by its
 * `transaction_id` or `out_trade_no` and `sub_mchid`: there is no refund by `combine_out_trade_no`.
 */
@Injectable()
export class WechatPayCombineOrdersService extends WechatPayInvokeHelpers {
  constructor(
    private readonly client: WechatPayClient,
    @Inject(WECHAT_PAY_CONFIG) private readonly config: ResolvedWechatPayConfig,
    private readonly created: WechatPayOrderCreatedHooks,
  ) {
    super(() => client.requestSigner, config.spMchid, config.clock);
  }

  /** JSAPI (official account) or mini-program combine order → `prepay_id` (valid 2 h). */
  jsapiPrepay(req: CombineJsapiPrepayRequest): Promise<PrepayIdResponse> {
    return this.prepay<PrepayIdResponse>('jsapi', req);
  }

  /** App combine order → `prepay_id`. */
  appPrepay(req: CombineAppPrepayRequest): Promise<PrepayIdResponse> {
    return this.prepay<PrepayIdResponse>('app', req);
  }

  /** H5 combine order → `h5_url` (valid 5 minutes; see `buildH5RedirectUrl`). */
  h5Prepay(req: CombineH5PrepayRequest): Promise<H5PrepayResponse> {
    return this.prepay<H5PrepayResponse>('h5', req);
  }

  /** Native combine order → `code_url`: one QR code for the whole cart (see `renderNativeQrCode`). */
  nativePrepay(req: CombineNativePrepayRequest): Promise<NativePrepayResponse> {
    return this.prepay<NativePrepayResponse>('native', req);
  }

  /**
   * JSAPI / mini-program combine order plus the signed parameters for `getBrandWCPayRequest` / `wx.requestPayment`.
   * `appId` is `combine_appid`, because the payer's `openid` belongs to it. With `combine_payer_info.sub_openid`
   * the client signs with the sub-orders' common `sub_appid`, by analogy with single partner orders: UNVERIFIED
   * — pass `options.appId` when you know better; without a common `sub_appid` it is required.
   */
  async jsapiPrepayWithPayParams(
    req: CombineJsapiPrepayRequest,
    options: PayParamsOptions = {},
  ): Promise<{ prepay_id: string; payParams: JsapiPayParams }> {
    // Chosen before the order call, so that a missing appId is found before anything was sent.
    const appId = options.appId ?? this.jsapiAppId(req);
    const { prepay_id } = await this.jsapiPrepay(req);
    return { prepay_id, payParams: this.buildJsapiPayParams(prepay_id, appId) };
  }

  /**
   * App combine order plus the signed OpenSDK `PayReq` parameters: `appid` is `combine_appid`; `partnerid` is
   * `spMchid` (= `combine_mchid`; UNVERIFIED). `options.appId` overrides the AppID.
   */
  async appPrepayWithPayParams(
    req: CombineAppPrepayRequest,
    options: PayParamsOptions = {},
  ): Promise<{ prepay_id: string; payParams: AppPayParams }> {
    const { prepay_id } = await this.appPrepay(req);
    return { prepay_id, payParams: this.buildAppPayParams(prepay_id, options.appId ?? req.combine_appid ?? this.config.spAppid) };
  }

  /** Queries a combine order: every sub-order with its `trade_state`, and once paid its `transaction_id`. */
  async query(req: CombineOutTradeNoQuery): Promise<CombineTransaction> {
    const no = req?.combine_out_trade_no;
    if (typeof no !== 'string' || !COMBINE_OUT_TRADE_NO_PATTERN.test(no)) {
      throw new WechatPayValidationError([{ field: 'combine_out_trade_no', message: 'must be 2–32 characters of [0-9A-Za-z_-|*@]' }], 'combine order query');
    }
    const res = await this.client.call<CombineTransaction>(COMBINE_ORDER_ENDPOINTS.query, { params: { combine_out_trade_no: no } });
    return res.data;
  }

  /**
   * Closes an unpaid combine order (204). `sub_orders` must list every sub-order (`out_trade_no`, `sub_mchid`) as
   * ordered: there is no partial close. Closing a paid order fails; refund its sub-orders instead.
   */
  async close(req: CombineCloseRequest): Promise<void> {
    validateRequest(CombineCloseRequest, req, 'combine order close', (r, problems) => {
      this.checkUniqueSubOrders(Array.isArray(r.sub_orders) ? r.sub_orders : [], problems);
      if (r.combine_appid === '') problems.push({ field: 'combine_appid', message: 'must not be empty' });
    });
    const body = {
      combine_appid: req.combine_appid ?? this.config.spAppid,
      sub_orders: req.sub_orders.map((s) => ({ mchid: this.config.spMchid, ...s })),
    };
    await this.client.call<void>(COMBINE_ORDER_ENDPOINTS.close, { params: { combine_out_trade_no: req.combine_out_trade_no }, body });
  }

  private async prepay<T>(scene: Scene, req: CombinePrepayRequestBase): Promise<T> {
    const res = await this.client.call<T>(COMBINE_ORDER_ENDPOINTS[`${scene}Prepay`], { body: this.buildBody(scene, req) });
    await this.created.emit({ type: 'combine', combine_out_trade_no: req.combine_out_trade_no, time_expire: req.time_expire });
    return res.data;
  }

  /** Validates the whole cart before anything is sent, and builds the wire body with the provider fields. */
  private buildBody(scene: Scene, req: CombinePrepayRequestBase): Record<string, unknown> {
    const now = this.config.clock();
    const sp = this.config.spMchid;
    validateRequest<CombinePrepayRequestBase>(SCENE_DTO[scene], req, `combine ${scene} order`, (r, problems) => {
      checkNotifyUrl(r.notify_url, this.config.notifyUrl, problems);
      checkOrderTime('time_expire', r.time_expire, now, problems);
      checkOrderTime('time_start', r.time_start, undefined, problems);
      if (r.combine_mchid !== undefined && r.combine_mchid !== sp) {
        problems.push({ field: 'combine_mchid', message: `must be the provider spMchid (${sp}) that signs the request; leave it out` });
      }
      const payer = r.combine_payer_info;
      if (scene === 'jsapi' && payer && !payer.openid && !payer.sub_openid) {
        problems.push({ field: 'combine_payer_info', message: 'needs openid (user of combine_appid) or sub_openid (user of a sub-order sub_appid)' });
      }
      const subs = Array.isArray(r.sub_orders) ? r.sub_orders : [];
      if (payer?.sub_openid && !subs.some((s) => s?.sub_appid)) {
        problems.push({ field: 'sub_orders', message: 'a sub-order needs sub_appid when combine_payer_info.sub_openid is given (the openid belongs to it)' });
      }
      subs.forEach((s, i) => {
        if (s?.mchid !== undefined && s.mchid !== sp) problems.push({ field: `sub_orders.${i}.mchid`, message: `must be the provider spMchid (${sp}); leave it out` });
        if (s?.sub_mchid === sp) problems.push({ field: `sub_orders.${i}.sub_mchid`, message: 'must be a sub-merchant, not the provider spMchid' });
      });
      this.checkUniqueSubOrders(subs, problems);
    });
    const { time_expire, time_start, notify_url, sub_orders, combine_appid, ...rest } = req;
    return {
      ...rest,
      combine_appid: combine_appid ?? this.config.spAppid,
      combine_mchid: sp,
      sub_orders: sub_orders.map((s) => ({ ...s, mchid: sp, amount: { total_amount: s.amount.total_amount, currency: s.amount.currency ?? 'CNY' } })),
      time_start: time_start instanceof Date ? formatBeijingRfc3339(time_start) : time_start,
      time_expire: time_expire instanceof Date ? formatBeijingRfc3339(time_expire) : time_expire,
      notify_url: notify_url ?? this.config.notifyUrl,
    };
  }

  private checkUniqueSubOrders(subs: ReadonlyArray<{ out_trade_no?: string } | undefined>, problems: WechatPayFieldProblem[]): void {
    const seen = new Map<string, number>();
    subs.forEach((s, i) => {
      const no = s?.out_trade_no;
      if (typeof no !== 'string') return;
      const first = seen.get(no);
      if (first === undefined) seen.set(no, i);
      else problems.push({ field: `sub_orders.${i}.out_trade_no`, message: `repeats sub_orders.${first}.out_trade_no (${no}): each sub-order needs its own number` });
    });
  }

  /** The AppID a JSAPI combine order is invoked from (see `jsapiPrepayWithPayParams`). */
  private jsapiAppId(req: CombineJsapiPrepayRequest): string {
    if (!req?.combine_payer_info?.sub_openid || req.combine_payer_info.openid) return req?.combine_appid ?? this.config.spAppid;
    const subs = Array.isArray(req.sub_orders) ? req.sub_orders : [];
    const appIds = new Set(subs.map((s) => s?.sub_appid).filter((a): a is string => !!a));
    if (appIds.size <= 1) return [...appIds][0] ?? req.combine_appid ?? this.config.spAppid;
    throw new WechatPayValidationError(
      [{ field: 'appId', message: 'pass options.appId: the payer is a sub_openid and the sub-orders name several sub_appid (which one WeChat expects is UNVERIFIED)' }],
      'invoke parameters',
    );
  }
}
