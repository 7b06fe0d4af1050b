import { Inject, Injectable } from '@nestjs/common';
import * as QRCode from 'qrcode';
import { WECHAT_PAY_CONFIG } from '../wechat-partner-pay.constants';
import { notifyUrlProblem, type ResolvedWechatPayConfig } from '../core/config/resolve-config';
import { joinSignedLines } from '../core/crypto/canonical-message';
import { generateNonce } from '../core/crypto/nonce';
import { WechatPayValidationError, type WechatPayFieldProblem } from '../core/errors/wechat-pay.errors';
import { WechatPayClient } from '../client/wechat-pay.client';
import { ORDER_ENDPOINTS } from './orders.endpoints';
import { formatBeijingRfc3339, parseRfc3339 } from '../core/time';
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

/** Options of `renderNativeQrCode`. */
export interface NativeQrCodeOptions {
  format: 'svg' | 'png' | 'dataUrl';
  /** Width in pixels. Default 256. */
  size?: number;
  /** Quiet zone in modules. Default 2. */
  margin?: number;
}

/** Overrides for invoke parameters. */
export interface PayParamsOptions {
  /** The AppID the payment is invoked from; by default `sub_appid` when the payer is a `sub_openid`, else `sp_appid`. */
  appId?: string;
}

/**
 * Partner orders: JSAPI / mini-program, App, H5 and Native prepay, client invoke parameters, query and close.
 * `sp_mchid`, `sp_appid` and the default `notify_url` come from the module options; `sub_mchid` per call.
 */
@Injectable()
export class WechatPayOrdersService {
  constructor(
    private readonly client: WechatPayClient,
    @Inject(WECHAT_PAY_CONFIG) private readonly config: ResolvedWechatPayConfig,
  ) {}

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

  /** Signed JSAPI / mini-program invoke parameters for an existing `prepay_id` (re-invoking an unpaid order). */
  buildJsapiPayParams(prepay_id: string, appId: string): JsapiPayParams {
    this.checkInvokeInput(prepay_id, appId);
    const timeStamp = String(Math.floor(this.config.clock() / 1000));
    const nonceStr = generateNonce();
    const pkg = `prepay_id=${prepay_id}`;
    const paySign = this.client.requestSigner.signMessage(joinSignedLines([appId, timeStamp, nonceStr, pkg]));
    return { appId, timeStamp, nonceStr, package: pkg, signType: 'RSA', paySign };
  }

  /** Signed App invoke parameters for an existing `prepay_id`; the signed 4th line is the bare prepay_id. */
  buildAppPayParams(prepay_id: string, appId: string): AppPayParams {
    this.checkInvokeInput(prepay_id, appId);
    const timestamp = String(Math.floor(this.config.clock() / 1000));
    const noncestr = generateNonce();
    const sign = this.client.requestSigner.signMessage(joinSignedLines([appId, timestamp, noncestr, prepay_id]));
    return { appid: appId, partnerid: this.config.spMchid, prepayid: prepay_id, package: 'Sign=WXPay', noncestr, timestamp, sign };
  }

  /**
   * Appends a URL-encoded `redirect_url` to an `h5_url`. The page at `redirect_url` must not query the order
   * automatically: WeChat may send the user back before payment ends; let the user press a button to check.
   */
  buildH5RedirectUrl(h5_url: string, redirect_url: string): string {
    const problems: WechatPayFieldProblem[] = [];
    let h5: URL | undefined;
    try {
      h5 = new URL(h5_url);
    } catch {
      problems.push({ field: 'h5_url', message: 'must be the absolute h5_url returned by h5Prepay()' });
    }
    try {
      const r = new URL(redirect_url);
      const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(r.hostname);
      if (r.protocol !== 'https:' && !(r.protocol === 'http:' && loopback)) {
        problems.push({ field: 'redirect_url', message: `must use https:// (http:// only for localhost), got ${r.protocol}` });
      }
    } catch {
      problems.push({ field: 'redirect_url', message: 'must be an absolute https:// URL on your configured H5 domain' });
    }
    if (h5?.searchParams.has('redirect_url')) problems.push({ field: 'h5_url', message: 'already has a redirect_url' });
    if (problems.length) throw new WechatPayValidationError(problems, 'H5 redirect');
    return `${h5_url}${h5_url.includes('?') ? '&' : '?'}redirect_url=${encodeURIComponent(redirect_url)}`;
  }

  /** Renders a Native `code_url` as a QR code: SVG text, PNG bytes or a `data:image/png` URL. */
  async renderNativeQrCode(code_url: string, options: NativeQrCodeOptions & { format: 'png' }): Promise<Buffer>;
  async renderNativeQrCode(code_url: string, options: NativeQrCodeOptions & { format: 'svg' | 'dataUrl' }): Promise<string>;
  async renderNativeQrCode(code_url: string, options: NativeQrCodeOptions): Promise<string | Buffer> {
    if (typeof code_url !== 'string' || !code_url.startsWith('weixin://')) {
      throw new WechatPayValidationError([{ field: 'code_url', message: 'must be the weixin://… code_url returned by nativePrepay()' }], 'QR code');
    }
    const size = options.size ?? 256;
    if (!Number.isInteger(size) || size < 64 || size > 4096) {
      throw new WechatPayValidationError([{ field: 'size', message: 'must be an integer between 64 and 4096 pixels' }], 'QR code');
    }
    const common = { width: size, margin: options.margin ?? 2, errorCorrectionLevel: 'M' as const };
    switch (options.format) {
      case 'svg':
        return QRCode.toString(code_url, { ...common, type: 'svg' });
      case 'png':
        return QRCode.toBuffer(code_url, { ...common, type: 'png' });
      case 'dataUrl':
        return QRCode.toDataURL(code_url, { ...common, type: 'image/png' });
      default:
        throw new WechatPayValidationError([{ field: 'format', message: "must be 'svg', 'png' or 'dataUrl'" }], 'QR code');
    }
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
    return res.data;
  }

  /** Validates the request and builds the wire body, with the provider fields from the module options. */
  private buildBody(scene: Scene, req: PartnerPrepayRequestBase): Record<string, unknown> {
    const now = this.config.clock();
    validateRequest(SCENE_DTO[scene] as new () => PartnerPrepayRequestBase, req, `${scene} order`, (r, problems) => {
      const notifyUrl = r.notify_url ?? this.config.notifyUrl;
      if (notifyUrl === undefined) {
        problems.push({ field: 'notify_url', message: 'is required: pass notify_url or set notifyUrl in the module options' });
      } else {
        const p = notifyUrlProblem(notifyUrl);
        if (p) problems.push({ field: 'notify_url', message: p });
      }
      if (r.time_expire !== undefined) {
        const t = r.time_expire instanceof Date ? r.time_expire : typeof r.time_expire === 'string' ? parseRfc3339(r.time_expire) : undefined;
        if (!t || Number.isNaN(t.getTime())) {
          problems.push({ field: 'time_expire', message: 'must be a Date or an RFC 3339 string with offset, e.g. 2024-05-20T13:29:35+08:00' });
        } else if (t.getTime() <= now) problems.push({ field: 'time_expire', message: 'must be in the future' });
      }
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

  private checkInvokeInput(prepay_id: string, appId: string): void {
    const problems: WechatPayFieldProblem[] = [];
    if (typeof prepay_id !== 'string' || !/^[\w-]{1,64}$/.test(prepay_id)) problems.push({ field: 'prepay_id', message: 'must be the prepay_id returned by the order' });
    if (typeof appId !== 'string' || appId.length < 1 || appId.length > 32) problems.push({ field: 'appId', message: 'must be the AppID used at ordering' });
    if (problems.length) throw new WechatPayValidationError(problems, 'invoke parameters');
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
