import { Inject, Injectable } from '@nestjs/common';
import { WECHAT_PAY_CONFIG } from '../wechat-partner-pay.constants';
import { notifyUrlProblem, type ResolvedWechatPayConfig } from '../core/config/resolve-config';
import { WechatPayError, type WechatPayFieldProblem, WechatPayProductMismatchError, WechatPayValidationError } from '../core/errors/wechat-pay.errors';
import { WechatPayClient } from '../client/wechat-pay.client';
import type { WechatPayProduct } from '../interfaces/wechat-partner-pay-options.interface';
import { REFUND_ENDPOINTS } from './refunds.endpoints';
import { ECOMMERCE_REFUND_ENDPOINTS } from './ecommerce-refunds.endpoints';
import { validateRequest } from '../core/validation/validate-request';
import { WechatPayCertificatesService } from '../certificates/wechat-pay-certificates.service';
import { ApplyAbnormalRefundRequest, OUT_REFUND_NO_PATTERN, type PartnerRefund, PartnerRefundRequest } from './dto/partner-refund.dto';
import { type EcommerceRefund, type EcommerceRefundCreated, EcommerceRefundRequest, type EcommerceReturnAdvance } from './dto/ecommerce-refund.dto';

/** RSA-OAEP-SHA1 with a 2048-bit key encrypts at most 214 bytes. */
const MAX_SENSITIVE_BYTES = 214;
/** `refund_id`: string(32) in the WeChat Pay docs; WeChat's ids are digits, letters are tolerated. */
const REFUND_ID_PATTERN = /^[0-9A-Za-z_-]{1,32}$/;

/** Identifies a refund by your `out_refund_no`. */
export interface OutRefundNoQuery {
  out_refund_no: string;
  sub_mchid: string;
}

/** Identifies an ecommerce refund by WeChat Pay's `refund_id`. */
export interface RefundIdQuery {
  refund_id: string;
  sub_mchid: string;
}

/** The refund request of a product: `EcommerceRefundRequest` for `'ecommerce'`, `PartnerRefundRequest` for `'partner'`. */
export type RefundRequestOf<P extends WechatPayProduct> = P extends 'ecommerce' ? EcommerceRefundRequest : PartnerRefundRequest;
/** The create answer of a product: the partial `EcommerceRefundCreated` (no status) or the full `PartnerRefund`. */
export type RefundCreatedOf<P extends WechatPayProduct> = P extends 'ecommerce' ? EcommerceRefundCreated : PartnerRefund;
/** A refund as the query answers it, per product. */
export type RefundOf<P extends WechatPayProduct> = P extends 'ecommerce' ? EcommerceRefund : PartnerRefund;

/**
 * Refunds, in the endpoint family of the module's `product`: `/v3/ecommerce/refunds/...` for `'ecommerce'`
 * (平台收付通), `/v3/refund/domestic/refunds` for `'partner'` (普通服务商); never one for the other. A refund is
 * identified by your `out_refund_no`: creating it again with the same body returns the same refund, so a create is
 * safe to retry after a timeout (it is retried automatically on network errors and 5xx).
 *
 * The type parameter only narrows the request and answer types: inject `WechatPayRefundsService<'ecommerce'>` (or
 * `<'partner'>`) to match your `product` option; the default accepts and answers either family.
 */
@Injectable()
export class WechatPayRefundsService<P extends WechatPayProduct = WechatPayProduct> {
  constructor(
    private readonly client: WechatPayClient,
    @Inject(WECHAT_PAY_CONFIG) private readonly config: ResolvedWechatPayConfig,
    private readonly certificates: WechatPayCertificatesService,
  ) {}

  /**
   * Requests a (partial) refund of a paid order. Partner: the answer is the refund, usually PROCESSING. Ecommerce
   * (`POST /v3/ecommerce/refunds/apply`, with `sp_appid` from the options): the answer is partial and has no
   * `status`: query (`queryByRefundId` / `queryByOutRefundNo`) or wait for the REFUND.* notification.
   */
  async create(req: RefundRequestOf<P>): Promise<RefundCreatedOf<P>> {
    if (this.config.product === 'ecommerce') return (await this.createEcommerce(req as EcommerceRefundRequest)) as RefundCreatedOf<P>;
    return (await this.createPartner(req as PartnerRefundRequest)) as RefundCreatedOf<P>;
  }

  private async createPartner(req: PartnerRefundRequest): Promise<PartnerRefund> {
    validateRequest(PartnerRefundRequest, req, 'refund', (r, problems) => {
      if ((r.transaction_id === undefined) === (r.out_trade_no === undefined)) {
        problems.push({ field: 'transaction_id', message: 'give exactly one of transaction_id and out_trade_no' });
      }
      if (r.amount && Number.isInteger(r.amount.refund) && Number.isInteger(r.amount.total) && r.amount.refund > r.amount.total) {
        problems.push({ field: 'amount.refund', message: `must not exceed amount.total (${r.amount.total} fen)` });
      }
      const fromSum = r.amount?.from?.reduce((s, f) => s + (Number.isInteger(f.amount) ? f.amount : 0), 0);
      if (fromSum !== undefined && fromSum !== r.amount.refund) {
        problems.push({ field: 'amount.from', message: `must add up to amount.refund (${r.amount.refund}), got ${fromSum}` });
      }
      const notifyUrl = r.notify_url ?? this.config.refundNotifyUrl;
      const p = notifyUrl !== undefined ? notifyUrlProblem(notifyUrl) : undefined;
      if (p) problems.push({ field: 'notify_url', message: p });
    });
    const res = await this.client.call<PartnerRefund>(REFUND_ENDPOINTS.create, { body: { ...req, notify_url: req.notify_url ?? this.config.refundNotifyUrl } });
    return res.data;
  }

  private async createEcommerce(req: EcommerceRefundRequest): Promise<EcommerceRefundCreated> {
    validateRequest(EcommerceRefundRequest, req, 'ecommerce refund', (r, problems) => {
      if ((r.transaction_id === undefined) === (r.out_trade_no === undefined)) {
        problems.push({ field: 'transaction_id', message: 'give exactly one of transaction_id and out_trade_no (of the sub-order, for a combine order)' });
      }
      const a = r.amount;
      if (a && Number.isInteger(a.refund) && Number.isInteger(a.total) && a.refund > a.total) {
        problems.push({ field: 'amount.refund', message: `must not exceed amount.total (${a.total} fen)` });
      }
      if (a?.from) {
        const sum = a.from.reduce((s, f) => s + (Number.isInteger(f.amount) ? f.amount : 0), 0);
        if (sum !== a.refund) problems.push({ field: 'amount.from', message: `must add up to amount.refund (${a.refund}), got ${sum}` });
        const accounts = a.from.map((f) => f.account);
        if (new Set(accounts).size !== accounts.length) problems.push({ field: 'amount.from', message: 'must name each account at most once' });
        if (r.funds_account !== undefined) problems.push({ field: 'amount.from', message: 'must not be combined with funds_account (amount.from overrides it): give one of the two' });
        if (r.refund_account === 'REFUND_SOURCE_PARTNER_ADVANCE') problems.push({ field: 'amount.from', message: 'is not allowed on an advance refund (refund_account REFUND_SOURCE_PARTNER_ADVANCE)' });
      }
      const notifyUrl = r.notify_url ?? this.defaultRefundNotifyUrl();
      const p = notifyUrl !== undefined ? notifyUrlProblem(notifyUrl) : undefined;
      if (p) problems.push({ field: 'notify_url', message: p });
    });
    const body: Record<string, unknown> = { sub_mchid: req.sub_mchid, sp_appid: this.config.spAppid };
    for (const k of ['sub_appid', 'transaction_id', 'out_trade_no', 'out_refund_no', 'reason'] as const) if (req[k] !== undefined) body[k] = req[k];
    const { refund, total, from } = req.amount;
    body.amount = { refund, total, currency: 'CNY', ...(from ? { from: from.map(({ account, amount }) => ({ account, amount })) } : {}) };
    const notifyUrl = req.notify_url ?? this.defaultRefundNotifyUrl();
    if (notifyUrl !== undefined) body.notify_url = notifyUrl;
    if (req.refund_account !== undefined) body.refund_account = req.refund_account;
    if (req.funds_account !== undefined) body.funds_account = req.funds_account;
    const res = await this.client.call<EcommerceRefundCreated>(ECOMMERCE_REFUND_ENDPOINTS.create, { body });
    return res.data;
  }

  /** The `notify_url` a refund gets when the request has none. */
  private defaultRefundNotifyUrl(): string | undefined {
    return this.config.refundNotifyUrl;
  }

  /** Refuses a call of the other product's family before anything is sent. */
  private requireProduct(call: string, product: WechatPayProduct): void {
    if (this.config.product !== product) throw new WechatPayProductMismatchError(call, product, this.config.product);
  }

  /**
   * Queries an ecommerce refund by WeChat Pay's `refund_id` (`GET /v3/ecommerce/refunds/id/{refund_id}`). Only for
   * `product: 'ecommerce'`; the partner family has no such query.
   */
  async queryByRefundId(req: RefundIdQuery): Promise<EcommerceRefund> {
    this.requireProduct('refunds.queryByRefundId', 'ecommerce');
    const { refund_id, sub_mchid } = checkRefundIdQuery(req, 'refund query');
    const res = await this.client.call<EcommerceRefund>(ECOMMERCE_REFUND_ENDPOINTS.queryByRefundId, { params: { refund_id }, query: { sub_mchid } });
    return res.data;
  }

  /**
   * 垫付退款回补: moves the money the platform advanced for a refund (`refund_account` REFUND_SOURCE_PARTNER_ADVANCE
   * in its query answer) back from the 二级商户 to the platform. `result` is SUCCESS, PROCESSING, or FAILED when the
   * 二级商户's balance is short. Not retried automatically (keyed on refund_id only): after a network error, call
   * `queryReturnAdvance()`. Only for `product: 'ecommerce'`.
   */
  async returnAdvance(req: RefundIdQuery): Promise<EcommerceReturnAdvance> {
    this.requireProduct('refunds.returnAdvance', 'ecommerce');
    const { refund_id, sub_mchid } = checkRefundIdQuery(req, 'return-advance');
    const res = await this.client.call<EcommerceReturnAdvance>(ECOMMERCE_REFUND_ENDPOINTS.returnAdvance, { params: { refund_id }, body: { sub_mchid } });
    return res.data;
  }

  /** The result of an earlier `returnAdvance()` of a refund. Only for `product: 'ecommerce'`. */
  async queryReturnAdvance(req: RefundIdQuery): Promise<EcommerceReturnAdvance> {
    this.requireProduct('refunds.queryReturnAdvance', 'ecommerce');
    const { refund_id, sub_mchid } = checkRefundIdQuery(req, 'return-advance query');
    const res = await this.client.call<EcommerceReturnAdvance>(ECOMMERCE_REFUND_ENDPOINTS.queryReturnAdvance, { params: { refund_id }, query: { sub_mchid } });
    return res.data;
  }

  /**
   * Queries a refund by your `out_refund_no` (ecommerce: `GET /v3/ecommerce/refunds/out-refund-no/{n}`); an unknown
   * one is `RESOURCE_NOT_EXISTS` (404).
   */
  queryByOutRefundNo(req: OutRefundNoQuery): Promise<RefundOf<P>>;
  /** @deprecated Pass one object: `queryByOutRefundNo({ out_refund_no, sub_mchid })`. Removed in the next major release. */
  queryByOutRefundNo(out_refund_no: string, sub_mchid: string): Promise<RefundOf<P>>;
  async queryByOutRefundNo(reqOrNo: OutRefundNoQuery | string, sub?: string): Promise<RefundOf<P>> {
    const { out_refund_no, sub_mchid } = typeof reqOrNo === 'string' ? { out_refund_no: reqOrNo, sub_mchid: sub as string } : (reqOrNo ?? ({} as OutRefundNoQuery));
    const problems: WechatPayFieldProblem[] = [];
    if (typeof out_refund_no !== 'string' || !OUT_REFUND_NO_PATTERN.test(out_refund_no)) {
      problems.push({ field: 'out_refund_no', message: 'must be 1–64 characters of [0-9A-Za-z_-|*@]' });
    }
    if (typeof sub_mchid !== 'string' || !/^\d{1,32}$/.test(sub_mchid)) problems.push({ field: 'sub_mchid', message: 'must be the sub-merchant id (digits)' });
    if (problems.length) throw new WechatPayValidationError(problems, 'refund query');
    const endpoint = this.config.product === 'ecommerce' ? ECOMMERCE_REFUND_ENDPOINTS.queryByOutRefundNo : REFUND_ENDPOINTS.queryByOutRefundNo;
    const res = await this.client.call<RefundOf<P>>(endpoint, { params: { out_refund_no }, query: { sub_mchid } });
    return res.data;
  }

  /**
   * Applies again for an `ABNORMAL` refund (发起异常退款): pays it out to the payer's bank card (`USER_BANK_CARD`,
   * which needs `bank_type`, `bank_account` and `real_name`) or to the merchant's bank account (`MERCHANT_BANK_CARD`).
   * `bank_account` and `real_name` are given in plain text and encrypted here with the WeChat Pay public key or the
   * newest platform certificate (per `verification`), whose id is sent as `Wechatpay-Serial`; neither the plain text
   * nor the ciphertext ever appears in errors or logs. The answer is the refund, normally PROCESSING again; the
   * outcome arrives as a REFUND.* notification. Ecommerce: the same body on
   * `/v3/ecommerce/refunds/{refund_id}/apply-abnormal-refund`.
   */
  applyAbnormalRefund(req: ApplyAbnormalRefundRequest & { refund_id: string }): Promise<RefundOf<P>>;
  /** @deprecated Pass one object: `applyAbnormalRefund({ refund_id, ...req })`. Removed in the next major release. */
  applyAbnormalRefund(refund_id: string, req: ApplyAbnormalRefundRequest): Promise<RefundOf<P>>;
  async applyAbnormalRefund(idOrReq: string | (ApplyAbnormalRefundRequest & { refund_id: string }), positional?: ApplyAbnormalRefundRequest): Promise<RefundOf<P>> {
    let refund_id: string;
    let req: ApplyAbnormalRefundRequest;
    if (typeof idOrReq === 'string' || positional !== undefined) {
      refund_id = idOrReq as string;
      req = positional as ApplyAbnormalRefundRequest;
    } else {
      const { refund_id: id, ...rest } = idOrReq ?? ({} as ApplyAbnormalRefundRequest & { refund_id: string });
      refund_id = id;
      req = rest as ApplyAbnormalRefundRequest;
    }
    validateRequest(ApplyAbnormalRefundRequest, req, 'abnormal refund application', (r, problems) => {
      if (typeof refund_id !== 'string' || !REFUND_ID_PATTERN.test(refund_id)) {
        problems.unshift({ field: 'refund_id', message: 'must be the refund_id WeChat Pay returned (1–32 characters of [0-9A-Za-z_-])' });
      }
      if (r.type === 'USER_BANK_CARD') {
        for (const field of ['bank_type', 'bank_account', 'real_name'] as const) {
          if (r[field] === undefined || r[field] === '') problems.push({ field, message: 'is required when type is USER_BANK_CARD' });
        }
      }
      for (const field of ['bank_account', 'real_name'] as const) {
        const value = r[field];
        if (typeof value !== 'string') continue;
        if (value !== '' && value.trim() === '') problems.push({ field, message: 'must not be blank' });
        else if (value === '' && r.type !== 'USER_BANK_CARD') problems.push({ field, message: 'must not be empty (leave it out instead)' });
        if (Buffer.byteLength(value, 'utf8') > MAX_SENSITIVE_BYTES) problems.push({ field, message: `is too long to encrypt (at most ${MAX_SENSITIVE_BYTES} UTF-8 bytes)` });
      }
      if (r.bank_type === '' && r.type !== 'USER_BANK_CARD') problems.push({ field: 'bank_type', message: 'must not be empty (leave it out instead)' });
    });
    const body: Record<string, unknown> = { sub_mchid: req.sub_mchid, out_refund_no: req.out_refund_no, type: req.type };
    if (req.bank_type !== undefined) body.bank_type = req.bank_type;
    let serial: string | undefined;
    for (const field of ['bank_account', 'real_name'] as const) {
      const value = req[field];
      if (value === undefined) continue;
      const encrypted = await this.certificates.encryptSensitiveWithRefresh(value);
      // Both fields must name the same key: the request carries one Wechatpay-Serial.
      if (serial !== undefined && encrypted.serial !== serial) throw new WechatPayError('The WeChat Pay keys changed while encrypting the abnormal refund application: try again');
      serial = encrypted.serial;
      body[field] = encrypted.ciphertext;
    }
    const endpoint = this.config.product === 'ecommerce' ? ECOMMERCE_REFUND_ENDPOINTS.applyAbnormalRefund : REFUND_ENDPOINTS.applyAbnormalRefund;
    const res = await this.client.call<RefundOf<P>>(endpoint, { params: { refund_id }, body, wechatpaySerial: serial });
    return res.data;
  }
}

function checkRefundIdQuery(req: RefundIdQuery, what: string): RefundIdQuery {
  const { refund_id, sub_mchid } = req ?? ({} as RefundIdQuery);
  const problems: WechatPayFieldProblem[] = [];
  if (typeof refund_id !== 'string' || !REFUND_ID_PATTERN.test(refund_id)) {
    problems.push({ field: 'refund_id', message: 'must be the refund_id WeChat Pay returned (1–32 characters of [0-9A-Za-z_-])' });
  }
  if (typeof sub_mchid !== 'string' || !/^\d{1,32}$/.test(sub_mchid)) problems.push({ field: 'sub_mchid', message: 'must be the 二级商户 merchant id (digits)' });
  if (problems.length) throw new WechatPayValidationError(problems, what);
  return { refund_id, sub_mchid };
}
