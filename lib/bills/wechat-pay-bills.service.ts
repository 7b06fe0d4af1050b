import { Inject, Injectable } from '@nestjs/common';
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, unlink } from 'node:fs/promises';
import { pipeline, type Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline as pipelineAsync } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { WECHAT_PAY_CONFIG } from '../wechat-partner-pay.constants';
import type { ResolvedWechatPayConfig } from '../core/config/resolve-config';
import {
  WechatPayError,
  WechatPayValidationError,
  type WechatPayFieldProblem,
} from '../core/errors/wechat-pay.errors';
import { WechatPayClient } from '../core/http/wechat-pay.client';
import { beijingDate } from '../core/time';
import { type FundFlowBillParseResult, parseFundFlowBill, parseTradeBill, type TradeBillParseResult } from './bill-parser';
import type { TradeBillType } from './dto/trade-bill.dto';

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

/** The downloaded bill's SHA1 differs from `hash_value`: the file is corrupt or was altered. */
export class WechatPayBillHashMismatchError extends WechatPayError {
  constructor(
    public readonly expected: string,
    public readonly actual: string,
  ) {
    super(
      `Bill hash mismatch: expected SHA1 ${expected}, got ${actual}; the download is corrupt, download it again`,
    );
  }
}

/** Computes SHA1 of the bytes passing through and fails the stream at the end when it differs. */
class HashCheck extends Transform {
  private readonly hash = createHash('sha1');

  constructor(private readonly expected: string) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    const actual = this.hash.digest('hex');
    cb(
      actual === this.expected.toLowerCase()
        ? null
        : new WechatPayBillHashMismatchError(this.expected.toLowerCase(), actual),
    );
  }
}

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
    const res = await this.client.request<BillDownloadInfo>({
      method: 'GET',
      path: '/v3/bill/tradebill',
      query: [
        ['bill_date', bill_date],
        ...(query.sub_mchid ? ([['sub_mchid', query.sub_mchid]] as const) : []),
        ...(query.bill_type ? ([['bill_type', query.bill_type]] as const) : []),
        ...(query.tar_type ? ([['tar_type', query.tar_type]] as const) : []),
      ],
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
    const res = await this.client.request<BillDownloadInfo>({
      method: 'GET',
      path: '/v3/bill/fundflowbill',
      query: [
        ['bill_date', bill_date],
        ...(query.account_type ? ([['account_type', query.account_type]] as const) : []),
        ...(query.tar_type ? ([['tar_type', query.tar_type]] as const) : []),
      ],
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
    const check = new HashCheck(bill.hash_value);
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
    const tmp = `${path}.${randomBytes(6).toString('hex')}.part`;
    try {
      await pipelineAsync(await this.download(bill), createWriteStream(tmp, { flags: 'wx', mode: 0o600 }));
      await rename(tmp, path);
    } catch (e) {
      await unlink(tmp).catch(() => undefined);
      throw e;
    }
  }

  /** Apply + download + parse a trade bill in one streaming call. */
  async tradeBillRows(query: TradeBillQuery): Promise<TradeBillParseResult> {
    return parseTradeBill(await this.download(await this.applyTradeBill(query)));
  }

  /** Apply + download + parse a fund-flow bill in one streaming call. */
  async fundFlowBillRows(query: FundFlowBillQuery): Promise<FundFlowBillParseResult> {
    return parseFundFlowBill(await this.download(await this.applyFundFlowBill(query)));
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
