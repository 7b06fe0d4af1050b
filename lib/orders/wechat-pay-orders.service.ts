import { Inject, Injectable } from '@nestjs/common';
import { WECHAT_PAY_CONFIG } from '../wechat-partner-pay.constants';
import type { ResolvedWechatPayConfig } from '../core/config/resolve-config';
import { WechatPayValidationError, type WechatPayFieldProblem } from '../core/errors/wechat-pay.errors';
import { WechatPayClient } from '../client/wechat-pay.client';
import { ORDER_ENDPOINTS } from './orders.endpoints';
import { WechatPayOrderCreatedHooks } from './order-created.hooks';
import { type PayParamsOptions, WechatPayInvokeHelpers } from './pay-invoke';
import { formatBeijingRfc3339 } from '../core/time';
import { checkNotifyUrl, checkOrderTime } from '../core/validation/order-fields';
import { validateRequest } from '../core/validation/validate-request';
import {
  type AppPayParams,
  type H5PrepayResponse,
  type JsapiPayParams,
  type NativePrepayResponse,
  OUT_TRADE_NO_PATTERN,
  PartnerAppPrepayRequest,
  PartnerH5PrepayRequest,
  PartnerJsapiPrepayRequest,
  PartnerNativePrepayRequest,
  type PartnerPrepayRequestBase,
  type PrepayIdResponse,
} from './dto/partner-prepay.dto';
import type { PartnerTransaction } from './dto/partner-transaction.dto';

/** The four partner order scenes and their endpoints. */
type Scene = 'jsapi' | 'app' | 'h5' | 'native';

const SCENE_DTO = {
  jsapi: PartnerJsapiPrepayRequest,
  app: PartnerAppPrepayRequest,
  h5: PartnerH5PrepayRequest,
  native: PartnerNativePrepayRequest,
} as const;

/** Identifies an order by WeChat Pay's `transaction_id`. */
export interface TransactionIdQuery {
  transaction_id: string;
  sub_mchid: string;
}

/** Identifies an order by your `out_trade_no`. */
export interface OutTradeNoQuery {
  out_trade_no: string;
  sub_mchid: string;
}

export type { NativeQrCodeOptions, PayParamsOptions } from './pay-invoke';

/**
 * Partner orders: JSAPI / mini-program, App, H5 and Native prepay, client invoke parameters, query and close.
 * `sp_mchid`, `sp_appid` and the default `notify_url` come from the module options; `sub_mchid` per call.
 */
@Injectable()
export class WechatPayOrdersService extends WechatPayInvokeHelpers {
  constructor(
    private readonly client: WechatPayClient,
    @Inject(WECHAT_PAY_CONFIG) private readonly config: ResolvedWechatPayConfig,
    private readonly created: WechatPayOrderCreatedHooks,
  ) {
    super(() => client.requestSigner, config.spMchid, config.clock);
  }

  /** JSAPI (official account) or mini-program order → `prepay_id` (valid 2 h). */
  jsapiPrepay(req: PartnerJsapiPrepayRequest): Promise<PrepayIdResponse> {
    return this.prepay<PrepayIdResponse>('jsapi', req);
  }

  /** App order → `prepay_id`. */
  appPrepay(req: PartnerAppPrepayRequest): Promise<PrepayIdResponse> {
    return this.prepay<PrepayIdResponse>('app', req);
  }

  /** H5 order → `h5_url` (valid 5 minutes; see `buildH5RedirectUrl`). */
  h5Prepay(req: PartnerH5PrepayRequest): Promise<H5PrepayResponse> {
    return this.prepay<H5PrepayResponse>('h5', req);
  }

  /** Native order → `code_url` to render as a QR code (valid 2 h). */
  nativePrepay(req: PartnerNativePrepayRequest): Promise<NativePrepayResponse> {
    return this.prepay<NativePrepayResponse>('native', req);
  }

  /**
   * JSAPI / mini-program order plus the signed parameters for `getBrandWCPayRequest` / `wx.requestPayment`.
   * `appId` is `sub_appid` when the payer is a `sub_openid` of the sub-merchant's AppID, else `sp_appid`.
   */
  async jsapiPrepayWithPayParams(
    req: PartnerJsapiPrepayRequest,
    options: PayParamsOptions = {},
  ): Promise<{ prepay_id: string; payParams: JsapiPayParams }> {
    const { prepay_id } = await this.jsapiPrepay(req);
    const appId = options.appId ?? (req.sub_appid && req.payer?.sub_openid ? req.sub_appid : this.config.spAppid);
    return { prepay_id, payParams: this.buildJsapiPayParams(prepay_id, appId) };
  }

  /**
   * App order plus the signed OpenSDK `PayReq` parameters. `appid` is `sub_appid` when the order carried one (the
   * sub-merchant's app), else `sp_appid`; `partnerid` is `sp_mchid` as the official partner SDK sets it.
   */
  async appPrepayWithPayParams(
    req: PartnerAppPrepayRequest,
    options: PayParamsOptions = {},
  ): Promise<{ prepay_id: string; payParams: AppPayParams }> {
    const { prepay_id } = await this.appPrepay(req);
    const appId = options.appId ?? req.sub_appid ?? this.config.spAppid;
    return { prepay_id, payParams: this.buildAppPayParams(prepay_id, appId) };
  }

  /** Query a paid order by WeChat Pay's `transaction_id`. */
  queryByTransactionId(req: TransactionIdQuery): Promise<PartnerTransaction>;
  /** @deprecated Pass one object: `queryByTransactionId({ transaction_id, sub_mchid })`. Removed in the next major release. */
  queryByTransactionId(transaction_id: string, sub_mchid: string): Promise<PartnerTransaction>;
  async queryByTransactionId(reqOrId: TransactionIdQuery | string, sub?: string): Promise<PartnerTransaction> {
    const { transaction_id, sub_mchid } = typeof reqOrId === 'string' ? { transaction_id: reqOrId, sub_mchid: sub as string } : (reqOrId ?? ({} as TransactionIdQuery));
    this.checkIds({ transaction_id, sub_mchid });
    const res = await this.client.call<PartnerTransaction>(ORDER_ENDPOINTS.queryByTransactionId, {
      params: { transaction_id },
      query: { sp_mchid: this.config.spMchid, sub_mchid },
    });
    return res.data;
  }

  /** Query an order by your `out_trade_no` (works before payment too). */
  queryByOutTradeNo(req: OutTradeNoQuery): Promise<PartnerTransaction>;
  /** @deprecated Pass one object: `queryByOutTradeNo({ out_trade_no, sub_mchid })`. Removed in the next major release. */
  queryByOutTradeNo(out_trade_no: string, sub_mchid: string): Promise<PartnerTransaction>;
  async queryByOutTradeNo(reqOrNo: OutTradeNoQuery | string, sub?: string): Promise<PartnerTransaction> {
    const { out_trade_no, sub_mchid } = typeof reqOrNo === 'string' ? { out_trade_no: reqOrNo, sub_mchid: sub as string } : (reqOrNo ?? ({} as OutTradeNoQuery));
    this.checkIds({ out_trade_no, sub_mchid });
    const res = await this.client.call<PartnerTransaction>(ORDER_ENDPOINTS.queryByOutTradeNo, {
      params: { out_trade_no },
      query: { sp_mchid: this.config.spMchid, sub_mchid },
    });
    return res.data;
  }

  /** Close an unpaid order (204). Closing again is harmless; closing a paid order fails with `ORDER_PAID`. */
  close(req: OutTradeNoQuery): Promise<void>;
  /** @deprecated Pass one object: `close({ out_trade_no, sub_mchid })`. Removed in the next major release. */
  close(out_trade_no: string, sub_mchid: string): Promise<void>;
  async close(reqOrNo: OutTradeNoQuery | string, sub?: string): Promise<void> {
    const { out_trade_no, sub_mchid } = typeof reqOrNo === 'string' ? { out_trade_no: reqOrNo, sub_mchid: sub as string } : (reqOrNo ?? ({} as OutTradeNoQuery));
    this.checkIds({ out_trade_no, sub_mchid });
    await this.client.call<void>(ORDER_ENDPOINTS.close, { params: { out_trade_no }, body: { sp_mchid: this.config.spMchid, sub_mchid } });
  }

  private async prepay<T>(scene: Scene, req: PartnerPrepayRequestBase): Promise<T> {
    const body = this.buildBody(scene, req);
    const res = await this.client.call<T>(ORDER_ENDPOINTS[`${scene}Prepay`], { body });
    await this.created.emit({ type: 'order', sub_mchid: req.sub_mchid, out_trade_no: req.out_trade_no, time_expire: req.time_expire });
    return res.data;
  }

  /** Validates the request and builds the wire body, with the provider fields from the module options. */
  private buildBody(scene: Scene, req: PartnerPrepayRequestBase): Record<string, unknown> {
    const now = this.config.clock();
    validateRequest(SCENE_DTO[scene] as new () => PartnerPrepayRequestBase, req, `${scene} order`, (r, problems) => {
      checkNotifyUrl(r.notify_url, this.config.notifyUrl, problems);
      checkOrderTime('time_expire', r.time_expire, now, problems);
      const payer = (r as PartnerJsapiPrepayRequest).payer;
      if (scene === 'jsapi' && payer && !payer.sp_openid && !payer.sub_openid) {
        problems.push({ field: 'payer', message: 'needs sp_openid (user of sp_appid) or sub_openid (user of sub_appid)' });
      }
      if (payer?.sub_openid && !r.sub_appid) {
        problems.push({ field: 'sub_appid', message: 'is required when payer.sub_openid is given (the openid belongs to sub_appid)' });
      }
      if (r.sub_mchid === this.config.spMchid) problems.push({ field: 'sub_mchid', message: 'must not be the provider spMchid' });
    });
    const { time_expire, notify_url, amount, ...rest } = req;
    return {
      sp_appid: this.config.spAppid,
      sp_mchid: this.config.spMchid,
      ...rest,
      time_expire: time_expire instanceof Date ? formatBeijingRfc3339(time_expire) : time_expire,
      notify_url: notify_url ?? this.config.notifyUrl,
      amount: { total: amount.total, currency: amount.currency ?? 'CNY' },
    };
  }

  private checkIds(ids: { out_trade_no?: string; transaction_id?: string; sub_mchid: string }): void {
    const problems: WechatPayFieldProblem[] = [];
    if ('out_trade_no' in ids && (typeof ids.out_trade_no !== 'string' || !OUT_TRADE_NO_PATTERN.test(ids.out_trade_no))) {
      problems.push({ field: 'out_trade_no', message: 'must be 6–32 characters of [0-9A-Za-z_-|*]' });
    }
    if ('transaction_id' in ids && (typeof ids.transaction_id !== 'string' || !/^[0-9A-Za-z]{1,32}$/.test(ids.transaction_id))) {
      problems.push({ field: 'transaction_id', message: 'must be the WeChat Pay transaction_id (up to 32 characters)' });
    }
    if (typeof ids.sub_mchid !== 'string' || !/^\d{1,32}$/.test(ids.sub_mchid)) {
      problems.push({ field: 'sub_mchid', message: 'must be the sub-merchant id (digits)' });
    }
    if (problems.length) throw new WechatPayValidationError(problems, 'order query');
  }
}
