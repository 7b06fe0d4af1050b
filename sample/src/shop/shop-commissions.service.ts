import {
  BadRequestException,
  ConflictException,
  Injectable,
  NotFoundException,
} from '@nestjs/common';
import type Database from 'better-sqlite3';
import {
  type EcommerceProfitSharingOrder,
  WechatPayProfitSharingError,
  WechatPayProfitSharingService,
} from 'nestjs-wechat-partner-pay';
import { SampleSettings } from '../settings';
import { EmbeddedSimulator } from '../wechat-pay/embedded-simulator';
import { ShopCatalog } from './catalog';
import { OrdersRepository, type ShopOrder } from './orders.repository';

/**
 * The platform's commission on an order, taken by profit sharing (分账). WAITING: WeChat Pay answered "not settled
 * yet" (retry later, same request); PROCESSING: the split was accepted; FINISHED: it ran (the line's `result` says
 * whether money moved); FAILED: refused for good (`message` says why).
 */
export type CommissionState = 'WAITING' | 'PROCESSING' | 'FINISHED' | 'FAILED';

/** A row of the `commissions` table. */
export interface ShopCommission {
  out_trade_no: string;
  /** Kept from the first attempt: a retry must send the identical request. */
  out_order_no: string;
  /** fen */
  amount: number;
  state: CommissionState;
  /** The platform line's result: PENDING, SUCCESS or CLOSED. */
  result: string | null;
  message: string | null;
  updated_at: string;
}

/** A sub-merchant's balances in the simulator's book (fen). */
export interface SubMerchantBalance {
  sub_mchid: string;
  name: string;
  frozen: number;
  available: number;
}

/** What the balances panel shows. */
export type BalancesView =
  | { available: true; balances: SubMerchantBalance[] }
  | { available: false; message: string };

const SCHEMA = `
CREATE TABLE IF NOT EXISTS commissions (
  out_trade_no TEXT PRIMARY KEY REFERENCES orders (out_trade_no),
  out_order_no TEXT NOT NULL UNIQUE,
  amount       INTEGER NOT NULL CHECK (amount > 0),
  state        TEXT NOT NULL,
  result       TEXT,
  message      TEXT,
  updated_at   TEXT NOT NULL
)`;

/**
 * The platform's commission on each paid order: one split to the platform itself with `finish: true`, which also
 * unfreezes the rest to the 二级商户. Before settlement WeChat Pay refuses it as "try later"; the same request (same
 * `out_order_no` and amount) is sent again when the user presses the button again.
 */
@Injectable()
export class ShopCommissionsService {
  private readonly db: Database.Database;
  /** Adding a receiver is idempotent at WeChat Pay: done once per process, again after a failure. */
  private platformReceiver: Promise<unknown> | undefined;

  constructor(
    private readonly ps: WechatPayProfitSharingService<'ecommerce'>,
    private readonly repo: OrdersRepository,
    private readonly embedded: EmbeddedSimulator,
    private readonly settings: SampleSettings,
    private readonly catalog: ShopCatalog,
  ) {
    this.db = repo.connection;
    this.db.exec(SCHEMA);
  }

  /** Set in both modes: the module needs it too (live, boot names it when WECHATPAY_SP_MCHID is missing). */
  private get platformMchid(): string {
    return this.embedded.spMchid as string;
  }

  /** The commission of an order, if one was attempted. */
  of(out_trade_no: string): ShopCommission | null {
    return (
      this.db
        .prepare<[string], ShopCommission>('SELECT * FROM commissions WHERE out_trade_no = ?')
        .get(out_trade_no) ?? null
    );
  }

  /** Takes (or retries, or refreshes) the commission of a paid order. */
  async take(out_trade_no: string): Promise<ShopCommission> {
    const order = this.repo.find(out_trade_no);
    if (!order) throw new NotFoundException('no such order');
    if (this.embedded.product !== 'ecommerce')
      throw new ConflictException('the commission uses the 平台收付通 profit-sharing API (WECHATPAY_PRODUCT=ecommerce)');
    if (order.state !== 'SUCCESS' || !order.transaction_id)
      throw new ConflictException('only a paid order has money to split');
    if (order.cart_no)
      throw new ConflictException('cart sub-orders are placed without profit sharing: no commission');
    const known = this.of(out_trade_no);
    if (known?.state === 'FINISHED' || known?.state === 'FAILED') return known;
    const commission = known ?? this.insert(order);
    if (known?.state === 'PROCESSING') return this.refresh(order, commission);
    try {
      await this.addPlatformReceiver();
      await this.ps.createOrder({
        sub_mchid: order.sub_mchid,
        transaction_id: order.transaction_id,
        out_order_no: commission.out_order_no,
        // The only split: the rest is unfrozen to the 二级商户 at once.
        finish: true,
        receivers: [
          {
            type: 'MERCHANT_ID',
            receiver_account: this.platformMchid,
            amount: commission.amount,
            description: '平台佣金',
          },
        ],
      });
    } catch (err) {
      if (err instanceof WechatPayProfitSharingError && err.retryLater)
        return this.update(out_trade_no, 'WAITING', null, err.wechatMessage);
      if (err instanceof WechatPayProfitSharingError)
        this.update(out_trade_no, 'FAILED', null, err.wechatMessage);
      throw err;
    }
    this.update(out_trade_no, 'PROCESSING', 'PENDING', null);
    // A split is asynchronous: ask at once how it went (usually done by then).
    return this.refresh(order, commission);
  }

  /** Frozen and available balances of each sub-merchant: the simulator's book, not known in live mode. */
  balances(): BalancesView {
    const sim = this.embedded.simulator;
    if (!sim)
      return {
        available: false,
        message: 'Balances come from the embedded simulator; in live mode see the merchant platform (商户平台).',
      };
    const book = sim.profitSharing.balances();
    return {
      available: true,
      balances: this.catalog.subMerchants.map((m) => {
        const b = book.find((x) => x.sub_mchid === m.subMchid);
        return { sub_mchid: m.subMchid, name: m.name, frozen: b?.frozen ?? 0, available: b?.available ?? 0 };
      }),
    };
  }

  private async refresh(order: ShopOrder, commission: ShopCommission): Promise<ShopCommission> {
    const split = await this.ps.queryOrder({
      sub_mchid: order.sub_mchid,
      transaction_id: order.transaction_id as string,
      out_order_no: commission.out_order_no,
    });
    const line = platformLine(split, this.platformMchid);
    const state: CommissionState = split.status === 'FINISHED' ? 'FINISHED' : 'PROCESSING';
    return this.update(order.out_trade_no, state, line?.result ?? null, line?.fail_reason ?? split.close_reason ?? null);
  }

  private addPlatformReceiver(): Promise<unknown> {
    this.platformReceiver ??= this.ps
      .addReceiver({
        type: 'MERCHANT_ID',
        account: this.platformMchid,
        name: this.settings.platformName,
        relation_type: 'PLATFORM',
      })
      .catch((err: unknown) => {
        this.platformReceiver = undefined;
        throw err;
      });
    return this.platformReceiver;
  }

  private insert(order: ShopOrder): ShopCommission {
    const amount = Math.floor((order.total * this.settings.commissionPercent) / 100);
    if (amount < 1)
      throw new BadRequestException(
        `${this.settings.commissionPercent} % of ¥${(order.total / 100).toFixed(2)} is less than ¥0.01: no commission`,
      );
    // INSERT OR IGNORE: two clicks at once keep the first row (and its out_order_no).
    this.db
      .prepare(
        `INSERT OR IGNORE INTO commissions (out_trade_no, out_order_no, amount, state, updated_at)
         VALUES (?, ?, ?, 'WAITING', ?)`,
      )
      .run(order.out_trade_no, `PS${order.out_trade_no}`, amount, new Date(this.embedded.now()).toISOString());
    return this.of(order.out_trade_no) as ShopCommission;
  }

  private update(
    out_trade_no: string,
    state: CommissionState,
    result: string | null,
    message: string | null,
  ): ShopCommission {
    this.db
      .prepare(
        `UPDATE commissions SET state = ?, result = ?, message = ?, updated_at = ?
         WHERE out_trade_no = ? AND state NOT IN ('FINISHED', 'FAILED')`,
      )
      .run(state, result, message, new Date(this.embedded.now()).toISOString(), out_trade_no);
    return this.of(out_trade_no) as ShopCommission;
  }
}

function platformLine(split: EcommerceProfitSharingOrder, spMchid: string) {
  return split.receivers?.find((r) => r.type === 'MERCHANT_ID' && r.receiver_account === spMchid);
}
