import type { OnApplicationShutdown } from '@nestjs/common';
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type {
  LocalOrderRecord,
  LocalRefundRecord,
  WechatPayLocalOrderSource,
} from 'nestjs-wechat-partner-pay/lifecycle';

/** How the order is paid: the four partner scenes. */
export type OrderScene = 'native' | 'jsapi' | 'app' | 'h5';
export const ORDER_SCENES: readonly OrderScene[] = ['native', 'jsapi', 'app', 'h5'];

/**
 * Local order state. NOTPAY until WeChat Pay says otherwise; FAILED when WeChat Pay refused to create the order.
 * Only the notification or a query moves an order to SUCCESS, never the browser.
 */
export type OrderState = 'NOTPAY' | 'SUCCESS' | 'CLOSED' | 'FAILED';

/**
 * What told the shop that an order (or cart) was paid: WeChat Pay's notification, or a query (the order watch when
 * the notification did not arrive, or "Check payment"). Set once, with the NOTPAY → SUCCESS change.
 */
export type ConfirmedBy = 'notification' | 'query';

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
  /** The cart (combine_out_trade_no) this order is a sub-order of; null for an order paid on its own. */
  cart_no: string | null;
  transaction_id: string | null;
  /** null until paid. */
  confirmed_by: ConfirmedBy | null;
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

/**
 * A cart paid with one combine order (合单支付): its sub-orders are rows of `orders` with its `cart_no`, so that each
 * is refunded like any order. WeChat Pay pays the sub-orders all or nothing, so the cart has one state.
 */
export interface ShopCart {
  cart_no: string;
  /** fen, the sum of the sub-orders */
  total: number;
  state: OrderState;
  code_url: string | null;
  /** null until paid; the sub-orders carry the same. */
  confirmed_by: ConfirmedBy | null;
  created_at: string;
  paid_at: string | null;
  updated_at: string;
}

/** One sub-order of a paid cart, as WeChat Pay reported it. */
export interface CartSubOrderPayment {
  out_trade_no: string;
  sub_mchid: string;
  total: number;
  transaction_id: string;
}

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
CREATE INDEX IF NOT EXISTS refunds_by_order ON refunds (out_trade_no);
CREATE TABLE IF NOT EXISTS carts (
  cart_no        TEXT PRIMARY KEY,
  total          INTEGER NOT NULL CHECK (total > 0),
  state          TEXT NOT NULL DEFAULT 'NOTPAY',
  code_url       TEXT,
  created_at     TEXT NOT NULL,
  paid_at        TEXT,
  updated_at     TEXT NOT NULL
)`;

/** A Beijing day (UTC+8, no DST) as the half-open range of the table's UTC ISO timestamps, which sort as text. */
function beijingDayRange(day: string): { from: string; to: string } {
  const start = Date.parse(`${day}T00:00:00+08:00`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day) || !Number.isFinite(start)) throw new Error(`not a day: ${day}`);
  return { from: new Date(start).toISOString(), to: new Date(start + 86_400_000).toISOString() };
}

/** Refund states whose amount is spoken for: WeChat Pay counts them against the order total. */
const COMMITTED_REFUND_STATES = `('PROCESSING', 'SUCCESS', 'ABNORMAL')`;

/**
 * Orders in SQLite. Every state change is one conditional UPDATE (`... WHERE state = 'NOTPAY'`): the database
 * decides which of several concurrent deliveries (or app instances sharing the file) wins, so duplicates and races
 * are harmless without any lock held in JavaScript.
 */
export class OrdersRepository implements OnApplicationShutdown, WechatPayLocalOrderSource {
  private readonly db: Database.Database;
  private readonly stmt: {
    insert: Database.Statement<[NewShopOrder & { cart_no: string | null; now: string }]>;
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
          confirmed_by: ConfirmedBy;
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

  /** The connection, for the other tables of the shop's database (commissions). */
  get connection(): Database.Database {
    return this.db;
  }

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
    // Databases made before carts existed get the column (SQLite has no ADD COLUMN IF NOT EXISTS).
    const columns = this.db.prepare<[], { name: string }>('PRAGMA table_info(orders)').all();
    if (!columns.some((c) => c.name === 'cart_no'))
      this.db.exec('ALTER TABLE orders ADD COLUMN cart_no TEXT');
    // ... and before the order watch: what confirmed a payment.
    if (!columns.some((c) => c.name === 'confirmed_by'))
      this.db.exec('ALTER TABLE orders ADD COLUMN confirmed_by TEXT');
    const cartColumns = this.db.prepare<[], { name: string }>('PRAGMA table_info(carts)').all();
    if (!cartColumns.some((c) => c.name === 'confirmed_by'))
      this.db.exec('ALTER TABLE carts ADD COLUMN confirmed_by TEXT');
    this.db.exec('CREATE INDEX IF NOT EXISTS orders_by_cart ON orders (cart_no)');
    this.stmt = {
      insert: this.db.prepare(
        `INSERT INTO orders (out_trade_no, sub_mchid, product_id, description, total, scene, state, cart_no, created_at, updated_at)
         VALUES (@out_trade_no, @sub_mchid, @product_id, @description, @total, @scene, 'NOTPAY', @cart_no, @now, @now)`,
      ),
      find: this.db.prepare('SELECT * FROM orders WHERE out_trade_no = ?'),
      recent: this.db.prepare('SELECT * FROM orders ORDER BY created_at DESC, rowid DESC LIMIT ?'),
      codeUrl: this.db.prepare(
        'UPDATE orders SET code_url = @code_url, updated_at = @now WHERE out_trade_no = @out_trade_no',
      ),
      // The business-state check that closes what the module's exactly-once handling leaves open (see
      // docs/notifications.md): only the delivery whose UPDATE changes the NOTPAY row records the payment; a
      // duplicate, a retry after a lost completion or a concurrent instance changes no row and does nothing.
      // The amount and sub-merchant are part of the condition too: a payment that does not match the order can
      // never be recorded, even if a caller forgot to compare them first.
      paid: this.db.prepare(
        `UPDATE orders SET state = 'SUCCESS', transaction_id = @transaction_id, paid_at = @paid_at,
           confirmed_by = @confirmed_by, updated_at = @now
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
    this.stmt.insert.run({ ...order, cart_no: null, now: this.isoNow() });
    return this.get(order.out_trade_no);
  }

  /** Stores a cart and its sub-orders (NOTPAY), in one transaction. */
  insertCart(cart_no: string, lines: readonly NewShopOrder[]): ShopCart {
    const now = this.isoNow();
    this.db.transaction(() => {
      const total = lines.reduce((sum, l) => sum + l.total, 0);
      this.db
        .prepare(
          `INSERT INTO carts (cart_no, total, state, created_at, updated_at) VALUES (?, ?, 'NOTPAY', ?, ?)`,
        )
        .run(cart_no, total, now, now);
      for (const line of lines) this.stmt.insert.run({ ...line, cart_no, now });
    })();
    return this.getCart(cart_no);
  }

  findCart(cart_no: string): ShopCart | undefined {
    return this.db.prepare<[string], ShopCart>('SELECT * FROM carts WHERE cart_no = ?').get(cart_no);
  }

  /** The cart, which must exist. */
  getCart(cart_no: string): ShopCart {
    const cart = this.findCart(cart_no);
    if (!cart) throw new Error(`cart ${cart_no} does not exist`);
    return cart;
  }

  /** The sub-orders of a cart, in the order they were put in it. */
  subOrders(cart_no: string): ShopOrder[] {
    return this.db
      .prepare<[string], ShopOrder>('SELECT * FROM orders WHERE cart_no = ? ORDER BY rowid')
      .all(cart_no);
  }

  setCartCodeUrl(cart_no: string, code_url: string): void {
    this.db
      .prepare('UPDATE carts SET code_url = ?, updated_at = ? WHERE cart_no = ?')
      .run(code_url, this.isoNow(), cart_no);
  }

  /**
   * NOTPAY → SUCCESS for the cart and every sub-order, at most once, all or nothing. The conditional UPDATE of the
   * cart row decides which delivery records the payment; the others change nothing (docs/notifications.md, §3).
   */
  markCartPaid(
    cart_no: string,
    paid_at: string,
    subs: readonly CartSubOrderPayment[],
    confirmed_by: ConfirmedBy,
  ): PaymentOutcome {
    const now = this.isoNow();
    const mismatch = new Error('sub-order mismatch');
    try {
      return this.db.transaction((): PaymentOutcome => {
        const cart = this.db
          .prepare(
            `UPDATE carts SET state = 'SUCCESS', paid_at = ?, confirmed_by = ?, updated_at = ? WHERE cart_no = ? AND state = 'NOTPAY'`,
          )
          .run(paid_at, confirmed_by, now, cart_no);
        if (cart.changes === 0) {
          const current = this.findCart(cart_no);
          const orders = new Map(this.subOrders(cart_no).map((o) => [o.out_trade_no, o]));
          const same =
            current?.state === 'SUCCESS' &&
            subs.every((s) => orders.get(s.out_trade_no)?.transaction_id === s.transaction_id);
          return same ? 'duplicate' : 'conflict';
        }
        for (const sub of subs) {
          const row = this.stmt.paid.run({ ...sub, paid_at, confirmed_by, now });
          // A sub-order that is not this cart's (or not NOTPAY any more) undoes the whole payment.
          if (row.changes !== 1 || this.find(sub.out_trade_no)?.cart_no !== cart_no) throw mismatch;
        }
        return 'recorded';
      })();
    } catch (err) {
      if (err === mismatch) return 'conflict';
      throw err;
    }
  }

  /** NOTPAY → CLOSED / FAILED for the cart and its sub-orders; false when the cart was no longer NOTPAY. */
  leaveCartNotpay(cart_no: string, state: 'CLOSED' | 'FAILED'): boolean {
    const now = this.isoNow();
    return this.db.transaction((): boolean => {
      const changed = this.db
        .prepare(`UPDATE carts SET state = ?, updated_at = ? WHERE cart_no = ? AND state = 'NOTPAY'`)
        .run(state, now, cart_no).changes;
      if (changed !== 1) return false;
      this.db
        .prepare(`UPDATE orders SET state = ?, updated_at = ? WHERE cart_no = ? AND state = 'NOTPAY'`)
        .run(state, now, cart_no);
      return true;
    })();
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

  /** NOTPAY → SUCCESS, at most once per order; `confirmed_by` says which path it was. */
  markPaid(payment: {
    out_trade_no: string;
    sub_mchid: string;
    total: number;
    transaction_id: string;
    paid_at: string;
    confirmed_by: ConfirmedBy;
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

  /**
   * Keeps WeChat Pay's refund_id once known. Apart from the status update, which skips an unchanged status: the
   * create answer of a refund is PROCESSING (or has no status, ecommerce) and still carries the refund_id.
   */
  setRefundId(out_refund_no: string, refund_id: string): void {
    this.db
      .prepare('UPDATE refunds SET refund_id = ? WHERE out_refund_no = ? AND refund_id IS NULL')
      .run(refund_id, out_refund_no);
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

  /**
   * The reconciliation's view of one Beijing day (`YYYY-MM-DD`, `WechatPayLocalOrderSource`): orders paid that day,
   * and unpaid ones created that day, in WeChat's vocabulary (a FAILED order never existed at WeChat Pay and is left
   * out). A fresh iteration on every call; `iterate()` streams the rows, it does not load the table.
   */
  *ordersOfDay(day: string): Iterable<LocalOrderRecord> {
    const { from, to } = beijingDayRange(day);
    const rows = this.db
      .prepare<[string, string, string, string], Pick<ShopOrder, 'sub_mchid' | 'out_trade_no' | 'total' | 'state'>>(
        `SELECT sub_mchid, out_trade_no, total, state FROM orders
         WHERE (state = 'SUCCESS' AND paid_at >= ? AND paid_at < ?)
            OR (state IN ('NOTPAY', 'CLOSED') AND created_at >= ? AND created_at < ?)
         ORDER BY rowid`,
      )
      .iterate(from, to, from, to);
    for (const o of rows) yield { sub_mchid: o.sub_mchid, out_trade_no: o.out_trade_no, total: o.total, trade_state: o.state };
  }

  /** Refunds applied for on that Beijing day (the day of their bill row), except those WeChat Pay refused (FAILED). */
  *refundsOfDay(day: string): Iterable<LocalRefundRecord> {
    const { from, to } = beijingDayRange(day);
    const rows = this.db
      .prepare<[string, string], ShopRefund & { sub_mchid: string }>(
        `SELECT r.*, o.sub_mchid FROM refunds r JOIN orders o ON o.out_trade_no = r.out_trade_no
         WHERE r.status <> 'FAILED' AND r.created_at >= ? AND r.created_at < ? ORDER BY r.rowid`,
      )
      .iterate(from, to);
    for (const r of rows)
      yield { sub_mchid: r.sub_mchid, out_refund_no: r.out_refund_no, out_trade_no: r.out_trade_no, refund: r.amount, status: r.status };
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
