import { Inject, Injectable } from '@nestjs/common';
import { WECHAT_PAY_CONFIG } from '../wechat-partner-pay.constants';
import { notifyUrlProblem, type ResolvedWechatPayConfig } from '../core/config/resolve-config';
import { WechatPayError, type WechatPayFieldProblem, WechatPayValidationError } from '../core/errors/wechat-pay.errors';
import { WechatPayClient } from '../client/wechat-pay.client';
import { REFUND_ENDPOINTS } from './refunds.endpoints';
import { validateRequest } from '../core/validation/validate-request';
import { WechatPayCertificatesService } from '../certificates/wechat-pay-certificates.service';
import { ApplyAbnormalRefundRequest, OUT_REFUND_NO_PATTERN, type PartnerRefund, PartnerRefundRequest } from './dto/partner-refund.dto';

/** RSA-OAEP-SHA1 with a 2048-bit key encrypts at most 214 bytes. */
const MAX_SENSITIVE_BYTES = 214;
/** `refund_id`: string(32) in the WeChat Pay docs; WeChat's ids are digits, letters are tolerated. */
const REFUND_ID_PATTERN = /^[0-9A-Za-z_-]{1,32}$/;

/** Identifies a refund by your `out_refund_no`. */
export interface OutRefundNoQuery {
  out_refund_no: string;
  sub_mchid: string;
}

/**
 * Partner refunds. A refund is identified by your `out_refund_no`: creating it again with the same body returns the
 * same refund, so a create is safe to retry after a timeout (it is retried automatically on network errors and 5xx).
 */
@Injectable()
export class WechatPayRefundsService {
  constructor(
    private readonly client: WechatPayClient,
    @Inject(WECHAT_PAY_CONFIG) private readonly config: ResolvedWechatPayConfig,
    private readonly certificates: WechatPayCertificatesService,
  ) {}

  /** Requests a (partial) refund of a paid order. The refund usually starts PROCESSING; a notification follows. */
  async create(req: PartnerRefundRequest): Promise<PartnerRefund> {
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

  /** Queries a refund by your `out_refund_no`; an unknown one is `RESOURCE_NOT_EXISTS` (404). */
  queryByOutRefundNo(req: OutRefundNoQuery): Promise<PartnerRefund>;
  /** @deprecated Pass one object: `queryByOutRefundNo({ out_refund_no, sub_mchid })`. Removed in the next major release. */
  queryByOutRefundNo(out_refund_no: string, sub_mchid: string): Promise<PartnerRefund>;
  async queryByOutRefundNo(reqOrNo: OutRefundNoQuery | string, sub?: string): Promise<PartnerRefund> {
    const { out_refund_no, sub_mchid } = typeof reqOrNo === 'string' ? { out_refund_no: reqOrNo, sub_mchid: sub as string } : (reqOrNo ?? ({} as OutRefundNoQuery));
    const problems: WechatPayFieldProblem[] = [];
    if (typeof out_refund_no !== 'string' || !OUT_REFUND_NO_PATTERN.test(out_refund_no)) {
      problems.push({ field: 'out_refund_no', message: 'must be 1–64 characters of [0-9A-Za-z_-|*@]' });
    }
    if (typeof sub_mchid !== 'string' || !/^\d{1,32}$/.test(sub_mchid)) problems.push({ field: 'sub_mchid', message: 'must be the sub-merchant id (digits)' });
    if (problems.length) throw new WechatPayValidationError(problems, 'refund query');
    const res = await this.client.call<PartnerRefund>(REFUND_ENDPOINTS.queryByOutRefundNo, { params: { out_refund_no }, query: { sub_mchid } });
    return res.data;
  }

  /**
   * Applies again for an `ABNORMAL` refund (发起异常退款): pays it out to the payer's bank card (`USER_BANK_CARD`,
   * which needs `bank_type`, `bank_account` and `real_name`) or to the merchant's bank account (`MERCHANT_BANK_CARD`).
   * `bank_account` and `real_name` are given in plain text and encrypted here with the WeChat Pay public key or the
   * newest platform certificate (per `verification`), whose id is sent as `Wechatpay-Serial`; neither the plain text
   * nor the ciphertext ever appears in errors or logs. The answer is the refund, normally PROCESSING again; the
   * outcome arrives as a REFUND.* notification.
   */
  applyAbnormalRefund(req: ApplyAbnormalRefundRequest & { refund_id: string }): Promise<PartnerRefund>;
  /** @deprecated Pass one object: `applyAbnormalRefund({ refund_id, ...req })`. Removed in the next major release. */
  applyAbnormalRefund(refund_id: string, req: ApplyAbnormalRefundRequest): Promise<PartnerRefund>;
  async applyAbnormalRefund(idOrReq: string | (ApplyAbnormalRefundRequest & { refund_id: string }), positional?: ApplyAbnormalRefundRequest): Promise<PartnerRefund> {
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
    const res = await this.client.call<PartnerRefund>(REFUND_ENDPOINTS.applyAbnormalRefund, { params: { refund_id }, body, wechatpaySerial: serial });
    return res.data;
  }
}
