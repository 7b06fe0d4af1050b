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
)`;

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
  };

  constructor(file: string) {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    this.db = new Database(file);
    // WAL lets the notification writer and cashier readers work side by side; busy_timeout makes a second
    // process sharing the file wait for the write lock instead of failing with SQLITE_BUSY.
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('busy_timeout = 5000');
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
    };
  }

  insert(order: NewShopOrder): ShopOrder {
    this.stmt.insert.run({ ...order, now: new Date().toISOString() });
    return this.get(order.out_trade_no);
  }

  find(out_trade_no: string): ShopOrder | undefined {
    return this.stmt.find.get(out_trade_no);
  }

  recent(limit = 20): ShopOrder[] {
    return this.stmt.recent.all(limit);
  }

  setCodeUrl(out_trade_no: string, code_url: string): void {
    this.stmt.codeUrl.run({ out_trade_no, code_url, now: new Date().toISOString() });
  }

  /** NOTPAY → SUCCESS, at most once per order. */
  markPaid(payment: {
    out_trade_no: string;
    sub_mchid: string;
    total: number;
    transaction_id: string;
    paid_at: string;
  }): PaymentOutcome {
    if (this.stmt.paid.run({ ...payment, now: new Date().toISOString() }).changes === 1) return 'recorded';
    const current = this.find(payment.out_trade_no);
    return current?.state === 'SUCCESS' && current.transaction_id === payment.transaction_id
      ? 'duplicate'
      : 'conflict';
  }

  /** NOTPAY → CLOSED (WeChat Pay closed it) or FAILED (WeChat Pay refused it); false when it was no longer NOTPAY. */
  leaveNotpay(out_trade_no: string, state: 'CLOSED' | 'FAILED'): boolean {
    return this.stmt.leaveNotpay.run({ out_trade_no, state, now: new Date().toISOString() }).changes === 1;
  }

  /** The order, which must exist. */
  get(out_trade_no: string): ShopOrder {
    const order = this.find(out_trade_no);
    if (!order) throw new Error(`order ${out_trade_no} does not exist`);
    return order;
  }

  onApplicationShutdown(): void {
    if (this.db.open) this.db.close();
  }
}
