/**
 * The simulator's bills: trade and fund-flow bills built from its own paid orders and refunds, in
 * WeChat's file format (through the package's bill writer), with the apply → 5-minute token → download flow,
 * SHA1 over the uncompressed bytes and the availability rules (before today, within 3 months, ready at 10:00
 * Beijing time on the next day, nothing to bill = NO_STATEMENT_EXIST). The sub-merchant fund-flow bill (the encrypted one) is the
 * same fund-flow bill restricted to one sub-merchant, split into files that are each encrypted with their own key.
 */
import { createHash, type KeyObject, randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { type FundFlowBillWriterRow, type TradeBillWriterRow, writeFundFlowBill, writeTradeBill } from './bill-writer';
import type { TradeBillType } from '../bills/dto/trade-bill.dto';
import { aesGcmSeal } from '../core/crypto/aes-gcm';
import { generateNonce } from '../core/crypto/nonce';
import { rsaOaepEncrypt } from '../core/crypto/rsa-oaep';
import { beijingDate, formatBeijingRfc3339, parseRfc3339 } from '../core/time';
import { BILL_ENDPOINTS } from '../bills/bills.endpoints';
import { SIMULATOR_ERRORS, SimulatorHttpError } from './simulator-errors';
import { isPaid, type SimulatedOrder } from './simulator-orders';
import type { SimulatedRefund, SimulatedRefundStatus } from './simulator-refunds';
import { validateBillQuery } from './books/bills.validation';

/** How the simulator writes bills. */
export interface SimulatorBillOptions {
  /** Fee rate of payment rows, e.g. 0.006 for 0.60%; refund rows get the negative fee of the refunded amount. */
  feeRate: number;
  /** Start files with a UTF-8 BOM. */
  bom: boolean;
  eol: '\r\n' | '\n';
  /** Beijing hour of D+1 from which the bill of day D can be applied for. */
  readyHour: number;
  /** The encrypted sub-merchant fund-flow bill, defaults applied. */
  encryption: Required<SimulatorEncryptedBillOptions>;
}

/**
 * The wire details of the encrypted sub-merchant fund-flow bill that no source confirmed [UNVERIFIED],
 * and the splitting into files. The defaults are the spec's assumption: tag appended, empty AAD.
 */
export interface SimulatorEncryptedBillOptions {
  /**
   * What `encrypt_key` encrypts: 'text' (default) 32 random `[0-9A-Za-z]` characters whose UTF-8 bytes are the AES
   * key, like the APIv3 key (the Java SDK decrypts `encrypt_key` to a String); 'raw' 32 random bytes; 'base64' the
   * Base64 text of 32 random bytes.
   */
  keyEncoding?: 'text' | 'raw' | 'base64';
  /** AAD of each file's AES-256-GCM encryption. Default '' (none). */
  associatedData?: string;
  /** Where the 16-byte GCM tag goes in a file: 'end' (default, `ciphertext || tag` as AES-GCM output usually is) or 'start'. */
  tagPosition?: 'end' | 'start';
  /** Uncompressed bytes per file at most: the bill is split into several files (`bill_sequence` 1..n). Default: one file. */
  maxPartBytes?: number;
  /** Where a file may end: 'line' (default: after the last line break that fits, if any) or 'byte' (exactly at `maxPartBytes`). */
  splitAt?: 'line' | 'byte';
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
  /** Public key of the merchant certificate (apiclient_cert.pem): encrypted bills' keys are encrypted with it. */
  merchantPublicKey(): KeyObject;
  options: SimulatorBillOptions;
}

/** The answer of `GET /v3/bill/tradebill` and `/v3/bill/fundflowbill`. */
export interface SimulatorBillApplication {
  hash_type: 'SHA1';
  hash_value: string;
  download_url: string;
}

/** One encrypted file in the answer of `GET /v3/bill/sub-merchant-fundflowbill`. */
export interface SimulatorEncryptedBillPart {
  bill_sequence: number;
  hash_type: 'SHA1';
  /** SHA1 of the file's original bytes: decrypted and uncompressed. */
  hash_value: string;
  download_url: string;
  /** Base64 RSA-OAEP-SHA1 of the file's key, under the merchant certificate's public key. */
  encrypt_key: string;
  /** 12 `[0-9A-Za-z]` characters, used as UTF-8 bytes for AES-GCM. */
  nonce: string;
}

/** The answer of `GET /v3/bill/sub-merchant-fundflowbill`. */
export interface SimulatorEncryptedBillApplication {
  download_bill_count: number;
  download_bill_list: SimulatorEncryptedBillPart[];
}

/** A file behind a download token. */
export interface SimulatorBillFile {
  /** The uncompressed bill; for an encrypted bill, the encrypted file exactly as served. */
  bytes: Buffer;
  /** Gzip `bytes` when serving them (never for an encrypted file, which was gzipped before encryption). */
  gzip: boolean;
  /** An encrypted file (application/octet-stream). */
  encrypted: boolean;
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

/** Fund-flow account. */
export type SimulatorFundFlowAccount = 'BASIC' | 'OPERATION' | 'FEES';

/** Fund-flow account of a sub-merchant; DEPOSIT is accepted and, like OPERATION, empty. */
export type SimulatorSubMerchantFundFlowAccount = SimulatorFundFlowAccount | 'DEPOSIT';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
/** download_url validity. */
const TOKEN_VALIDITY_MS = 5 * 60_000;

/** 退款状态 in bills uses its own vocabulary. */
const BILL_REFUND_STATUS: Record<SimulatedRefundStatus, string> = { SUCCESS: 'SUCCESS', PROCESSING: 'PROCESSING', ABNORMAL: 'CHANGE', CLOSED: 'FAIL' };

/** `yyyy-MM-dd HH:mm:ss` in Beijing time. */
function billTime(ms: number): string {
  return formatBeijingRfc3339(new Date(ms)).slice(0, 19).replace('T', ' ');
}

function successAt(order: SimulatedOrder): number {
  return parseRfc3339(order.successTime ?? '')?.getTime() ?? order.createdAt;
}

function sha1(bytes: Buffer): string {
  return createHash('sha1').update(bytes).digest('hex');
}

/**
 * Cuts a bill into files of at most `max` bytes: after the last line break that fits ('line', when there is one) or
 * exactly at `max` ('byte', which may cut a UTF-8 character in two). The files concatenated are the bill.
 */
function splitBill(bill: Buffer, max: number, at: 'line' | 'byte'): Buffer[] {
  const parts: Buffer[] = [];
  let start = 0;
  while (bill.length - start > max) {
    let end = start + max;
    if (at === 'line') {
      const nl = bill.lastIndexOf(0x0a, end - 1);
      if (nl >= start) end = nl + 1;
    }
    parts.push(bill.subarray(start, end));
    start = end;
  }
  parts.push(bill.subarray(start));
  return parts;
}

/** One movement of money of the fund-flow bill, before balances are computed. */
interface FundFlowEvent {
  at: number;
  kind: 1 | 2 | 3;
  /** Whose money moved. */
  subMchid: string;
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

  /**
   * GET /v3/bill/sub-merchant-fundflowbill: the sub-merchant's fund-flow bill, split into files of at most
   * `maxPartBytes` uncompressed bytes, each gzipped (GZIP) then AES-256-GCM encrypted with a fresh key and nonce; the
   * key is RSA-OAEP-SHA1 encrypted with the merchant certificate's public key. `hash_value` is the SHA1 of the file's
   * uncompressed bytes.
   */
  applySubMerchantFundFlowBill(query: URLSearchParams, mchid: string): SimulatorEncryptedBillApplication {
    const q = validateBillQuery('subfundflow', query);
    const sub = q.sub_mchid as string;
    this.ctx.checkSubMerchant(sub);
    const billDate = this.checkBillDate(q.bill_date as string);
    const rows = this.fundFlowBillRows(billDate, q.account_type as SimulatorSubMerchantFundFlowAccount, sub);
    if (!rows.length) throw new SimulatorHttpError(SIMULATOR_ERRORS.NO_STATEMENT_EXIST);
    if (q.algorithm === 'SM4_GCM') {
      throw new SimulatorHttpError(SIMULATOR_ERRORS.BILL_SM4_UNSUPPORTED, undefined, {
        field: '/algorithm',
        value: q.algorithm,
        issue: 'SM4_GCM is not available in the simulator',
        location: 'query',
      });
    }
    const { bom, eol, encryption } = this.ctx.options;
    const bill = Buffer.from(writeFundFlowBill(rows, { bom, eol }), 'utf8');
    const gzip = q.tar_type === 'GZIP';
    const list = splitBill(bill, encryption.maxPartBytes, encryption.splitAt).map((part, i) => this.encryptedPart(part, i + 1, gzip, mchid));
    return { download_bill_count: list.length, download_bill_list: list };
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
   * The rows of the provider's fund-flow bill of a day, or of one sub-merchant's (`subMchid`). A deliberately simple
   * model: BASIC has payments (收入), their fees and refunds (支出); FEES only the fees; OPERATION (and DEPOSIT)
   * nothing. Balances run from the first event ever (of that sub-merchant).
   */
  fundFlowBillRows(billDate: string, account: SimulatorSubMerchantFundFlowAccount = 'BASIC', subMchid?: string): FundFlowBillWriterRow[] {
    let balance = 0;
    const out: FundFlowBillWriterRow[] = [];
    for (const e of this.fundFlowEvents()) {
      if (account === 'DEPOSIT' || !e.accounts.includes(account) || (subMchid !== undefined && e.subMchid !== subMchid)) continue;
      balance += e.row.income_type === '收入' ? e.row.amount : -e.row.amount;
      const day = beijingDate(new Date(e.at));
      if (day !== billDate) continue;
      out.push({ ...e.row, accounting_time: billTime(e.at), flow_no: `${day.replace(/-/g, '')}${e.kind}${e.row.business_no.slice(-12)}`, balance });
    }
    return out;
  }

  /** Keeps the file for 5 minutes behind a fresh token; answers with its SHA1 (of the uncompressed bytes). */
  private issue(bytes: Buffer, gzip: boolean, mchid: string): SimulatorBillApplication {
    return { hash_type: 'SHA1', hash_value: sha1(bytes), download_url: this.store({ bytes, gzip, encrypted: false }, mchid, gzip) };
  }

  /** Keeps a file for 5 minutes behind a fresh token; returns its download_url. */
  private store(file: Pick<SimulatorBillFile, 'bytes' | 'gzip' | 'encrypted'>, mchid: string, gzipped: boolean): string {
    const now = this.ctx.clock();
    for (const [token, f] of this.files) if (now >= f.expiresAt) this.files.delete(token);
    const token = randomBytes(48).toString('base64url');
    this.files.set(token, { ...file, mchid, expiresAt: now + TOKEN_VALIDITY_MS });
    // JAVA's QueryBillEntity shows the `&tartype=gzip` form; the token alone decides what is served.
    return `${this.ctx.baseUrl()}${BILL_ENDPOINTS.download.path}?token=${token}${gzipped ? '&tartype=gzip' : ''}`;
  }

  /** Encrypts one file of a sub-merchant fund-flow bill with a fresh key, as configured (the UNVERIFIED details). */
  private encryptedPart(bytes: Buffer, sequence: number, gzip: boolean, mchid: string): SimulatorEncryptedBillPart {
    const o = this.ctx.options.encryption;
    let key: Buffer;
    let wrapped: Buffer;
    if (o.keyEncoding === 'text') {
      key = Buffer.from(generateNonce(32), 'utf8');
      wrapped = key;
    } else {
      key = randomBytes(32);
      wrapped = o.keyEncoding === 'raw' ? key : Buffer.from(key.toString('base64'), 'utf8');
    }
    const nonce = generateNonce(12);
    const { ciphertext, tag } = aesGcmSeal(key, Buffer.from(nonce, 'utf8'), Buffer.from(o.associatedData, 'utf8'), gzip ? gzipSync(bytes) : bytes);
    const file = o.tagPosition === 'end' ? Buffer.concat([ciphertext, tag]) : Buffer.concat([tag, ciphertext]);
    return {
      bill_sequence: sequence,
      hash_type: 'SHA1',
      hash_value: sha1(bytes),
      download_url: this.store({ bytes: file, gzip: false, encrypted: true }, mchid, gzip),
      encrypt_key: rsaOaepEncrypt(wrapped, this.ctx.merchantPublicKey()),
      nonce,
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
      // 公众账号ID / 用户标识: the provider's AppID and the payer's openid under it [UNVERIFIED for partners].
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
      events.push({ at, kind: 1, subMchid: o.subMchid, accounts: ['BASIC'], row: { ...base, business_no: o.transactionId, business_name: '交易收款', business_type: '交易', income_type: '收入', amount: o.amount.total, remark: o.outTradeNo } });
      const fee = Math.round(o.amount.total * this.ctx.options.feeRate);
      if (fee > 0) {
        events.push({ at, kind: 2, subMchid: o.subMchid, accounts: ['BASIC', 'FEES'], row: { ...base, business_no: o.transactionId, business_name: '交易手续费', business_type: '扣除交易手续费', income_type: '支出', amount: fee, remark: o.outTradeNo } });
      }
    }
    for (const r of this.ctx.refunds()) {
      if (r.status === 'CLOSED') continue;
      events.push({ at: r.createdAt, kind: 3, subMchid: r.subMchid, accounts: ['BASIC'], row: { ...base, business_no: r.refundId, business_name: '退款', business_type: '退款', income_type: '支出', amount: r.amount.refund, remark: r.outRefundNo } });
    }
    return events.sort((a, b) => a.at - b.at || a.kind - b.kind);
  }
}
