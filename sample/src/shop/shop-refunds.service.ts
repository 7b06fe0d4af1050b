import {
  BadRequestException,
  ConflictException,
  Injectable,
  Logger,
  NotFoundException,
} from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import {
  isRefundClosed,
  type PartnerRefundResource,
  WechatPayApiError,
  WechatPayRefundsService,
  WechatPayValidationError,
} from 'nestjs-wechat-partner-pay';
import { SampleSettings } from '../settings';
import { EmbeddedSimulator } from '../wechat-pay/embedded-simulator';
import { notifyBaseUrl, REFUND_NOTIFY_PATH } from '../wechat-pay/wechat-pay.config';
import { OrderEvents } from './order-events';
import { OrdersRepository, type RefundState, type ShopOrder, type ShopRefund } from './orders.repository';
import { type ShopCommission, ShopCommissionsService } from './shop-commissions.service';
import { isoTime } from './shop.service';

/** An order with its refunds, as the cashier shows it. */
export interface OrderView extends ShopOrder {
  refunds: ShopRefund[];
  /** fen that can still be refunded: the total less every refund that is not CLOSED or FAILED. */
  refundable: number;
  /** The platform's commission (分账), once one was attempted. */
  commission: ShopCommission | null;
}

/** Refund states after which nothing changes any more without a person (ABNORMAL needs a new application). */
const SETTLED: readonly RefundState[] = ['SUCCESS', 'CLOSED', 'FAILED', 'ABNORMAL'];

/** Whether an order view will still change by itself: unpaid, or a refund on its way. */
export function isOpen(view: OrderView): boolean {
  return view.state === 'NOTPAY' || view.refunds.some((r) => !SETTLED.includes(r.status));
}

/**
 * Refunds (申请退款) on top of WechatPayRefundsService. The refund is stored before WeChat Pay hears of it, with its
 * out_refund_no, so a retry after a timeout repeats the same refund instead of refunding twice.
 */
@Injectable()
export class ShopRefundsService {
  private readonly logger = new Logger(ShopRefundsService.name);

  constructor(
    private readonly refunds: WechatPayRefundsService,
    private readonly repo: OrdersRepository,
    private readonly events: OrderEvents,
    private readonly embedded: EmbeddedSimulator,
    private readonly settings: SampleSettings,
    private readonly commissions: ShopCommissionsService,
  ) {}

  /** The order and its refunds. */
  view(out_trade_no: string): OrderView {
    const order = this.repo.find(out_trade_no);
    if (!order) throw new NotFoundException('no such order');
    return this.viewOf(order);
  }

  viewOf(order: ShopOrder): OrderView {
    const refunds = this.repo.refundsOf(order.out_trade_no);
    const committed = refunds
      .filter((r) => r.status !== 'CLOSED' && r.status !== 'FAILED')
      .reduce((sum, r) => sum + r.amount, 0);
    return {
      ...order,
      refunds,
      refundable: order.state === 'SUCCESS' ? order.total - committed : 0,
      commission: this.commissions.of(order.out_trade_no),
    };
  }

  /** Refunds `amount` fen of a paid order (all that is left when absent). */
  async refund(out_trade_no: string, amount?: number): Promise<OrderView> {
    const order = this.repo.find(out_trade_no);
    if (!order) throw new NotFoundException('no such order');
    if (order.state !== 'SUCCESS') throw new ConflictException('only a paid order can be refunded');
    const left = this.viewOf(order).refundable;
    const fen = amount ?? left;
    if (fen < 1 || fen > left)
      throw new BadRequestException(
        `refund between ¥0.01 and ¥${(left / 100).toFixed(2)}, the amount not refunded yet`,
      );
    const out_refund_no = newOutRefundNo(this.embedded.now());
    if (!this.repo.insertRefund({ out_refund_no, out_trade_no, amount: fen }))
      throw new ConflictException('another refund took that amount in the meantime');
    this.publish(out_trade_no);
    let answer: Awaited<ReturnType<WechatPayRefundsService['create']>>;
    try {
      answer = await this.refunds.create({
        sub_mchid: order.sub_mchid,
        out_trade_no,
        out_refund_no,
        reason: '商品退款 Refund',
        // The module's notifyUrl is the payment route, which accepts TRANSACTION.SUCCESS only.
        notify_url: `${notifyBaseUrl(this.settings, this.embedded)}${REFUND_NOTIFY_PATH}`,
        amount: { refund: fen, total: order.total, currency: 'CNY' },
      });
    } catch (err) {
      // A definite "no" frees the amount again. After a timeout or a 5xx the refund may exist at WeChat Pay: it stays
      // PROCESSING, and its notification (or a query by out_refund_no) settles it.
      if (
        err instanceof WechatPayValidationError ||
        (err instanceof WechatPayApiError && err.status < 500 && !err.retryable)
      ) {
        this.repo.setRefundStatus({ out_refund_no, status: 'FAILED' });
        this.publish(out_trade_no);
      }
      throw err;
    }
    // A 平台收付通 refund (product: 'ecommerce', /v3/ecommerce/refunds/apply) is only accepted here: the answer has a
    // refund_id but no status, and acceptance is not success. It stays PROCESSING until the REFUND.* notification or
    // a query (checkRefunds) says more. A partner refund answers with its status.
    const status = 'status' in answer && answer.status ? localStatus(answer.status) : 'PROCESSING';
    this.apply(
      out_refund_no,
      status,
      answer.refund_id,
      'success_time' in answer ? answer.success_time : undefined,
    );
    return this.view(out_trade_no);
  }

  /**
   * Asks WeChat Pay (queryByOutRefundNo) about every refund of the order that is still PROCESSING, for when the
   * notification is late. The answer is recorded like a notification: a final state stays final.
   */
  async checkRefunds(out_trade_no: string): Promise<OrderView> {
    const order = this.repo.find(out_trade_no);
    if (!order) throw new NotFoundException('no such order');
    for (const refund of this.repo.refundsOf(out_trade_no)) {
      if (refund.status !== 'PROCESSING') continue;
      const found = await this.refunds.queryByOutRefundNo({
        out_refund_no: refund.out_refund_no,
        sub_mchid: order.sub_mchid,
      });
      if (found.amount && found.amount.refund !== refund.amount)
        throw new BadRequestException('WeChat Pay reports another amount for this refund');
      this.apply(refund.out_refund_no, localStatus(found.status), found.refund_id, found.success_time);
    }
    return this.view(out_trade_no);
  }

  /**
   * A REFUND.* notification: it must be one of this shop's refunds, of the order and amount stored. Safe to call
   * any number of times: a status that is already recorded changes nothing.
   */
  recordRefund(r: PartnerRefundResource): void {
    const refund = this.repo.findRefund(r.out_refund_no);
    // Unknown refund: fail, so that WeChat Pay retries and someone notices.
    if (!refund) throw new NotFoundException('no such refund');
    const order = this.repo.get(refund.out_trade_no);
    if (
      r.out_trade_no !== order.out_trade_no ||
      r.sub_mchid !== order.sub_mchid ||
      r.amount.refund !== refund.amount
    )
      throw new BadRequestException('notification does not match the refund');
    this.apply(r.out_refund_no, localStatus(r.refund_status), r.refund_id, r.success_time);
  }

  private apply(out_refund_no: string, status: RefundState, refund_id?: string, success_time?: string): void {
    const refund = this.repo.findRefund(out_refund_no);
    if (!refund) return;
    if (refund_id) this.repo.setRefundId(out_refund_no, refund_id);
    const changed = this.repo.setRefundStatus({
      out_refund_no,
      status,
      refund_id,
      success_time: success_time ? isoTime(success_time, this.embedded.now()) : undefined,
    });
    if (!changed) return;
    if (status === 'ABNORMAL')
      this.logger.warn(
        `Refund ${out_refund_no} is ABNORMAL: the money could not reach the payer; apply again by hand`,
      );
    this.publish(refund.out_trade_no);
  }

  private publish(out_trade_no: string): void {
    this.events.publish(this.repo.get(out_trade_no));
  }
}

/**
 * WeChat's refund status as the `refunds` table keeps it. The sources spell the closed state CLOSED and CLOSE
 * (isRefundClosed accepts both); a status this shop does not know keeps the refund PROCESSING, to be queried again.
 */
function localStatus(status: string): RefundState {
  if (isRefundClosed(status)) return 'CLOSED';
  return status === 'SUCCESS' || status === 'ABNORMAL' || status === 'PROCESSING' ? status : 'PROCESSING';
}

/** `R` + UTC timestamp + random hex: 23 characters of [0-9A-Za-z] (WeChat allows 1–64). */
function newOutRefundNo(now: number): string {
  const stamp = new Date(now).toISOString().replace(/\D/g, '').slice(0, 14);
  return `R${stamp}${randomBytes(4).toString('hex')}`;
}
