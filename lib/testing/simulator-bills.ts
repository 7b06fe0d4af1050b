/**
 * The simulator's bills (spec §7, §12.5): trade and fund-flow bills built from its own paid orders and refunds, in
 * WeChat's file format (through the package's bill writer), with the apply → 5-minute token → download flow,
 * SHA1 over the uncompressed bytes and the availability rules (before today, within 3 months, ready at 10:00
 * Beijing time on the next day, nothing to bill = NO_STATEMENT_EXIST).
 */
import { createHash, randomBytes } from 'node:crypto';
import { type FundFlowBillWriterRow, type TradeBillWriterRow, writeFundFlowBill, writeTradeBill } from '../bills/bill-writer';
import type { TradeBillType } from '../bills/dto/trade-bill.dto';
import { beijingDate, formatBeijingRfc3339, parseRfc3339 } from '../core/time';
import { BILL_DOWNLOAD_PATH } from '../wechat-partner-pay.constants';
import { SIMULATOR_ERRORS, SimulatorHttpError } from './simulator-errors';
import { isPaid, type SimulatedOrder } from './simulator-orders';
import type { SimulatedRefund, SimulatedRefundStatus } from './simulator-refunds';
import { validateBillQuery } from './simulator-validation';

/** How the simulator writes bills. */
export interface SimulatorBillOptions {
  /** Fee rate of payment rows, e.g. 0.006 for 0.60%; refund rows get the negative fee of the refunded amount. */
  feeRate: number;
  /** Start files with a UTF-8 BOM. */
  bom: boolean;
  eol: '\r\n' | '\n';
  /** Beijing hour of D+1 from which the bill of day D can be applied for. */
  readyHour: number;
}

/** What the bill office needs from the simulator. */
export interface BillOfficeContext {
  clock(): number;
  baseUrl(): string;
  orders(): SimulatedOrder[];
  refunds(): SimulatedRefund[];
  order(subMchid: string, outTradeNo: string): SimulatedOrder | undefined;
  /** Throws MCH_NOT_EXISTS / NO_AUTH like the other endpoints. */
  checkSubMerchant(subMchid: string): void;
  options: SimulatorBillOptions;
}

/** The answer of `GET /v3/bill/tradebill` and `/v3/bill/fundflowbill`. */
export interface SimulatorBillApplication {
  hash_type: 'SHA1';
  hash_value: string;
  download_url: string;
}

/** A file behind a download token. */
export interface SimulatorBillFile {
  /** The uncompressed bill. */
  bytes: Buffer;
  gzip: boolean;
  /** The merchant that applied: the only one allowed to download. */
  mchid: string;
  expiresAt: number;
}

/** Filters of `tradeBillRows()`. */
export interface SimulatorTradeBillFilter {
  /** One sub-merchant; all when omitted. */
  sub_mchid?: string;
  /** Default ALL. */
  bill_type?: TradeBillType;
}

/** Fund-flow account (spec §7.2). */
export type SimulatorFundFlowAccount = 'BASIC' | 'OPERATION' | 'FEES';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
/** download_url validity (spec §7.1). */
const TOKEN_VALIDITY_MS = 5 * 60_000;

/** 退款状态 in bills uses its own vocabulary (spec §7.5). */
const BILL_REFUND_STATUS: Record<SimulatedRefundStatus, string> = { SUCCESS: 'SUCCESS', PROCESSING: 'PROCESSING', ABNORMAL: 'CHANGE', CLOSED: 'FAIL' };

/** `yyyy-MM-dd HH:mm:ss` in Beijing time. */
function billTime(ms: number): string {
  return formatBeijingRfc3339(new Date(ms)).slice(0, 19).replace('T', ' ');
}

function successAt(order: SimulatedOrder): number {
  return parseRfc3339(order.successTime ?? '')?.getTime() ?? order.createdAt;
}

/** One movement of money of the fund-flow bill, before balances are computed. */
interface FundFlowEvent {
  at: number;
  kind: 1 | 2 | 3;
  accounts: readonly SimulatorFundFlowAccount[];
  row: Omit<FundFlowBillWriterRow, 'balance' | 'flow_no' | 'accounting_time'>;
}

/** Bills of one simulated provider, and the download tokens handed out. */
export class SimulatorBillOffice {
  private readonly files = new Map<string, SimulatorBillFile>();

  constructor(private readonly ctx: BillOfficeContext) {}

  /** GET /v3/bill/tradebill */
  applyTradeBill(query: URLSearchParams, mchid: string): SimulatorBillApplication {
    const q = validateBillQuery('trade', query);
    if (q.sub_mchid !== undefined) this.ctx.checkSubMerchant(q.sub_mchid);
    const billDate = this.checkBillDate(q.bill_date as string);
    const billType = (q.bill_type ?? 'ALL') as TradeBillType;
    const rows = this.tradeBillRows(billDate, { sub_mchid: q.sub_mchid, bill_type: billType });
    if (!rows.length) throw new SimulatorHttpError(SIMULATOR_ERRORS.NO_STATEMENT_EXIST);
    const { bom, eol } = this.ctx.options;
    return this.issue(Buffer.from(writeTradeBill(rows, { billType, bom, eol }), 'utf8'), q.tar_type === 'GZIP', mchid);
  }

  /** GET /v3/bill/fundflowbill */
  applyFundFlowBill(query: URLSearchParams, mchid: string): SimulatorBillApplication {
    const q = validateBillQuery('fundflow', query);
    const billDate = this.checkBillDate(q.bill_date as string);
    const rows = this.fundFlowBillRows(billDate, (q.account_type ?? 'BASIC') as SimulatorFundFlowAccount);
    if (!rows.length) throw new SimulatorHttpError(SIMULATOR_ERRORS.NO_STATEMENT_EXIST);
    const { bom, eol } = this.ctx.options;
    return this.issue(Buffer.from(writeFundFlowBill(rows, { bom, eol }), 'utf8'), q.tar_type === 'GZIP', mchid);
  }

  /** GET /v3/billdownload/file?token=…: the file, for the merchant that applied, within 5 minutes. */
  download(query: URLSearchParams, mchid: string): SimulatorBillFile {
    const file = this.files.get(query.get('token') ?? '');
    if (!file || this.ctx.clock() >= file.expiresAt) throw new SimulatorHttpError(SIMULATOR_ERRORS.BILL_TOKEN_INVALID);
    if (file.mchid !== mchid) throw new SimulatorHttpError(SIMULATOR_ERRORS.BILL_NO_AUTH);
    return file;
  }

  /**
   * The rows of a trade bill: payment rows of orders paid that Beijing day (SUCCESS, ALL) and refund rows of refunds
   * accepted that day (REFUND, ALL), in time order. Refund statuses are those of now.
   */
  tradeBillRows(billDate: string, filter: SimulatorTradeBillFilter = {}): TradeBillWriterRow[] {
    const type = filter.bill_type ?? 'ALL';
    const sub = filter.sub_mchid;
    const rows: Array<{ at: number; row: TradeBillWriterRow }> = [];
    if (type !== 'REFUND') {
      for (const o of this.ctx.orders()) {
        const at = successAt(o);
        if (isPaid(o) && (sub === undefined || o.subMchid === sub) && beijingDate(new Date(at)) === billDate) rows.push({ at, row: this.paymentRow(o, at) });
      }
    }
    if (type !== 'SUCCESS') {
      for (const r of this.ctx.refunds()) {
        const order = this.ctx.order(r.subMchid, r.outTradeNo);
        if (order && (sub === undefined || r.subMchid === sub) && beijingDate(new Date(r.createdAt)) === billDate) rows.push({ at: r.createdAt, row: this.refundRow(r, order) });
      }
    }
    return rows.sort((a, b) => a.at - b.at).map((r) => r.row);
  }

  /**
   * The rows of the provider's fund-flow bill of a day. A deliberately simple model: BASIC has payments (收入),
   * their fees and refunds (支出); FEES only the fees; OPERATION nothing. Balances run from the first event ever.
   */
  fundFlowBillRows(billDate: string, account: SimulatorFundFlowAccount = 'BASIC'): FundFlowBillWriterRow[] {
    let balance = 0;
    const out: FundFlowBillWriterRow[] = [];
    for (const e of this.fundFlowEvents()) {
      if (!e.accounts.includes(account)) continue;
      balance += e.row.income_type === '收入' ? e.row.amount : -e.row.amount;
      const day = beijingDate(new Date(e.at));
      if (day !== billDate) continue;
      out.push({ ...e.row, accounting_time: billTime(e.at), flow_no: `${day.replace(/-/g, '')}${e.kind}${e.row.business_no.slice(-12)}`, balance });
    }
    return out;
  }

  /** Keeps the file for 5 minutes behind a fresh token; answers with its SHA1 (of the uncompressed bytes). */
  private issue(bytes: Buffer, gzip: boolean, mchid: string): SimulatorBillApplication {
    const now = this.ctx.clock();
    for (const [token, f] of this.files) if (now >= f.expiresAt) this.files.delete(token);
    const token = randomBytes(48).toString('base64url');
    this.files.set(token, { bytes, gzip, mchid, expiresAt: now + TOKEN_VALIDITY_MS });
    return {
      hash_type: 'SHA1',
      hash_value: createHash('sha1').update(bytes).digest('hex'),
      // JAVA's QueryBillEntity shows the `&tartype=gzip` form; the token alone decides what is served.
      download_url: `${this.ctx.baseUrl()}${BILL_DOWNLOAD_PATH}?token=${token}${gzip ? '&tartype=gzip' : ''}`,
    };
  }

  /** Range (before today, 3 months back at most) and readiness (readyHour on the next day), Beijing time. */
  private checkBillDate(billDate: string): string {
    const now = this.ctx.clock();
    const today = beijingDate(new Date(now));
    const [y, m, d] = today.split('-').map(Number);
    // The same bound as the client's check: the same day of the month three months ago.
    const oldest = new Date(Date.UTC(y, m - 1 - 3, d)).toISOString().slice(0, 10);
    if (billDate >= today || billDate < oldest) {
      throw new SimulatorHttpError(SIMULATOR_ERRORS.BILL_DATE_OUT_OF_RANGE, `${SIMULATOR_ERRORS.BILL_DATE_OUT_OF_RANGE.message}: ${oldest} .. ${beijingDate(new Date(now - DAY_MS))}`, {
        field: '/bill_date',
        value: billDate,
        issue: 'out of range',
        location: 'query',
      });
    }
    const readyAt = Date.parse(`${billDate}T00:00:00+08:00`) + DAY_MS + this.ctx.options.readyHour * HOUR_MS;
    if (now < readyAt) throw new SimulatorHttpError(SIMULATOR_ERRORS.STATEMENT_CREATING);
    return billDate;
  }

  private get rateText(): string {
    return `${(this.ctx.options.feeRate * 100).toFixed(2)}%`;
  }

  /** Fee of an amount in fen, in the bill's 1/100000 yuan. */
  private fee(fen: number): number {
    return Math.round(fen * this.ctx.options.feeRate * 1000);
  }

  private paymentRow(o: SimulatedOrder, at: number): TradeBillWriterRow {
    return {
      trade_time: billTime(at),
      // 公众账号ID / 用户标识: the provider's AppID and the payer's openid under it [UNVERIFIED for partners, spec §7.5].
      appid: o.spAppid,
      mchid: o.spMchid,
      sub_mchid: o.subMchid,
      device_id: o.deviceId ?? '',
      transaction_id: o.transactionId ?? '',
      out_trade_no: o.outTradeNo,
      openid: o.payer?.sp_openid ?? '',
      trade_type: o.tradeType,
      trade_state: 'SUCCESS',
      bank_type: o.bankType ?? 'OTHERS',
      settlement_total: o.amount.total,
      goods_name: o.description,
      attach: o.attach ?? '',
      fee: this.fee(o.amount.total),
      fee_rate: this.rateText,
      order_amount: o.amount.total,
    };
  }

  private refundRow(r: SimulatedRefund, o: SimulatedOrder): TradeBillWriterRow {
    return {
      ...this.paymentRow(o, r.createdAt),
      trade_state: 'REFUND',
      settlement_total: 0,
      order_amount: 0,
      refund_id: r.refundId,
      out_refund_no: r.outRefundNo,
      refund_amount: r.amount.refund,
      refund_type: r.channel,
      refund_status: BILL_REFUND_STATUS[r.status],
      // `0 -` so that a fee rounded to nothing is 0, not -0.
      fee: 0 - this.fee(r.amount.refund),
      applied_refund_amount: r.amount.refund,
      refund_apply_time: billTime(r.createdAt),
      refund_success_time: r.status === 'SUCCESS' && r.completedAt !== undefined ? billTime(r.completedAt) : '',
    };
  }

  /** Every movement of money ever, in time order (payments before their fee, then refunds). */
  private fundFlowEvents(): FundFlowEvent[] {
    const events: FundFlowEvent[] = [];
    const base = { applicant: 'system', voucher_no: '' };
    for (const o of this.ctx.orders()) {
      if (!isPaid(o) || !o.transactionId) continue;
      const at = successAt(o);
      events.push({ at, kind: 1, accounts: ['BASIC'], row: { ...base, business_no: o.transactionId, business_name: '交易收款', business_type: '交易', income_type: '收入', amount: o.amount.total, remark: o.outTradeNo } });
      const fee = Math.round(o.amount.total * this.ctx.options.feeRate);
      if (fee > 0) {
        events.push({ at, kind: 2, accounts: ['BASIC', 'FEES'], row: { ...base, business_no: o.transactionId, business_name: '交易手续费', business_type: '扣除交易手续费', income_type: '支出', amount: fee, remark: o.outTradeNo } });
      }
    }
    for (const r of this.ctx.refunds()) {
      if (r.status === 'CLOSED') continue;
      events.push({ at: r.createdAt, kind: 3, accounts: ['BASIC'], row: { ...base, business_no: r.refundId, business_name: '退款', business_type: '退款', income_type: '支出', amount: r.amount.refund, remark: r.outRefundNo } });
    }
    return events.sort((a, b) => a.at - b.at || a.kind - b.kind);
  }
}
