import { Inject, Injectable } from '@nestjs/common';
import { pipeline, Readable, type Transform } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { WECHAT_PAY_CONFIG } from '../wechat-partner-pay.constants';
import type { ResolvedWechatPayConfig } from '../core/config/resolve-config';
import { rsaOaepDecryptBytes } from '../core/crypto/rsa-oaep';
import {
  WechatPayError,
  WechatPayResponseTooLargeError,
  WechatPayValidationError,
  type WechatPayFieldProblem,
} from '../core/errors/wechat-pay.errors';
import { WechatPayClient } from '../client/wechat-pay.client';
import { readCapped } from '../core/http/bounded-io';
import { BILL_ENDPOINTS } from './bills.endpoints';
import { beijingDate } from '../core/time';
import { WechatPayBillDecryptionError } from './bills.errors';
import {
  type FundFlowBillParseResult,
  parseFundFlowBill,
  type ParseBillOptions,
  parseTradeBill,
  type TradeBillParseResult,
} from './bill-parser';
import { BillHashCheck, saveBillToFile, spoolVerifiedBill, WechatPayBillHashMismatchError } from './bill-spool';
import type {
  EncryptedBillPart,
  SubMerchantFundFlowBillInfo,
  SubMerchantFundFlowBillQuery,
} from './dto/sub-merchant-fund-flow-bill.dto';
import type { TradeBillType } from './dto/trade-bill.dto';
import {
  type AuthenticatedBillFile,
  authenticateBillFile,
  BILL_KEY_LENGTH,
  BILL_TAG_LENGTH,
  type BillFileCipher,
  billKeyFromPlaintext,
  decryptBillWindows,
  gunzipBillWindows,
} from './encrypted-bill';

/** Query of `GET /v3/bill/tradebill`. */
export interface TradeBillQuery {
  /** Beijing calendar day, `YYYY-MM-DD` or a Date (its Beijing day). Yesterday at the latest, 3 months back at most. */
  bill_date: string | Date;
  /** One sub-merchant; all sub-merchants when omitted. */
  sub_mchid?: string;
  bill_type?: TradeBillType;
  tar_type?: 'GZIP';
}

/** Query of `GET /v3/bill/fundflowbill` (the provider's own account). */
export interface FundFlowBillQuery {
  bill_date: string | Date;
  account_type?: 'BASIC' | 'OPERATION' | 'FEES';
  tar_type?: 'GZIP';
}

/** What applying for a bill returns; `download_url` is valid for 5 minutes. */
export interface BillDownloadInfo {
  hash_type: 'SHA1' | string;
  hash_value: string;
  download_url: string;
  /** Remembered from the query so that `download()` knows to gunzip. Not part of WeChat's answer. */
  tar_type?: 'GZIP';
}

/** Options of the encrypted sub-merchant fund-flow bill download. */
export interface EncryptedBillDownloadOptions {
  /**
   * Additional authenticated data of the files' AES-GCM encryption. WeChat Pay documents none [UNVERIFIED], so the
   * default is empty; set it only if WeChat Pay turns out to use one.
   */
  associatedData?: string;
}

export { WechatPayBillHashMismatchError } from './bill-spool';

/** Options of the row helpers (`tradeBillRows()`, `fundFlowBillRows()`, `subMerchantFundFlowBillRows()`). */
export interface BillRowsOptions extends ParseBillOptions {
  /**
   * Stream rows while the bill downloads, before its SHA1 is known: rows of a corrupt or altered bill are yielded
   * and the iteration fails only at the end, so nothing may be acted on before it completed. Default false: the bill
   * is spooled to a temporary file and verified first, and no row is yielded unless the hash matched.
   */
  unverifiedRows?: boolean;
}

/** One file of an encrypted bill, checked and with its AES key unwrapped. */
interface EncryptedBillFile {
  sequence: number;
  url: string;
  hash: string;
  cipher: BillFileCipher;
}

const SHA1_HEX = /^[0-9A-Fa-f]{40}$/;

/**
 * Trade and fund-flow bills: apply, streaming download (gunzip, SHA1 check while streaming), typed streaming parse.
 * Memory stays flat whatever the size of the bill.
 */
@Injectable()
export class WechatPayBillsService {
  constructor(
    private readonly client: WechatPayClient,
    @Inject(WECHAT_PAY_CONFIG) private readonly config: ResolvedWechatPayConfig,
  ) {}

  /** Applies for a trade bill (交易账单). `NO_STATEMENT_EXIST` means there were no trades that day. */
  async applyTradeBill(query: TradeBillQuery): Promise<BillDownloadInfo> {
    const problems: WechatPayFieldProblem[] = [];
    const bill_date = this.billDate(query?.bill_date, problems);
    if (query?.sub_mchid !== undefined && !/^\d{1,32}$/.test(String(query.sub_mchid))) {
      problems.push({ field: 'sub_mchid', message: 'must be the sub-merchant id (digits)' });
    }
    if (query?.bill_type !== undefined && !['ALL', 'SUCCESS', 'REFUND'].includes(query.bill_type)) {
      problems.push({ field: 'bill_type', message: "must be 'ALL', 'SUCCESS' or 'REFUND'" });
    }
    this.checkTarType(query?.tar_type, problems);
    if (problems.length) throw new WechatPayValidationError(problems, 'trade bill query');
    const res = await this.client.call<BillDownloadInfo>(BILL_ENDPOINTS.tradeBill, {
      query: { bill_date, sub_mchid: query.sub_mchid || undefined, bill_type: query.bill_type || undefined, tar_type: query.tar_type || undefined },
    });
    return { ...res.data, tar_type: query.tar_type };
  }

  /** Applies for the provider's fund-flow bill (资金账单). */
  async applyFundFlowBill(query: FundFlowBillQuery): Promise<BillDownloadInfo> {
    const problems: WechatPayFieldProblem[] = [];
    const bill_date = this.billDate(query?.bill_date, problems);
    if (query?.account_type !== undefined && !['BASIC', 'OPERATION', 'FEES'].includes(query.account_type)) {
      problems.push({ field: 'account_type', message: "must be 'BASIC', 'OPERATION' or 'FEES'" });
    }
    this.checkTarType(query?.tar_type, problems);
    if (problems.length) throw new WechatPayValidationError(problems, 'fund-flow bill query');
    const res = await this.client.call<BillDownloadInfo>(BILL_ENDPOINTS.fundFlowBill, {
      query: { bill_date, account_type: query.account_type || undefined, tar_type: query.tar_type || undefined },
    });
    return { ...res.data, tar_type: query.tar_type };
  }

  /**
   * Downloads a bill as a stream of its uncompressed bytes: a signed GET of `download_url` (the answer is not
   * signed), gunzipped when applied with GZIP, SHA1 checked while streaming. On a mismatch the stream errors with
   * `WechatPayBillHashMismatchError` at the end: consumers must treat the data as unconfirmed until the stream ends.
   */
  async download(bill: BillDownloadInfo): Promise<Readable> {
    if (!bill || typeof bill.download_url !== 'string' || typeof bill.hash_value !== 'string') {
      throw new WechatPayValidationError(
        [{ field: 'bill', message: 'must be the object returned by applyTradeBill()/applyFundFlowBill()' }],
        'bill download',
      );
    }
    if (bill.hash_type && bill.hash_type.toUpperCase() !== 'SHA1') {
      throw new WechatPayError(
        `Unsupported bill hash_type ${String(bill.hash_type).slice(0, 16)}: only SHA1 is known`,
      );
    }
    const body = await this.client.download(bill.download_url);
    const check = new BillHashCheck(bill.hash_value);
    const stages: Array<Readable | Transform> = [body];
    if (bill.tar_type === 'GZIP') {
      const gunzip = createGunzip();
      // Registered before pipeline() so that the consumer gets this message rather than zlib's.
      gunzip.once('error', (e) =>
        check.destroy(new WechatPayError(`Bill download is not valid gzip data: ${e.message}`)),
      );
      stages.push(gunzip);
    }
    // Unlike pipe(), pipeline() destroys every stage when one fails or when the consumer stops early (a parse
    // error, a `break`), so the HTTP response is never left open; the error itself reaches the consumer via `check`.
    pipeline([...stages, check], () => undefined);
    return check;
  }

  /**
   * Downloads a bill into `path`: written to a temporary file beside it and renamed only when the hash matched,
   * so `path` is never a half or corrupt file.
   */
  async downloadToFile(bill: BillDownloadInfo, path: string): Promise<void> {
    return saveBillToFile(() => this.download(bill), path);
  }

  /**
   * Applies for one sub-merchant's fund-flow bill (资金账单 of a 特约商户). WeChat Pay answers with one or
   * more encrypted files; `downloadSubMerchantFundFlowBill()` decrypts them. Only `AEAD_AES_256_GCM` is supported:
   * `SM4_GCM` is refused with a `WechatPayValidationError` before anything is sent.
   */
  async applySubMerchantFundFlowBill(query: SubMerchantFundFlowBillQuery): Promise<SubMerchantFundFlowBillInfo> {
    const problems: WechatPayFieldProblem[] = [];
    if (typeof query?.sub_mchid !== 'string' || !/^\d{1,32}$/.test(query.sub_mchid)) {
      problems.push({ field: 'sub_mchid', message: 'is required: the sub-merchant id (digits)' });
    }
    const bill_date = this.billDate(query?.bill_date, problems);
    // Only the shape: the list of accounts differs between sources (DEPOSIT), so WeChat Pay judges the value.
    if (typeof query?.account_type !== 'string' || !/^[A-Z][A-Z_]{0,31}$/.test(query.account_type)) {
      problems.push({ field: 'account_type', message: "is required: 'BASIC', 'OPERATION', 'FEES' or 'DEPOSIT'" });
    }
    const algorithm: unknown = query?.algorithm ?? 'AEAD_AES_256_GCM';
    if (algorithm === 'SM4_GCM') {
      problems.push({
        field: 'algorithm',
        message:
          'only AEAD_AES_256_GCM is supported: SM4_GCM (national cryptography) needs an SM4-GCM cipher that ' +
          'Node.js does not have; apply with AEAD_AES_256_GCM',
      });
    } else if (algorithm !== 'AEAD_AES_256_GCM') {
      problems.push({ field: 'algorithm', message: "must be 'AEAD_AES_256_GCM' (the only supported algorithm) or omitted" });
    }
    this.checkTarType(query?.tar_type, problems);
    if (problems.length) throw new WechatPayValidationError(problems, 'sub-merchant fund-flow bill query');
    const res = await this.client.call<Omit<SubMerchantFundFlowBillInfo, 'algorithm' | 'tar_type'>>(BILL_ENDPOINTS.subMerchantFundFlowBill, {
      query: { sub_mchid: query.sub_mchid, bill_date, account_type: query.account_type, algorithm: 'AEAD_AES_256_GCM', tar_type: query.tar_type || undefined },
    });
    return { ...res.data, algorithm: 'AEAD_AES_256_GCM', tar_type: query.tar_type };
  }

  /**
   * Downloads an encrypted sub-merchant fund-flow bill as one stream of its decrypted, uncompressed bytes: every
   * file in `bill_sequence` order, concatenated.
   *
   * Each file is downloaded whole (signed GET, unsigned answer), its AES key unwrapped with the merchant private
   * key, and it is checked completely before any of its bytes is emitted: the AES-GCM tag must verify, it must
   * gunzip (GZIP) and the SHA1 of its uncompressed bytes must equal its `hash_value`. Then it is decrypted again
   * window by window as the consumer reads, so memory holds one file's ciphertext, never its plaintext.
   *
   * Every key is unwrapped, and the first file downloaded and checked, before this resolves: with a single file
   * (the usual case) every failure rejects this promise and the stream never errors. A later file is fetched when
   * the previous one has been read; if it fails (`WechatPayBillDecryptionError`, `WechatPayBillHashMismatchError`,
   * `WechatPayApiError` for an expired `download_url`) the stream errors before emitting any of it, so treat the
   * rows as unconfirmed until the stream ended, as with `download()`. Read promptly: each `download_url` is valid
   * for 5 minutes from the application; `downloadSubMerchantFundFlowBillToFile()` suits slow consumers.
   */
  async downloadSubMerchantFundFlowBill(
    info: SubMerchantFundFlowBillInfo,
    options: EncryptedBillDownloadOptions = {},
  ): Promise<Readable> {
    const files = this.encryptedBillFiles(info, options);
    const gzip = info.tar_type === 'GZIP';
    // The HTTP body being read, destroyed if the consumer stops early.
    let body: Readable | undefined;
    const track = (b: Readable): void => void (body = b);
    const first = await this.fetchBillFile(files[0], gzip, track);
    const fetchFile = (f: EncryptedBillFile): Promise<AuthenticatedBillFile> => this.fetchBillFile(f, gzip, track);
    async function* bytes(): AsyncGenerator<Buffer, void, undefined> {
      yield* billFilePlaintext(files[0], first, gzip);
      for (const file of files.slice(1)) yield* billFilePlaintext(file, await fetchFile(file), gzip);
    }
    const out = Readable.from(bytes(), { objectMode: false });
    out.once('close', () => body?.destroy());
    return out;
  }

  /**
   * Downloads an encrypted sub-merchant fund-flow bill into `path` (decrypted, uncompressed, files concatenated):
   * written beside it and renamed only when every file decrypted and matched its hash.
   */
  async downloadSubMerchantFundFlowBillToFile(
    info: SubMerchantFundFlowBillInfo,
    path: string,
    options: EncryptedBillDownloadOptions = {},
  ): Promise<void> {
    return saveBillToFile(() => this.downloadSubMerchantFundFlowBill(info, options), path);
  }

  /**
   * Apply + download + verify + parse a trade bill. The download is spooled to a temporary file
   * (`bills.spoolDirectory`) while its SHA1 is computed; this resolves only when the hash matched, so every row the
   * result yields is verified (a mismatch rejects with `WechatPayBillHashMismatchError` and yields nothing). Memory
   * stays flat; the file is deleted whatever happens. `{ unverifiedRows: true }` streams rows during the download.
   */
  async tradeBillRows(query: TradeBillQuery, options: BillRowsOptions = {}): Promise<TradeBillParseResult> {
    return parseTradeBill(await this.rowSource(() => this.applyTradeBill(query).then((b) => this.download(b)), options), options);
  }

  /** Apply + download + verify + parse a fund-flow bill; verified before the first row, as `tradeBillRows()`. */
  async fundFlowBillRows(query: FundFlowBillQuery, options: BillRowsOptions = {}): Promise<FundFlowBillParseResult> {
    return parseFundFlowBill(await this.rowSource(() => this.applyFundFlowBill(query).then((b) => this.download(b)), options), options);
  }

  /**
   * Apply + download + decrypt + verify + parse a sub-merchant's encrypted fund-flow bill: every file is
   * authenticated and hash-checked (and the bill spooled) before the first row, as `tradeBillRows()`.
   */
  async subMerchantFundFlowBillRows(
    query: SubMerchantFundFlowBillQuery,
    options: EncryptedBillDownloadOptions & BillRowsOptions = {},
  ): Promise<FundFlowBillParseResult> {
    const info = await this.applySubMerchantFundFlowBill(query);
    return parseFundFlowBill(await this.rowSource(() => this.downloadSubMerchantFundFlowBill(info, options), options), options);
  }

  /** The bytes the row helpers parse: verified first (spooled), or the live download with `unverifiedRows`. */
  private async rowSource(open: () => Promise<Readable>, options: BillRowsOptions): Promise<Readable | AsyncIterable<Buffer>> {
    if (options.unverifiedRows === true) return open();
    return spoolVerifiedBill(await open(), this.config.bills?.spoolDirectory);
  }

  /**
   * Checks an encrypted bill's answer and unwraps every file's AES key with the merchant private key (parsed once,
   * at boot). Returns the files in `bill_sequence` order, which must run 1..n without a gap.
   */
  private encryptedBillFiles(info: SubMerchantFundFlowBillInfo, options: EncryptedBillDownloadOptions): EncryptedBillFile[] {
    const what = 'sub-merchant fund-flow bill download';
    if (!info || !Array.isArray(info.download_bill_list) || info.download_bill_list.length === 0) {
      throw new WechatPayValidationError(
        [{ field: 'download_bill_list', message: 'must be the non-empty list returned by applySubMerchantFundFlowBill()' }],
        what,
      );
    }
    const algorithm: unknown = info.algorithm ?? 'AEAD_AES_256_GCM';
    if (algorithm !== 'AEAD_AES_256_GCM') {
      throw new WechatPayBillDecryptionError(
        'UNSUPPORTED_ALGORITHM',
        undefined,
        `Cannot decrypt a bill encrypted with ${String(algorithm).slice(0, 32)}: only AEAD_AES_256_GCM is supported`,
      );
    }
    if (options.associatedData !== undefined && typeof options.associatedData !== 'string') {
      throw new WechatPayValidationError([{ field: 'associatedData', message: 'must be a string' }], what);
    }
    const problems: WechatPayFieldProblem[] = [];
    const list = info.download_bill_list;
    list.forEach((p: EncryptedBillPart, i) => {
      const at = `download_bill_list[${i}]`;
      if (!p || typeof p !== 'object') return void problems.push({ field: at, message: 'must be an object' });
      if (!Number.isInteger(p.bill_sequence) || p.bill_sequence < 1) {
        problems.push({ field: `${at}.bill_sequence`, message: 'must be an integer from 1' });
      }
      if (p.hash_type !== undefined && String(p.hash_type).toUpperCase() !== 'SHA1') {
        problems.push({ field: `${at}.hash_type`, message: 'must be SHA1, the only hash known' });
      }
      if (typeof p.hash_value !== 'string' || !SHA1_HEX.test(p.hash_value)) {
        problems.push({ field: `${at}.hash_value`, message: 'must be a SHA1 (40 hex digits)' });
      }
      for (const field of ['download_url', 'encrypt_key', 'nonce'] as const) {
        if (typeof p[field] !== 'string' || p[field] === '') problems.push({ field: `${at}.${field}`, message: 'must be a non-empty string' });
      }
    });
    const sorted = problems.length ? [] : [...list].sort((a, b) => a.bill_sequence - b.bill_sequence);
    if (sorted.some((p, i) => p.bill_sequence !== i + 1)) {
      problems.push({
        field: 'download_bill_list',
        message: `bill_sequence must run from 1 to ${list.length} without gaps or repeats: a file is missing`,
      });
    }
    if (typeof info.download_bill_count === 'number' && info.download_bill_count !== list.length) {
      problems.push({
        field: 'download_bill_count',
        message: `is ${info.download_bill_count} but download_bill_list has ${list.length} files`,
      });
    }
    if (problems.length) throw new WechatPayValidationError(problems, what);
    const aad = Buffer.from(options.associatedData ?? '', 'utf8');
    return sorted.map((p) => {
      let plain: Buffer;
      try {
        plain = rsaOaepDecryptBytes(p.encrypt_key, this.config.privateKey);
      } catch {
        throw new WechatPayBillDecryptionError(
          'KEY_DECRYPTION_FAILED',
          p.bill_sequence,
          `Bill file ${p.bill_sequence}: encrypt_key does not decrypt with the merchant private key (RSA-OAEP-SHA1); ` +
            'the bill must be applied for and downloaded by this merchant (privateKey = its apiclient_key.pem)',
        );
      }
      const found = billKeyFromPlaintext(plain);
      // A copy: the key may be `plain` itself, which is wiped now that it has been read.
      const key = found && Buffer.from(found);
      const length = plain.length;
      plain.fill(0);
      if (!key) {
        throw new WechatPayBillDecryptionError(
          'INVALID_KEY',
          p.bill_sequence,
          `Bill file ${p.bill_sequence}: encrypt_key decrypts to ${length} bytes, which is not a ${BILL_KEY_LENGTH}-byte ` +
            'AES-256 key (raw, 32-character text, 64 hex digits or Base64)',
        );
      }
      return {
        sequence: p.bill_sequence,
        url: p.download_url,
        hash: p.hash_value.toLowerCase(),
        cipher: { key, nonce: Buffer.from(p.nonce, 'utf8'), aad },
      };
    });
  }

  /**
   * Downloads one file of an encrypted bill whole and checks it completely (GCM tag, gzip, SHA1) without keeping
   * any plaintext.
   */
  private async fetchBillFile(
    file: EncryptedBillFile,
    gzip: boolean,
    track: (body: Readable) => void,
  ): Promise<AuthenticatedBillFile> {
    const body = await this.client.download(file.url);
    track(body);
    const limit = this.config.bills.maxEncryptedFileBytes;
    const tooLarge = (): WechatPayResponseTooLargeError =>
      new WechatPayResponseTooLargeError(limit, 'GET', new URL(file.url).pathname, 'bills.maxEncryptedFileBytes');
    // The whole ciphertext is held while it is authenticated: the limit bounds that memory, checked while receiving.
    const bytes = await readCapped(body, limit, true);
    if (bytes === undefined) throw tooLarge();
    if (bytes.length < BILL_TAG_LENGTH) {
      throw new WechatPayBillDecryptionError(
        'MALFORMED',
        file.sequence,
        `Bill file ${file.sequence}: ${bytes.length} bytes, shorter than the 16-byte AES-GCM tag; download it again`,
      );
    }
    const authenticated = await authenticateBillFile(file.cipher, bytes, gzip, file.sequence);
    if (!authenticated) {
      throw new WechatPayBillDecryptionError(
        'AUTHENTICATION_FAILED',
        file.sequence,
        `Bill file ${file.sequence}: AES-256-GCM authentication failed: the download is corrupt or was altered, or ` +
          'it does not belong to this encrypt_key and nonce; apply for the bill again',
      );
    }
    const actual = authenticated.sha1;
    if (actual !== file.hash) throw new WechatPayBillHashMismatchError(file.hash, actual, file.sequence);
    return authenticated;
  }

  /** `YYYY-MM-DD` of a Beijing day between 3 months ago and yesterday. */
  private billDate(input: string | Date | undefined, problems: WechatPayFieldProblem[]): string {
    let day: string | undefined;
    if (input instanceof Date && !Number.isNaN(input.getTime())) day = beijingDate(input);
    else if (
      typeof input === 'string' &&
      /^\d{4}-\d{2}-\d{2}$/.test(input) &&
      beijingDate(new Date(`${input}T12:00:00+08:00`)) === input
    )
      day = input;
    if (!day) {
      problems.push({
        field: 'bill_date',
        message: 'must be a YYYY-MM-DD date or a Date (its Beijing calendar day)',
      });
      return '';
    }
    const now = new Date(this.config.clock());
    const today = beijingDate(now);
    const [y, m, d] = today.split('-').map(Number);
    const oldest = new Date(Date.UTC(y, m - 1 - 3, d)).toISOString().slice(0, 10);
    if (day >= today)
      problems.push({
        field: 'bill_date',
        message: `must be before today (${today}, Beijing time): bills are generated the next day`,
      });
    else if (day < oldest) {
      problems.push({
        field: 'bill_date',
        message: 'must be within the last 3 months: older bills cannot be downloaded',
      });
    }
    return day;
  }

  private checkTarType(tar: unknown, problems: WechatPayFieldProblem[]): void {
    if (tar !== undefined && tar !== 'GZIP')
      problems.push({ field: 'tar_type', message: "must be 'GZIP' or omitted" });
  }
}

/**
 * The plaintext of an authenticated file, decrypted again window by window (and gunzipped with GZIP), so that the
 * whole plaintext is never held in memory.
 */
async function* billFilePlaintext(
  file: EncryptedBillFile,
  authenticated: AuthenticatedBillFile,
  gzip: boolean,
): AsyncGenerator<Buffer, void, undefined> {
  const windows = decryptBillWindows(file.cipher, authenticated.data, authenticated.tag);
  if (gzip) yield* gunzipBillWindows(windows, file.sequence);
  else yield* windows;
}
