import type { OnApplicationShutdown } from '@nestjs/common';
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

/** How the order is paid: the four partner scenes. */
export type OrderScene = 'native' | 'jsapi' | 'app' | 'h5';
export const ORDER_SCENES: readonly OrderScene[] = ['native', 'jsapi', 'app', 'h5'];

/**
 * Local order state. NOTPAY until WeChat Pay says otherwise; FAILED when WeChat Pay refused to create the order.
 * Only the notification or a query moves an order to SUCCESS, never the browser.
 */
export type OrderState = 'NOTPAY' | 'SUCCESS' | 'CLOSED' | 'FAILED';

/** A row of the `orders` table. */
export interface ShopOrder {
  out_trade_no: string;
  sub_mchid: string;
  product_id: string;
  description: string;
  /** fen */
  total: number;
  scene: OrderScene;
  state: OrderState;
  /** Native only: kept to render the QR code again (valid 2 h). */
  code_url: string | null;
  transaction_id: string | null;
  created_at: string;
  paid_at: string | null;
  updated_at: string;
}

/**
 * A refund of an order. PROCESSING until WeChat Pay says otherwise (by notification or in the create answer);
 * FAILED when WeChat Pay refused to create it, so its amount is refundable again.
 */
export type RefundState = 'PROCESSING' | 'SUCCESS' | 'ABNORMAL' | 'CLOSED' | 'FAILED';

/** A row of the `refunds` table. */
export interface ShopRefund {
  out_refund_no: string;
  out_trade_no: string;
  /** fen */
  amount: number;
  status: RefundState;
  refund_id: string | null;
  created_at: string;
  /** When the money reached the payer (SUCCESS only). */
  success_time: string | null;
  updated_at: string;
}

/** The new order, before WeChat Pay hears of it. */
export type NewShopOrder = Pick<
  ShopOrder,
  'out_trade_no' | 'sub_mchid' | 'product_id' | 'description' | 'total' | 'scene'
>;

/** What a payment did to the local order. */
export type PaymentOutcome =
  /** NOTPAY → SUCCESS: this delivery is the one that recorded the payment. */
  | 'recorded'
  /** Already SUCCESS with this transaction_id: a duplicate or concurrent delivery, nothing to do. */
  | 'duplicate'
  /** The order is in another state (or paid by another transaction): needs a person, retrying cannot help. */
  | 'conflict';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS orders (
  out_trade_no   TEXT PRIMARY KEY,
  sub_mchid      TEXT NOT NULL,
  product_id     TEXT NOT NULL,
  description    TEXT NOT NULL,
  total          INTEGER NOT NULL CHECK (total > 0),
  scene          TEXT NOT NULL,
  state          TEXT NOT NULL DEFAULT 'NOTPAY',
  code_url       TEXT,
  transaction_id TEXT UNIQUE,
  created_at     TEXT NOT NULL,
  paid_at        TEXT,
  updated_at     TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS refunds (
  out_refund_no  TEXT PRIMARY KEY,
  out_trade_no   TEXT NOT NULL REFERENCES orders (out_trade_no),
  amount         INTEGER NOT NULL CHECK (amount > 0),
  status         TEXT NOT NULL DEFAULT 'PROCESSING',
  refund_id      TEXT,
  created_at     TEXT NOT NULL,
  success_time   TEXT,
  updated_at     TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS refunds_by_order ON refunds (out_trade_no)`;

/** Refund states whose amount is spoken for: WeChat Pay counts them against the order total. */
const COMMITTED_REFUND_STATES = `('PROCESSING', 'SUCCESS', 'ABNORMAL')`;

/**
 * Orders in SQLite. Every state change is one conditional UPDATE (`... WHERE state = 'NOTPAY'`): the database
 * decides which of several concurrent deliveries (or app instances sharing the file) wins, so duplicates and races
 * are harmless without any lock held in JavaScript.
 */
export class OrdersRepository implements OnApplicationShutdown {
  private readonly db: Database.Database;
  private readonly stmt: {
    insert: Database.Statement<[NewShopOrder & { now: string }]>;
    find: Database.Statement<[string], ShopOrder>;
    recent: Database.Statement<[number], ShopOrder>;
    codeUrl: Database.Statement<[{ out_trade_no: string; code_url: string; now: string }]>;
    paid: Database.Statement<
      [
        {
          out_trade_no: string;
          sub_mchid: string;
          total: number;
          transaction_id: string;
          paid_at: string;
          now: string;
        },
      ]
    >;
    leaveNotpay: Database.Statement<[{ out_trade_no: string; state: OrderState; now: string }]>;
    insertRefund: Database.Statement<
      [{ out_refund_no: string; out_trade_no: string; amount: number; now: string }]
    >;
    refund: Database.Statement<[string], ShopRefund>;
    refundsOf: Database.Statement<[string], ShopRefund>;
    refundStatus: Database.Statement<
      [
        {
          out_refund_no: string;
          status: RefundState;
          refund_id: string | null;
          success_time: string | null;
          now: string;
        },
      ]
    >;
  };

  /** `now` is the shop's clock (ms): in simulator mode the simulator's, so that seeded history is dated consistently. */
  constructor(
    file: string,
    private readonly now: () => number = Date.now,
  ) {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    this.db = new Database(file);
    // WAL lets the notification writer and cashier readers work side by side; busy_timeout makes a second
    // process sharing the file wait for the write lock instead of failing with SQLITE_BUSY.
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma('foreign_keys = ON');
    this.db.exec(SCHEMA);
    this.stmt = {
      insert: this.db.prepare(
        `INSERT INTO orders (out_trade_no, sub_mchid, product_id, description, total, scene, state, created_at, updated_at)
         VALUES (@out_trade_no, @sub_mchid, @product_id, @description, @total, @scene, 'NOTPAY', @now, @now)`,
      ),
      find: this.db.prepare('SELECT * FROM orders WHERE out_trade_no = ?'),
      recent: this.db.prepare('SELECT * FROM orders ORDER BY created_at DESC, rowid DESC LIMIT ?'),
      codeUrl: this.db.prepare(
        'UPDATE orders SET code_url = @code_url, updated_at = @now WHERE out_trade_no = @out_trade_no',
      ),
      // The amount and sub-merchant are part of the condition too: a payment that does not match the order can
      // never be recorded, even if a caller forgot to compare them first.
      paid: this.db.prepare(
        `UPDATE orders SET state = 'SUCCESS', transaction_id = @transaction_id, paid_at = @paid_at, updated_at = @now
         WHERE out_trade_no = @out_trade_no AND sub_mchid = @sub_mchid AND total = @total AND state = 'NOTPAY'`,
      ),
      leaveNotpay: this.db.prepare(
        `UPDATE orders SET state = @state, updated_at = @now WHERE out_trade_no = @out_trade_no AND state = 'NOTPAY'`,
      ),
      // The refund is stored only if the paid order still has the amount left: two refunds clicked at once cannot
      // both take the last yuan (WeChat Pay would refuse the second; here it is never sent).
      insertRefund: this.db.prepare(
        `INSERT INTO refunds (out_refund_no, out_trade_no, amount, status, created_at, updated_at)
         SELECT @out_refund_no, @out_trade_no, @amount, 'PROCESSING', @now, @now FROM orders o
         WHERE o.out_trade_no = @out_trade_no AND o.state = 'SUCCESS'
           AND o.total - (SELECT COALESCE(SUM(amount), 0) FROM refunds r
                          WHERE r.out_trade_no = o.out_trade_no AND r.status IN ${COMMITTED_REFUND_STATES}) >= @amount`,
      ),
      refund: this.db.prepare('SELECT * FROM refunds WHERE out_refund_no = ?'),
      refundsOf: this.db.prepare('SELECT * FROM refunds WHERE out_trade_no = ? ORDER BY created_at, rowid'),
      // Final states stay final, whatever order the create answer and the notifications arrive in; an ABNORMAL
      // refund may be applied for again (PROCESSING) and end SUCCESS or CLOSED.
      refundStatus: this.db.prepare(
        `UPDATE refunds SET status = @status, refund_id = COALESCE(@refund_id, refund_id),
           success_time = COALESCE(@success_time, success_time), updated_at = @now
         WHERE out_refund_no = @out_refund_no AND status <> @status
           AND (status = 'PROCESSING' OR (status = 'ABNORMAL' AND @status IN ('PROCESSING', 'SUCCESS', 'CLOSED')))`,
      ),
    };
  }

  insert(order: NewShopOrder): ShopOrder {
    this.stmt.insert.run({ ...order, now: this.isoNow() });
    return this.get(order.out_trade_no);
  }

  find(out_trade_no: string): ShopOrder | undefined {
    return this.stmt.find.get(out_trade_no);
  }

  recent(limit = 20): ShopOrder[] {
    return this.stmt.recent.all(limit);
  }

  setCodeUrl(out_trade_no: string, code_url: string): void {
    this.stmt.codeUrl.run({ out_trade_no, code_url, now: this.isoNow() });
  }

  /** NOTPAY → SUCCESS, at most once per order. */
  markPaid(payment: {
    out_trade_no: string;
    sub_mchid: string;
    total: number;
    transaction_id: string;
    paid_at: string;
  }): PaymentOutcome {
    if (this.stmt.paid.run({ ...payment, now: this.isoNow() }).changes === 1) return 'recorded';
    const current = this.find(payment.out_trade_no);
    return current?.state === 'SUCCESS' && current.transaction_id === payment.transaction_id
      ? 'duplicate'
      : 'conflict';
  }

  /** NOTPAY → CLOSED (WeChat Pay closed it) or FAILED (WeChat Pay refused it); false when it was no longer NOTPAY. */
  leaveNotpay(out_trade_no: string, state: 'CLOSED' | 'FAILED'): boolean {
    return this.stmt.leaveNotpay.run({ out_trade_no, state, now: this.isoNow() }).changes === 1;
  }

  /** Stores a PROCESSING refund if the paid order has `amount` left to refund; false otherwise. */
  insertRefund(refund: { out_refund_no: string; out_trade_no: string; amount: number }): boolean {
    return this.stmt.insertRefund.run({ ...refund, now: this.isoNow() }).changes === 1;
  }

  findRefund(out_refund_no: string): ShopRefund | undefined {
    return this.stmt.refund.get(out_refund_no);
  }

  /** The refunds of an order, oldest first. */
  refundsOf(out_trade_no: string): ShopRefund[] {
    return this.stmt.refundsOf.all(out_trade_no);
  }

  /** Moves a refund to the status WeChat Pay reported; false when that changes nothing (duplicate, or final). */
  setRefundStatus(update: {
    out_refund_no: string;
    status: RefundState;
    refund_id?: string;
    success_time?: string;
  }): boolean {
    return (
      this.stmt.refundStatus.run({
        out_refund_no: update.out_refund_no,
        status: update.status,
        refund_id: update.refund_id ?? null,
        success_time: update.success_time ?? null,
        now: this.isoNow(),
      }).changes === 1
    );
  }

  /** The order, which must exist. */
  get(out_trade_no: string): ShopOrder {
    const order = this.find(out_trade_no);
    if (!order) throw new Error(`order ${out_trade_no} does not exist`);
    return order;
  }

  private isoNow(): string {
    return new Date(this.now()).toISOString();
  }

  onApplicationShutdown(): void {
    if (this.db.open) this.db.close();
  }
}
