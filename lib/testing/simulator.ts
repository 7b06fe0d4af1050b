/**
 * `WechatPaySimulator`: an offline WeChat Pay APIv3 partner (服务商) server on node:http. It verifies requests and
 * signs answers with the core crypto of this package, keeps orders, sends notifications with WeChat's retry
 * schedule, serves platform certificates, and lets tests inject faults and move the clock.
 */
import { isUtf8 } from 'node:buffer';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { aesGcmEncrypt } from '../core/crypto/aes-gcm';
import { rsaOaepDecrypt } from '../core/crypto/rsa-oaep';
import { type AuthorizationParams, WechatPayRequestSigner } from '../core/crypto/request-signer';
import { WECHATPAY_HEADERS } from '../core/crypto/headers';
import { generateHex } from '../core/crypto/nonce';
import { loadPrivateKey, parseCertificate } from '../core/crypto/keys';
import type { WechatPartnerPayModuleOptions } from '../interfaces/wechat-partner-pay-options.interface';
import { BILL_DOWNLOAD_PATH } from '../wechat-partner-pay.constants';
import { buildNotificationBody, buildSignedNotification, type SignedNotification } from './notification-factory';
import { checkMchidConsistency, SimulatorRequestAuthenticator } from './simulator-auth';
import { renderCashierError, renderCashierPage } from './simulator-cashier-page';
import {
  cloneCredentials,
  deepFreeze,
  defaultSimulatorCredentials,
  generatePlatformCertificate,
  type SimulatorCredentials,
  type SimulatorPlatformCertificate,
  type SimulatorSubMerchant,
} from './simulator-credentials';
import { errorForStatus, SIMULATOR_ERRORS, SimulatorHttpError } from './simulator-errors';
import { type SimulatorFault, SimulatorFaults } from './simulator-faults';
import {
  SimulatorBillOffice,
  type SimulatorBillApplication,
  type SimulatorEncryptedBillOptions,
  type SimulatorFundFlowAccount,
  type SimulatorSubMerchantFundFlowAccount,
  type SimulatorTradeBillFilter,
} from './simulator-bills';
import { type NotificationDelivery, type NotificationJob, SimulatorNotifier } from './simulator-notifier';
import { type OrderBookState, type SimulatedOrder, SimulatorOrderBook, type SimulatorPayOptions } from './simulator-orders';
import { type CompleteRefundOptions, type SimulatedRefund, SimulatorRefundBook } from './simulator-refunds';
import { corruptSignature, requestId, signMessageHeaders, SimulatorKeyring, type SimulatorSignWith } from './simulator-signing';
import { CancellableTimers } from './simulator-timers';
import {
  type OrderScene,
  validateAbnormalRefundBody,
  validateCloseBody,
  validateOrderBody,
  validatePathParam,
  validateQueryIds,
  validateRefundBody,
  validateRefundQuery,
} from './simulator-validation';
import { formatBeijingRfc3339, parseRfc3339 } from '../core/time';
import type { FundFlowBillWriterRow, TradeBillWriterRow } from '../bills/bill-writer';

/** Options of `WechatPaySimulator.start()`. */
export interface SimulatorOptions {
  /** Default 0: a random free port. */
  port?: number;
  /** Default `127.0.0.1`. */
  host?: string;
  /** Override any credential; a complete set skips key generation (reuse `sim.credentials` across tests). */
  credentials?: Partial<SimulatorCredentials>;
  /** Sub-merchants (replaces `credentials.subMerchants`). */
  subMerchants?: SimulatorSubMerchant[];
  /** Key for answers when the request's `Wechatpay-Serial` names no key the simulator has, and for notifications. Default 'publicKey'. */
  signWith?: SimulatorSignWith;
  /** The merchant has only the WeChat Pay public key: /v3/certificates answers 404 RESOURCE_NOT_EXISTS. */
  publicKeyOnly?: boolean;
  /** Platform certificates served (taken newest first from the credentials). Default 1. Ignored when `credentials.platformCertificates` is given. */
  platformCertificateCount?: 1 | 2;
  /** Accepted distance of request timestamps from the simulator clock. Default 300 s. */
  clockSkewSeconds?: number;
  /** Multiplies WeChat's notification retry delays (15 s, 15 s, 30 s, 3 min, …). Default 0.001; 0 retries at once. */
  notificationTimeScale?: number;
  /** 'retry' follows the schedule until a 2xx (default); 'once' sends a single attempt. */
  notificationMode?: 'retry' | 'once';
  /** Real ms a notify_url has to answer (WeChat: 5 s). Default 5000. */
  notificationReplyTimeoutMs?: number;
  /** Probability (0..1) of a `WECHATPAY/SIGNTEST/` probe before each delivery attempt. Default 0. */
  probeRate?: number;
  /** Reject an out_trade_no already used by another sub-merchant of the provider (spec §4.2). Default false. */
  strictOutTradeNoScope?: boolean;
  /** Answer 400 to requests without User-Agent [UNVERIFIED whether WeChat enforces it]. Default false. */
  requireUserAgent?: boolean;
  /** Answer 401 to a nonce_str seen within the skew window [UNVERIFIED]. Default false. */
  rejectReplayedNonce?: boolean;
  /** Largest accepted request body. Default 1 MiB. */
  maxBodyBytes?: number;
  /** Milliseconds since the epoch; drives timestamps, expiry and certificate choice. Default `Date.now`. */
  clock?: () => number;
  /** Receives one line per request (`METHOD /path STATUS`); never keys, headers or bodies. Default: silent. */
  logger?: (line: string) => void;
  /** Called after anything that changes orders or refunds (the CLI's `--state-file` saves then). */
  onStateChange?: () => void;
  /** 'auto' (default): refunds become SUCCESS after `refundDelayMs`; 'manual': they stay PROCESSING until `sim.completeRefund()`. */
  refundMode?: 'auto' | 'manual';
  /** Real milliseconds a refund stays PROCESSING in 'auto' mode (WeChat: up to days). Default 50. */
  refundDelayMs?: number;
  /** Fee rate written in bills (手续费 = amount × rate; 费率 `0.60%`). Default 0.006. */
  feeRate?: number;
  /** Bills start with a UTF-8 BOM, as WeChat serves them. Default true. */
  billBom?: boolean;
  /** Line break of bills. Default `\r\n`, as WeChat serves them. */
  billEol?: '\r\n' | '\n';
  /** Beijing hour of day D+1 from which the bill of day D exists (STATEMENT_CREATING before). Default 10. */
  billReadyHour?: number;
  /**
   * The encrypted sub-merchant fund-flow bill (`GET /v3/bill/sub-merchant-fundflowbill`): its UNVERIFIED wire details
   * (key encoding, AAD, tag position) and splitting into several files. Defaults: text key, empty AAD, tag at the
   * end, one file.
   */
  encryptedBill?: SimulatorEncryptedBillOptions;
}

/** Orders and refunds as JSON, for `--state-file`. */
export interface SimulatorState extends OrderBookState {
  /** Absent in files written before refunds existed. */
  refunds?: SimulatedRefund[];
}

/** One request the simulator received. */
export interface SimulatorRequestRecord {
  method: string;
  /** Raw request target: path and query as received. */
  path: string;
  /** HTTP status answered; 0 when the connection was reset. */
  status: number;
  /** Error code of the answer, if any. */
  code?: string;
  /** Simulator clock (ms). */
  at: number;
}

/** Notification controls of a simulator. */
export interface SimulatorNotifications {
  /** Resolves once every scheduled delivery finished (succeeded, gave up, or was cancelled by `close()`). */
  flush(): Promise<void>;
  /** Notifications still being delivered. */
  readonly pending: number;
}

interface ApiAnswer {
  status: number;
  /** Exact body ('' for 204). */
  body: string;
  /** A bill download: sent as a file, unsigned (spec §7.3), gzipped when applied with GZIP; or an encrypted file. */
  file?: { bytes: Buffer; gzip: boolean; encrypted: boolean };
  internalCode: number;
  code?: string;
  /** Sign with this key mode regardless of the request (certificates are signed with the newest certificate). */
  forceSignWith?: SimulatorSignWith;
}

const ORDER_PREFIX = '/v3/pay/partner/transactions';
const ROUTES = {
  create: new RegExp(`^${ORDER_PREFIX}/(jsapi|app|h5|native)$`),
  byId: new RegExp(`^${ORDER_PREFIX}/id/([^/]+)$`),
  byOutTradeNo: new RegExp(`^${ORDER_PREFIX}/out-trade-no/([^/]+)$`),
  close: new RegExp(`^${ORDER_PREFIX}/out-trade-no/([^/]+)/close$`),
  refundQuery: /^\/v3\/refund\/domestic\/refunds\/([^/]+)$/,
  applyAbnormalRefund: /^\/v3\/refund\/domestic\/refunds\/([^/]+)\/apply-abnormal-refund$/,
};
const REFUNDS_PATH = '/v3/refund/domestic/refunds';
/** Notifications kept for `redeliver()`; the oldest are forgotten beyond this. */
const REDELIVERABLE = 1000;
const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';
const YEAR = 365 * 86_400_000;

function json(status: number, value: unknown, internalCode = 0): ApiAnswer {
  return { status, body: JSON.stringify(value), internalCode };
}

function errorAnswer(err: SimulatorHttpError): ApiAnswer {
  return { status: err.status, body: JSON.stringify(err.toBody()), internalCode: err.internalCode, code: err.code };
}

function parseJsonObject(body: Buffer): Record<string, unknown> {
  if (!isUtf8(body)) throw new SimulatorHttpError(SIMULATOR_ERRORS.INVALID_JSON, '请求体不是合法的UTF-8 (the request body is not valid UTF-8)');
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    throw new SimulatorHttpError(SIMULATOR_ERRORS.INVALID_JSON);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new SimulatorHttpError(SIMULATOR_ERRORS.PARAM_ERROR, '参数错误: the body must be a JSON object', { field: '/', value: null, issue: 'must be an object', location: 'body' });
  }
  return value as Record<string, unknown>;
}

function decodePathSegment(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/** Flips one byte in the middle of a copy (a corrupted body or bill). */
function flipByte(bytes: Buffer): Buffer {
  const out = Buffer.from(bytes);
  if (out.length) out[out.length >> 1] ^= 0x01;
  return out;
}

/** Rejects option values the simulator cannot honour, all at once. */
function checkOptions(o: SimulatorOptions): void {
  const problems: string[] = [];
  if (o.refundMode !== undefined && o.refundMode !== 'auto' && o.refundMode !== 'manual') problems.push("refundMode must be 'auto' or 'manual'");
  if (o.refundDelayMs !== undefined && !(o.refundDelayMs >= 0)) problems.push('refundDelayMs must be >= 0');
  if (o.feeRate !== undefined && !(o.feeRate >= 0 && o.feeRate < 1)) problems.push('feeRate must be in [0, 1), e.g. 0.006');
  if (o.billEol !== undefined && o.billEol !== '\r\n' && o.billEol !== '\n') problems.push("billEol must be '\\r\\n' or '\\n'");
  if (o.billReadyHour !== undefined && !(Number.isInteger(o.billReadyHour) && o.billReadyHour >= 0 && o.billReadyHour <= 23)) problems.push('billReadyHour must be an integer 0..23');
  const e = o.encryptedBill;
  if (e !== undefined) {
    if (typeof e !== 'object' || e === null) problems.push('encryptedBill must be an object');
    else {
      if (e.keyEncoding !== undefined && !['text', 'raw', 'base64'].includes(e.keyEncoding)) problems.push("encryptedBill.keyEncoding must be 'text', 'raw' or 'base64'");
      if (e.associatedData !== undefined && typeof e.associatedData !== 'string') problems.push('encryptedBill.associatedData must be a string');
      if (e.tagPosition !== undefined && e.tagPosition !== 'end' && e.tagPosition !== 'start') problems.push("encryptedBill.tagPosition must be 'end' or 'start'");
      if (e.maxPartBytes !== undefined && !(Number.isInteger(e.maxPartBytes) && e.maxPartBytes >= 1)) problems.push('encryptedBill.maxPartBytes must be an integer >= 1');
      if (e.splitAt !== undefined && e.splitAt !== 'line' && e.splitAt !== 'byte') problems.push("encryptedBill.splitAt must be 'line' or 'byte'");
    }
  }
  if (problems.length) throw new Error(`Invalid simulator options: ${problems.join('; ')}`);
}

/** Fills in missing credentials from the cached default set, honouring platformCertificateCount and publicKeyOnly. */
async function resolveCredentials(options: SimulatorOptions): Promise<SimulatorCredentials> {
  const given = options.credentials ?? {};
  const required: Array<keyof SimulatorCredentials> = ['merchantPrivateKeyPem', 'merchantCertificatePem', 'merchantSerialNo', 'apiV3Key', 'publicKeyId', 'publicKeyPem', 'publicKeyPrivateKeyPem', 'platformCertificates'];
  const base = required.every((k) => given[k] !== undefined) ? undefined : await defaultSimulatorCredentials();
  const merged = cloneCredentials({ ...(base as SimulatorCredentials), ...given } as SimulatorCredentials);
  if (!given.platformCertificates) merged.platformCertificates = merged.platformCertificates.slice(-(options.platformCertificateCount ?? 1));
  if (options.publicKeyOnly) merged.platformCertificates = [];
  if (options.subMerchants) merged.subMerchants = options.subMerchants.map((s) => ({ ...s }));
  const problems: string[] = [];
  if (Buffer.byteLength(merged.apiV3Key ?? '', 'utf8') !== 32) problems.push('apiV3Key must be 32 bytes');
  const cert = parseCertificate(merged.merchantCertificatePem, 'merchantCertificatePem');
  if (cert.serialNo !== merged.merchantSerialNo?.toUpperCase()) problems.push(`merchantSerialNo does not match merchantCertificatePem (${cert.serialNo})`);
  if (!merged.publicKeyId?.startsWith('PUB_KEY_ID_')) problems.push('publicKeyId must start with PUB_KEY_ID_');
  if (problems.length) throw new Error(`Invalid simulator credentials: ${problems.join('; ')}`);
  merged.merchantSerialNo = cert.serialNo;
  return merged;
}

/** An offline WeChat Pay APIv3 partner server for tests and local development. */
export class WechatPaySimulator {
  /** Injected faults for the next matching API requests. */
  readonly faults = new SimulatorFaults();
  /** Every notification delivery attempt, probes included. */
  readonly deliveries: readonly NotificationDelivery[] = [];
  /** Protocol violations by the merchant, e.g. accepting a signature probe. */
  readonly violations: readonly string[] = [];
  /** Every request received (API and `/__sim`), in order. */
  readonly requests: readonly SimulatorRequestRecord[] = [];
  /** Notification controls. */
  readonly notifications: SimulatorNotifications;

  private creds: SimulatorCredentials;
  private exposed: Readonly<SimulatorCredentials>;
  private keyring: SimulatorKeyring;
  private clockFn: () => number;
  private readonly authenticator: SimulatorRequestAuthenticator;
  private readonly book: SimulatorOrderBook;
  private readonly refundBook: SimulatorRefundBook;
  private readonly bills: SimulatorBillOffice;
  private readonly notifier: SimulatorNotifier;
  /** Notifications sent, by id, for `redeliver()`. */
  private readonly sent = new Map<string, NotificationJob>();
  private readonly timers = new CancellableTimers();
  private readonly server: Server;
  private url = '';
  private closing?: Promise<void>;

  private constructor(
    credentials: SimulatorCredentials,
    private readonly options: SimulatorOptions,
  ) {
    this.creds = credentials;
    this.exposed = deepFreeze(structuredClone(credentials));
    this.clockFn = options.clock ?? Date.now;
    const clock = (): number => this.clockFn();
    this.keyring = new SimulatorKeyring(credentials, !!options.publicKeyOnly, clock);
    const merchantCert = parseCertificate(credentials.merchantCertificatePem, 'merchantCertificatePem');
    this.authenticator = new SimulatorRequestAuthenticator({
      spMchid: credentials.spMchid,
      merchantSerialNo: merchantCert.serialNo,
      merchantPublicKey: merchantCert.publicKey,
      clockSkewSeconds: options.clockSkewSeconds ?? 300,
      clock,
      requireUserAgent: !!options.requireUserAgent,
      rejectReplayedNonce: !!options.rejectReplayedNonce,
    });
    this.book = new SimulatorOrderBook({
      credentials: () => this.creds,
      clock,
      baseUrl: () => this.url,
      strictOutTradeNoScope: !!options.strictOutTradeNoScope,
    });
    this.notifier = new SimulatorNotifier({
      timeScale: options.notificationTimeScale ?? 0.001,
      mode: options.notificationMode ?? 'retry',
      probeRate: options.probeRate ?? 0,
      replyTimeoutMs: options.notificationReplyTimeoutMs ?? 5000,
      signingKey: () => this.keyring.byMode(options.signWith ?? 'publicKey'),
      clock,
      userAgent: 'Mozilla/4.0 (compatible; WechatPay-Simulator)',
      record: (d) => (this.deliveries as NotificationDelivery[]).push(d),
      violation: (m) => (this.violations as string[]).push(m),
    });
    this.refundBook = new SimulatorRefundBook({
      clock,
      orders: this.book,
      mode: options.refundMode ?? 'auto',
      delayMs: options.refundDelayMs ?? 50,
      sleep: (ms) => this.timers.sleep(ms),
      closed: () => this.closing !== undefined,
      completed: (refund, order) => {
        this.notify(refund.notifyUrl ?? order?.notifyUrl ?? '', `REFUND.${refund.status}`, this.refundBook.notificationResource(refund));
        this.changed();
      },
    });
    this.bills = new SimulatorBillOffice({
      clock,
      baseUrl: () => this.url,
      orders: () => this.book.list(),
      refunds: () => this.refundBook.list(),
      order: (sub, no) => this.book.lookup(sub, { outTradeNo: no }),
      checkSubMerchant: (sub) => void this.book.checkSubMerchant(sub),
      merchantPublicKey: () => merchantCert.publicKey,
      options: {
        feeRate: options.feeRate ?? 0.006,
        bom: options.billBom ?? true,
        eol: options.billEol ?? '\r\n',
        readyHour: options.billReadyHour ?? 10,
        encryption: {
          keyEncoding: options.encryptedBill?.keyEncoding ?? 'text',
          associatedData: options.encryptedBill?.associatedData ?? '',
          tagPosition: options.encryptedBill?.tagPosition ?? 'end',
          maxPartBytes: options.encryptedBill?.maxPartBytes ?? Number.POSITIVE_INFINITY,
          splitAt: options.encryptedBill?.splitAt ?? 'line',
        },
      },
    });
    const notifier = this.notifier;
    const refunds = this.refundBook;
    this.notifications = {
      // Automatic refund completions schedule notifications of their own: wait for them first.
      flush: async () => {
        await refunds.settle();
        await notifier.flush();
      },
      get pending() {
        return notifier.pending;
      },
    };
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  /** Starts a simulator (random free port on 127.0.0.1 by default). */
  static async start(options: SimulatorOptions = {}): Promise<WechatPaySimulator> {
    checkOptions(options);
    const sim = new WechatPaySimulator(await resolveCredentials(options), options);
    await new Promise<void>((resolve, reject) => {
      sim.server.once('error', reject);
      sim.server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
        sim.server.off('error', reject);
        resolve();
      });
    });
    const address = sim.server.address() as AddressInfo;
    const host = address.family === 'IPv6' || address.address.includes(':') ? `[${address.address}]` : address.address;
    sim.url = `http://${host}:${address.port}`;
    return sim;
  }

  /** `http://127.0.0.1:PORT`: the module's `baseUrl`. */
  get baseUrl(): string {
    return this.url;
  }

  /** The simulator's credentials (a frozen copy; changes after `rotatePlatformCertificate()`). */
  get credentials(): Readonly<SimulatorCredentials> {
    return this.exposed;
  }

  /** The simulator clock (ms). */
  now(): number {
    return this.clockFn();
  }

  /** Replaces the clock (ms since the epoch). */
  setClock(clock: () => number): void {
    this.clockFn = clock;
  }

  /** Module options that point a `WechatPartnerPayModule` at this simulator (public key verification by default). */
  moduleOptions(overrides: Partial<WechatPartnerPayModuleOptions> = {}): WechatPartnerPayModuleOptions {
    const c = this.creds;
    return {
      product: 'partner',
      baseUrl: this.url,
      spMchid: c.spMchid,
      spAppid: c.spAppid,
      merchantSerialNo: c.merchantSerialNo,
      privateKey: c.merchantPrivateKeyPem,
      merchantCertificate: c.merchantCertificatePem,
      apiV3Key: c.apiV3Key,
      ...overrides,
      verification: overrides.verification ?? { mode: 'publicKey', publicKeyId: c.publicKeyId, publicKey: c.publicKeyPem },
    };
  }

  /** `{ serial or PUB_KEY_ID_… → PEM }` of every key that may sign the simulator's messages (for other clients' config). */
  verificationKeys(): Record<string, string> {
    const out: Record<string, string> = { [this.creds.publicKeyId]: this.creds.publicKeyPem };
    for (const c of this.creds.platformCertificates) out[c.serialNo] = c.certificatePem;
    return out;
  }

  /** A copy of an order, if it exists. */
  getOrder(subMchid: string, outTradeNo: string): SimulatedOrder | undefined {
    const order = this.book.find(outTradeNo, subMchid);
    return order && structuredClone(order);
  }

  /** Copies of every order. */
  listOrders(): SimulatedOrder[] {
    return structuredClone(this.book.list());
  }

  /** Copies of every order (same as `listOrders()`). */
  get orders(): SimulatedOrder[] {
    return this.listOrders();
  }

  /** The transaction JSON the query API would answer for an order. */
  transaction(subMchid: string, outTradeNo: string): Record<string, unknown> | undefined {
    const order = this.book.find(outTradeNo, subMchid);
    return order && this.book.transactionJson(order);
  }

  /**
   * Pays an order as the payer would: SUCCESS with a transaction_id and success_time, then the TRANSACTION.SUCCESS
   * notification is scheduled. With `fail: true` the attempt fails and the order stays NOTPAY. `at` backdates the
   * payment (its success_time and bill day), e.g. to "yesterday" for a bill test, without moving the clock.
   */
  async pay(outTradeNo: string, options: SimulatorPayOptions = {}): Promise<SimulatedOrder> {
    const order = this.book.find(outTradeNo, options.sub_mchid);
    if (!order) throw new SimulatorHttpError(SIMULATOR_ERRORS.ORDER_NOT_EXIST, `${SIMULATOR_ERRORS.ORDER_NOT_EXIST.message}: ${outTradeNo}`);
    this.payOrder(order, options);
    return structuredClone(order);
  }

  private payOrder(order: SimulatedOrder, options: SimulatorPayOptions): void {
    this.book.pay(order, options);
    this.changed();
    if (order.tradeState !== 'SUCCESS') return;
    const { id, body } = buildNotificationBody({
      eventType: 'TRANSACTION.SUCCESS',
      resource: this.book.transactionJson(order),
      apiV3Key: this.creds.apiV3Key,
      createTime: new Date(this.clockFn()),
    });
    this.deliver({ id, url: order.notifyUrl, eventType: 'TRANSACTION.SUCCESS', body });
  }

  /**
   * Sends any notification (e.g. REFUND.SUCCESS) to a URL with the delivery rules of payments; returns its id.
   * `aad` defaults to `refund` for REFUND.* events, else `transaction`.
   */
  notify(url: string, eventType: string, resource: object, aad?: string): string {
    const { id, body } = buildNotificationBody({ eventType, resource, associatedData: aad, apiV3Key: this.creds.apiV3Key, createTime: new Date(this.clockFn()) });
    this.deliver({ id, url, eventType, body });
    return id;
  }

  /**
   * Delivers a notification again: same id and body, fresh signature, the usual retries. WeChat Pay does this now
   * and then even after a 2xx, so handlers must be idempotent; this makes a test of that deterministic.
   */
  redeliver(notificationId: string): void {
    const job = this.sent.get(notificationId);
    if (!job) throw new Error(`redeliver: no notification ${notificationId} (only the last ${REDELIVERABLE} are kept)`);
    this.notifier.schedule(job);
  }

  /** Copies of every refund, in creation order. */
  listRefunds(): SimulatedRefund[] {
    return structuredClone(this.refundBook.list());
  }

  /** A copy of a refund, if it exists (`sub_mchid` needed only when the out_refund_no is used under several). */
  getRefund(outRefundNo: string, subMchid?: string): SimulatedRefund | undefined {
    const refund = this.refundBook.find(outRefundNo, subMchid);
    return refund && structuredClone(refund);
  }

  /** The `Refund` JSON the query API would answer. */
  refund(outRefundNo: string, subMchid?: string): Record<string, unknown> | undefined {
    const refund = this.refundBook.find(outRefundNo, subMchid);
    return refund && this.refundBook.refundJson(refund);
  }

  /**
   * Ends a PROCESSING refund (default SUCCESS; or ABNORMAL, CLOSED) and sends REFUND.SUCCESS / .ABNORMAL / .CLOSED to
   * its notify_url (else the order's). Use with `refundMode: 'manual'`; throws if the refund is not PROCESSING.
   */
  completeRefund(outRefundNo: string, options: CompleteRefundOptions = {}): SimulatedRefund {
    return structuredClone(this.refundBook.complete(outRefundNo, options));
  }

  /** The rows the trade bill of a Beijing day would have (for assertions), amounts in fen (fee in 1/100000 yuan). */
  tradeBillRows(billDate: string, filter: SimulatorTradeBillFilter = {}): TradeBillWriterRow[] {
    return this.bills.tradeBillRows(billDate, filter);
  }

  /** The rows the fund-flow bill of a Beijing day would have (amounts in fen). */
  fundFlowBillRows(billDate: string, account: SimulatorFundFlowAccount = 'BASIC'): FundFlowBillWriterRow[] {
    return this.bills.fundFlowBillRows(billDate, account);
  }

  /** The rows one sub-merchant's fund-flow bill (the encrypted one, spec §7.4) of a Beijing day would have (amounts in fen). */
  subMerchantFundFlowBillRows(billDate: string, subMchid: string, account: SimulatorSubMerchantFundFlowAccount = 'BASIC'): FundFlowBillWriterRow[] {
    return this.bills.fundFlowBillRows(billDate, account, subMchid);
  }

  /**
   * An `Authorization` header for a request to the simulator, signed with its merchant key at the simulator clock:
   * for calling it without the module (curl, another language's client, raw HTTP tests). `url` is the path and query
   * exactly as sent; `body` the exact body. `mchid` overrides the Authorization mchid (a wrong one is a test case).
   */
  authorization(method: string, url: string, body = '', options: { mchid?: string } = {}): string {
    const signer = new WechatPayRequestSigner({
      mchid: options.mchid ?? this.creds.spMchid,
      serialNo: this.creds.merchantSerialNo,
      privateKey: loadPrivateKey(this.creds.merchantPrivateKeyPem, 'merchantPrivateKeyPem'),
      now: () => Math.floor(this.clockFn() / 1000),
    });
    return signer.authorization(method, url, body);
  }

  /** A notification signed with the simulator's current key, to post yourself (e.g. with supertest). */
  signedNotification(eventType: string, resource: object, aad?: string): SignedNotification {
    const key = this.keyring.byMode(this.options.signWith ?? 'publicKey');
    return buildSignedNotification({
      eventType,
      resource,
      associatedData: aad,
      apiV3Key: this.creds.apiV3Key,
      signingKey: key.privateKey,
      serial: key.serial,
      createTime: new Date(this.clockFn()),
      timestamp: Math.floor(this.clockFn() / 1000),
    });
  }

  /**
   * The simulator's cashier page (a person "scans and pays" there) for a Native `code_url`
   * (`weixin://wxpay/bizpayurl?pr=…`) or for the `prepay_id` of a JSAPI, mini-program or App order (`wx…`), whose
   * client-side payment (WeixinJSBridge, wx.requestPayment, the App SDK) cannot run in a test.
   */
  cashierUrl(codeUrlOrPrepayId: string): string {
    const pr = /^weixin:\/\/wxpay\/bizpayurl\?pr=([^&]+)$/.exec(codeUrlOrPrepayId)?.[1];
    if (pr) return `${this.url}/__sim/cashier?pr=${encodeURIComponent(pr)}`;
    if (/^wx[0-9A-Za-z]{8,64}$/.test(codeUrlOrPrepayId))
      return `${this.url}/__sim/cashier?prepay_id=${encodeURIComponent(codeUrlOrPrepayId)}`;
    throw new Error(
      'cashierUrl: expected a Native code_url (weixin://wxpay/bizpayurl?pr=…) or a prepay_id (wx…); an H5 h5_url ' +
        'already points at the cashier page',
    );
  }

  /**
   * Adds a new platform certificate that becomes the newest (it signs from now on when platform certificates are
   * used); older ones stay listed until they expire. `retireOldAfterMs` moves the old certificates' listed expire_time
   * to now + that, as WeChat does during a switch.
   */
  async rotatePlatformCertificate(options: { retireOldAfterMs?: number } = {}): Promise<SimulatorPlatformCertificate> {
    if (this.options.publicKeyOnly) throw new Error('rotatePlatformCertificate: this simulator is publicKeyOnly and has no platform certificates');
    const now = this.clockFn();
    const latest = Math.max(0, ...this.creds.platformCertificates.map((c) => parseRfc3339(c.effectiveTime)?.getTime() ?? 0));
    const cert = await generatePlatformCertificate(Math.max(now, latest + 1000), now + 5 * YEAR);
    if (options.retireOldAfterMs !== undefined) {
      const retire = now + options.retireOldAfterMs;
      for (const old of this.creds.platformCertificates) {
        if ((parseRfc3339(old.expireTime)?.getTime() ?? Infinity) > retire) old.expireTime = formatBeijingRfc3339(new Date(retire));
      }
    }
    this.creds.platformCertificates.push(cert);
    this.keyring = new SimulatorKeyring(this.creds, false, () => this.clockFn());
    this.exposed = deepFreeze(structuredClone(this.creds));
    return { ...cert };
  }

  /** Orders and refunds as JSON, for `--state-file`. */
  exportState(): SimulatorState {
    return { ...this.book.exportState(), refunds: this.refundBook.exportState() };
  }

  /** Restores orders and refunds saved by `exportState()`. */
  importState(state: SimulatorState): void {
    this.book.importState(state);
    this.refundBook.importState(state.refunds ?? []);
  }

  /** Stops the server, cancels notifications and pending delays. Idempotent. */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      this.notifier.close();
      this.timers.cancelAll();
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    return this.closing;
  }

  /** Schedules a delivery and keeps it for `redeliver()`. */
  private deliver(job: NotificationJob): void {
    this.sent.set(job.id, job);
    if (this.sent.size > REDELIVERABLE) this.sent.delete(this.sent.keys().next().value as string);
    this.notifier.schedule(job);
  }

  private changed(): void {
    this.options.onStateChange?.();
  }

  private record(req: IncomingMessage, status: number, code?: string): void {
    (this.requests as SimulatorRequestRecord[]).push({ method: req.method ?? 'GET', path: req.url ?? '/', status, ...(code ? { code } : {}), at: this.clockFn() });
    this.options.logger?.(`${req.method} ${(req.url ?? '/').split('?')[0]} ${status || 'RESET'}`);
  }

  private readBody(req: IncomingMessage): Promise<Buffer | undefined> {
    const max = this.options.maxBodyBytes ?? 1024 * 1024;
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= max) chunks.push(chunk);
      });
      req.on('end', () => resolve(size > max ? undefined : Buffer.concat(chunks)));
      req.on('error', reject);
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const body = await this.readBody(req);
      const pathname = (req.url ?? '/').split('?')[0];
      if (pathname.startsWith('/__sim/')) return this.handleTooling(req, res, pathname, body);
      await this.handleApi(req, res, pathname, body);
    } catch {
      // The client went away mid-request, or answering failed: there is nobody left to answer.
      if (!res.headersSent && !res.destroyed) res.destroy();
    }
  }

  private async handleApi(req: IncomingMessage, res: ServerResponse, pathname: string, body: Buffer | undefined): Promise<void> {
    const fault = this.faults.take(req.method ?? 'GET', pathname);
    if (fault?.delayMs) await this.timers.sleep(fault.delayMs);
    if (this.closing) return void res.destroy();
    let answer: ApiAnswer | undefined;
    if (!fault || fault.afterProcessing || (!fault.resetConnection && fault.status === undefined)) {
      answer = this.answer(req, pathname, body);
    }
    if (fault?.resetConnection) {
      this.record(req, 0, 'RESET');
      req.socket.destroy();
      return;
    }
    if (fault?.status !== undefined) {
      const def = errorForStatus(fault.status);
      const err = new SimulatorHttpError({ ...def, status: fault.status, code: fault.code ?? def.code }, fault.message ?? def.message);
      answer = errorAnswer(err);
    }
    this.send(req, res, answer!, fault);
  }

  /** Authenticates, routes and runs an API request; every failure becomes a JSON error answer. */
  private answer(req: IncomingMessage, pathname: string, body: Buffer | undefined): ApiAnswer {
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    try {
      if (body === undefined) throw new SimulatorHttpError(SIMULATOR_ERRORS.BODY_TOO_LARGE);
      const route = this.route(method, pathname);
      if (!route) throw new SimulatorHttpError(SIMULATOR_ERRORS.NOT_FOUND, `${SIMULATOR_ERRORS.NOT_FOUND.message}: ${method} ${pathname}`);
      const auth = this.authenticator.authenticate({ method, url, headers: req.headers, body });
      const query = new URL(url, 'http://simulator').searchParams;
      const parsed = method === 'POST' ? parseJsonObject(body) : undefined;
      const claimed = parsed ? parsed.sp_mchid : (query.get('sp_mchid') ?? undefined);
      // A bill download checks its mchid against the one that applied: 403 NO_AUTH rather than 401 (spec §7.3).
      if (pathname !== BILL_DOWNLOAD_PATH) checkMchidConsistency(auth.mchid, this.creds.spMchid, typeof claimed === 'string' ? claimed : undefined);
      const answer = route(auth, parsed ?? {}, query, req.headers);
      if (method === 'POST') this.changed();
      return answer;
    } catch (err) {
      if (err instanceof SimulatorHttpError) return errorAnswer(err);
      throw err;
    }
  }

  private route(
    method: string,
    pathname: string,
  ): ((auth: AuthorizationParams, body: Record<string, unknown>, query: URLSearchParams, headers: IncomingHttpHeaders) => ApiAnswer) | undefined {
    let m: RegExpExecArray | null;
    if (method === 'GET' && pathname === '/v3/certificates') return () => this.certificates();
    if (method === 'GET' && pathname === '/v3/bill/tradebill') return (a, _b, q) => this.billAnswer(this.bills.applyTradeBill(q, a.mchid));
    if (method === 'GET' && pathname === '/v3/bill/fundflowbill') return (a, _b, q) => this.billAnswer(this.bills.applyFundFlowBill(q, a.mchid));
    if (method === 'GET' && pathname === '/v3/bill/sub-merchant-fundflowbill') return (a, _b, q) => json(200, this.bills.applySubMerchantFundFlowBill(q, a.mchid));
    if (method === 'GET' && pathname === BILL_DOWNLOAD_PATH) {
      return (a, _b, q) => {
        const { bytes, gzip, encrypted } = this.bills.download(q, a.mchid);
        return { status: 200, body: '', internalCode: 0, file: { bytes, gzip, encrypted } };
      };
    }
    if (method === 'POST' && pathname === REFUNDS_PATH) {
      return (_a, body) => {
        validateRefundBody(body);
        return json(200, this.refundBook.create(body));
      };
    }
    const abnormal = method === 'POST' ? ROUTES.applyAbnormalRefund.exec(pathname) : null;
    if (abnormal) {
      const refundId = decodePathSegment(abnormal[1]);
      return (_a, body, _q, headers) => {
        validateAbnormalRefundBody(refundId, body);
        const header = headers['wechatpay-serial'];
        const serial = Array.isArray(header) ? header[0] : header;
        const application = {
          type: body.type as 'USER_BANK_CARD' | 'MERCHANT_BANK_CARD',
          bankType: body.bank_type as string | undefined,
          bankAccount: this.decryptSensitive(serial, 'bank_account', body.bank_account),
          realName: this.decryptSensitive(serial, 'real_name', body.real_name),
          serial,
        };
        return json(200, this.refundBook.applyAbnormal(refundId, body.sub_mchid as string, body.out_refund_no as string, application));
      };
    }
    const refundQuery = method === 'GET' ? ROUTES.refundQuery.exec(pathname) : null;
    if (refundQuery) {
      const outRefundNo = decodePathSegment(refundQuery[1]);
      return (_a, _b, q) => json(200, this.refundBook.query(validateRefundQuery(outRefundNo, q), outRefundNo));
    }
    if (method === 'POST' && (m = ROUTES.create.exec(pathname))) {
      const scene = m[1] as OrderScene;
      return (_a, body) => {
        validateOrderBody(scene, body);
        return json(200, this.book.create(scene, body));
      };
    }
    if (method === 'POST' && (m = ROUTES.close.exec(pathname))) {
      const outTradeNo = decodePathSegment(m[1]);
      return (_a, body) => {
        validatePathParam('out_trade_no', outTradeNo);
        validateCloseBody(body);
        this.book.close(body.sub_mchid as string, outTradeNo);
        return { status: 204, body: '', internalCode: 0 };
      };
    }
    const byOutTradeNo = method === 'GET' ? ROUTES.byOutTradeNo.exec(pathname) : null;
    const byId = method === 'GET' ? ROUTES.byId.exec(pathname) : null;
    if (byOutTradeNo || byId) {
      const name = byOutTradeNo ? 'out_trade_no' : 'transaction_id';
      const value = decodePathSegment((byOutTradeNo ?? byId)![1]);
      return (_a, _b, q) => {
        validatePathParam(name, value);
        const { subMchid } = validateQueryIds(q);
        return json(200, name === 'out_trade_no' ? this.book.queryByOutTradeNo(subMchid, value) : this.book.queryByTransactionId(subMchid, value));
      };
    }
    return undefined;
  }

  /**
   * Decrypts a sensitive request field (spec §3.2) with the private key of the public key or platform certificate
   * that `Wechatpay-Serial` names. The plain text is returned for the records only: never logged nor echoed.
   */
  private decryptSensitive(serial: string | undefined, field: string, ciphertext: unknown): string | undefined {
    if (ciphertext === undefined) return undefined;
    const key = this.keyring.named(serial);
    if (!key) {
      const issue = 'must name the WeChat Pay public key id or a platform certificate serial the fields were encrypted with';
      throw new SimulatorHttpError(SIMULATOR_ERRORS.SENSITIVE_SERIAL_UNKNOWN, undefined, { field: 'Wechatpay-Serial', value: serial ?? null, issue, location: 'header' });
    }
    try {
      return rsaOaepDecrypt(String(ciphertext), key.privateKey);
    } catch {
      const issue = `could not be decrypted with ${key.serial} (RSA-OAEP, SHA-1)`;
      throw new SimulatorHttpError(SIMULATOR_ERRORS.SENSITIVE_DECRYPT_FAILED, `${SIMULATOR_ERRORS.SENSITIVE_DECRYPT_FAILED.message}: /${field} ${issue}`, {
        field: `/${field}`,
        value: null,
        issue,
        location: 'body',
      });
    }
  }

  /** GET /v3/certificates (spec §8): every unexpired certificate, encrypted with the APIv3 key, signed with the newest. */
  private certificates(): ApiAnswer {
    if (this.options.publicKeyOnly) throw new SimulatorHttpError(SIMULATOR_ERRORS.CERTIFICATES_UNAVAILABLE);
    const key = Buffer.from(this.creds.apiV3Key, 'utf8');
    const now = this.clockFn();
    const data = this.creds.platformCertificates
      .filter((c) => (parseRfc3339(c.expireTime)?.getTime() ?? Infinity) > now)
      .map((c) => {
        const nonce = generateHex(12);
        return {
          serial_no: c.serialNo,
          effective_time: c.effectiveTime,
          expire_time: c.expireTime,
          encrypt_certificate: { algorithm: 'AEAD_AES_256_GCM', nonce, associated_data: 'certificate', ciphertext: aesGcmEncrypt(key, nonce, 'certificate', c.certificatePem) },
        };
      });
    return { ...json(200, { data }), forceSignWith: 'platformCertificate' };
  }

  /** The apply answer of a bill, with its keys in the order of the spec's example. */
  private billAnswer(a: SimulatorBillApplication): ApiAnswer {
    return json(200, { hash_type: a.hash_type, hash_value: a.hash_value, download_url: a.download_url });
  }

  /**
   * Writes a bill file: no Wechatpay-* headers (spec §7.3). `flipBillByte` corrupts the bill before compression, so
   * that a GZIP download still unzips and the client's SHA1 check is what catches it; an encrypted file is corrupted
   * in its ciphertext, so that AES-GCM authentication is what catches it.
   */
  private sendFile(req: IncomingMessage, res: ServerResponse, file: { bytes: Buffer; gzip: boolean; encrypted: boolean }, fault: SimulatorFault | undefined): void {
    const bill = fault?.flipBillByte ? flipByte(file.bytes) : file.bytes;
    const body = file.gzip ? gzipSync(bill) : bill;
    this.record(req, 200);
    res.writeHead(200, {
      [WECHATPAY_HEADERS.requestId]: requestId(0),
      'Content-Type': file.encrypted ? 'application/octet-stream' : file.gzip ? 'application/x-gzip' : 'text/plain; charset=utf-8',
      'Content-Length': String(body.length),
    });
    res.end(body);
  }

  /** Signs and writes an API answer, applying the signature/body faults. */
  private send(req: IncomingMessage, res: ServerResponse, answer: ApiAnswer, fault: SimulatorFault | undefined): void {
    if (answer.file) return this.sendFile(req, res, answer.file, fault);
    const key = answer.forceSignWith && answer.status < 300 ? this.keyring.byMode(answer.forceSignWith) : this.keyring.forRequest(req.headers['wechatpay-serial'] as string | undefined, this.options.signWith ?? 'publicKey');
    let body: Buffer = Buffer.from(answer.body, 'utf8');
    const headers: Record<string, string> = signMessageHeaders(body, key, Math.floor(this.clockFn() / 1000));
    if (fault?.badSignature) headers[WECHATPAY_HEADERS.signature] = corruptSignature(headers[WECHATPAY_HEADERS.signature]);
    if (fault?.flipBillByte) body = flipByte(body);
    headers[WECHATPAY_HEADERS.requestId] = requestId(answer.internalCode);
    headers['Content-Type'] = JSON_CONTENT_TYPE;
    headers['Content-Length'] = String(body.length);
    this.record(req, answer.status, answer.code);
    res.writeHead(answer.status, headers);
    res.end(body);
  }

  /** `/__sim/*`: unauthenticated test endpoints (pay, cashier, inspection). Not part of WeChat Pay. */
  private handleTooling(req: IncomingMessage, res: ServerResponse, pathname: string, body: Buffer | undefined): void {
    const method = req.method ?? 'GET';
    const reply = (status: number, value: unknown, code?: string): void => {
      const text = JSON.stringify(value);
      this.record(req, status, code);
      res.writeHead(status, { 'Content-Type': JSON_CONTENT_TYPE, 'Content-Length': String(Buffer.byteLength(text)) });
      res.end(text);
    };
    try {
      if (method === 'GET' && pathname === '/__sim/cashier') return this.cashierPage(req, res);
      if (method === 'GET' && pathname === '/__sim/health') return reply(200, { ok: true, baseUrl: this.url });
      if (method === 'GET' && pathname === '/__sim/orders') return reply(200, this.book.list().map((o) => this.book.transactionJson(o)));
      if (method === 'GET' && pathname === '/__sim/deliveries') return reply(200, { deliveries: this.deliveries, violations: this.violations });
      if (method === 'GET' && pathname === '/__sim/refunds') return reply(200, this.refundBook.list().map((r) => this.refundBook.refundJson(r)));
      if (method !== 'POST') throw new SimulatorHttpError(SIMULATOR_ERRORS.NOT_FOUND);
      if (body === undefined) throw new SimulatorHttpError(SIMULATOR_ERRORS.BODY_TOO_LARGE);
      const input = parseJsonObject(body);
      if (pathname === '/__sim/pay') {
        const order = this.book.find(String(input.out_trade_no ?? ''), typeof input.sub_mchid === 'string' ? input.sub_mchid : undefined);
        if (!order) throw new SimulatorHttpError(SIMULATOR_ERRORS.ORDER_NOT_EXIST);
        const payer = (input.payer as SimulatorPayOptions['payer']) ?? (typeof input.payer_openid === 'string' ? { sp_openid: input.payer_openid } : undefined);
        const at = typeof input.success_time === 'string' ? parseRfc3339(input.success_time) : undefined;
        if (input.success_time !== undefined && !at) throw new SimulatorHttpError(SIMULATOR_ERRORS.PARAM_ERROR, 'success_time must be RFC 3339, e.g. 2024-05-20T13:29:35+08:00');
        this.payOrder(order, { payer, bank_type: typeof input.bank_type === 'string' ? input.bank_type : undefined, fail: input.fail === true, at });
        return reply(200, this.book.transactionJson(order));
      }
      if (pathname === '/__sim/refunds/complete') {
        const status = input.status === undefined ? undefined : (String(input.status) as CompleteRefundOptions['status']);
        const sub = typeof input.sub_mchid === 'string' ? input.sub_mchid : undefined;
        let refund: SimulatedRefund;
        try {
          refund = this.refundBook.complete(String(input.out_refund_no ?? ''), { status, sub_mchid: sub });
        } catch (e) {
          throw new SimulatorHttpError(SIMULATOR_ERRORS.PARAM_ERROR, (e as Error).message);
        }
        return reply(200, this.refundBook.refundJson(refund));
      }
      if (pathname === '/__sim/cashier/pay' || pathname === '/__sim/cashier/cancel') {
        const token = typeof input.pr === 'string' ? input.pr : typeof input.prepay_id === 'string' ? input.prepay_id : '';
        const found = this.book.cashierLookup(token);
        if (!found) throw new SimulatorHttpError(SIMULATOR_ERRORS.ORDER_NOT_EXIST, 'unknown payment link (pr / prepay_id)');
        if (found.expired) throw new SimulatorHttpError(SIMULATOR_ERRORS.ORDER_CLOSED, 'the payment link expired: order again to get a new one');
        if (pathname.endsWith('/cancel')) return reply(200, { result: 'cancelled', out_trade_no: found.order.outTradeNo });
        this.payOrder(found.order, {});
        return reply(200, { result: 'paid', out_trade_no: found.order.outTradeNo, transaction_id: found.order.transactionId });
      }
      throw new SimulatorHttpError(SIMULATOR_ERRORS.NOT_FOUND);
    } catch (err) {
      if (!(err instanceof SimulatorHttpError)) throw err;
      reply(err.status, err.toBody(), err.code);
    }
  }

  private cashierPage(req: IncomingMessage, res: ServerResponse): void {
    const q = new URL(req.url ?? '/', 'http://simulator').searchParams;
    const tokenParam = q.has('pr') ? 'pr' : 'prepay_id';
    const token = q.get(tokenParam) ?? '';
    const found = this.book.cashierLookup(token);
    let status = 200;
    let html: string;
    if (!found) {
      status = 404;
      html = renderCashierError('支付链接无效 Unknown payment link');
    } else if (found.expired && found.order.tradeState === 'NOTPAY') {
      status = 410;
      html = renderCashierError('支付链接已过期 This payment link expired: the merchant must order again');
    } else {
      const sub = this.creds.subMerchants.find((s) => s.subMchid === found.order.subMchid);
      html = renderCashierPage({
        tokenParam,
        token,
        merchantName: sub?.name ?? found.order.subMchid,
        subMchid: found.order.subMchid,
        description: found.order.description,
        outTradeNo: found.order.outTradeNo,
        total: found.order.amount.total,
        tradeState: found.order.tradeState,
        redirectUrl: found.token.kind === 'h5' ? (q.get('redirect_url') ?? undefined) : undefined,
      });
    }
    this.record(req, status);
    res.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': String(Buffer.byteLength(html)), 'Cache-Control': 'no-store' });
    res.end(html);
  }
}

