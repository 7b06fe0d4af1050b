import { Inject, Injectable } from '@nestjs/common';
import { WECHAT_PAY_CONFIG } from '../wechat-partner-pay.constants';
import { notifyUrlProblem, type ResolvedWechatPayConfig } from '../core/config/resolve-config';
import { type WechatPayFieldProblem, WechatPayValidationError } from '../core/errors/wechat-pay.errors';
import { WechatPayClient } from '../core/http/wechat-pay.client';
import { validateRequest } from '../core/validation/validate-request';
import { OUT_REFUND_NO_PATTERN, type PartnerRefund, PartnerRefundRequest } from './dto/partner-refund.dto';

/**
 * Partner refunds. A refund is identified by your `out_refund_no`: creating it again with the same body returns the
 * same refund, so a create is safe to retry after a timeout (it is retried automatically on network errors and 5xx).
 */
@Injectable()
export class WechatPayRefundsService {
  constructor(
    private readonly client: WechatPayClient,
    @Inject(WECHAT_PAY_CONFIG) private readonly config: ResolvedWechatPayConfig,
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
      const notifyUrl = r.notify_url ?? this.config.notifyUrl;
      const p = notifyUrl !== undefined ? notifyUrlProblem(notifyUrl) : undefined;
      if (p) problems.push({ field: 'notify_url', message: p });
    });
    const res = await this.client.request<PartnerRefund>({
      method: 'POST',
      path: '/v3/refund/domestic/refunds',
      body: { ...req, notify_url: req.notify_url ?? this.config.notifyUrl },
      idempotent: true,
    });
    return res.data;
  }

  /** Queries a refund by your `out_refund_no`; an unknown one is `RESOURCE_NOT_EXISTS` (404). */
  async queryByOutRefundNo(out_refund_no: string, sub_mchid: string): Promise<PartnerRefund> {
    const problems: WechatPayFieldProblem[] = [];
    if (typeof out_refund_no !== 'string' || !OUT_REFUND_NO_PATTERN.test(out_refund_no)) {
      problems.push({ field: 'out_refund_no', message: 'must be 1–64 characters of [0-9A-Za-z_-|*@]' });
    }
    if (typeof sub_mchid !== 'string' || !/^\d{1,32}$/.test(sub_mchid)) problems.push({ field: 'sub_mchid', message: 'must be the sub-merchant id (digits)' });
    if (problems.length) throw new WechatPayValidationError(problems, 'refund query');
    const res = await this.client.request<PartnerRefund>({
      method: 'GET',
      path: `/v3/refund/domestic/refunds/${encodeURIComponent(out_refund_no)}`,
      query: [['sub_mchid', sub_mchid]],
    });
    return res.data;
  }
}
