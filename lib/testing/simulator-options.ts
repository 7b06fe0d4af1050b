import { profitSharingOptionProblems, type SimulatorProfitSharingOptions } from './simulator-profit-sharing';
import type { NotificationDelivery } from './simulator-notifier';
/**
 * The options of `WechatPaySimulator.start()`, checked all at once, and the credentials they resolve to (the cached
 * default set, completed and overridden by what the options give).
 */
import { parseCertificate } from '../core/crypto/keys';
import { cloneCredentials, defaultSimulatorCredentials, type SimulatorCredentials, type SimulatorSubMerchant } from './simulator-credentials';
import type { SimulatorEncryptedBillOptions } from './simulator-bills';
import type { CombineBookState } from './simulator-combine-orders';
import type { OrderBookState } from './simulator-orders';
import type { SimulatedRefund } from './simulator-refunds';
import type { SimulatorSignWith } from './simulator-signing';
import type { SimulatedMedia } from './books/media.book';

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
  /**
   * How long `rotatePlatformCertificate()` lists a new certificate before it signs, as WeChat Pay announces a new
   * certificate about 24 h ahead. Default 24 h; 0 switches at once.
   */
  certificateSwitchDelayMs?: number;
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
  /**
   * Probability (0..1) that a notification is lost as a whole, as WeChat Pay "does not guarantee that a notification
   * finally arrives" (微信不保证通知最终一定能成功): never posted, never retried, recorded in `sim.deliveries` as
   * `lost: true` (status 0, error `LOST`). The order is paid all the same: only a query finds it. Default 0. One
   * payment's notification is lost on purpose with `sim.pay(no, { loseNotification: true })`.
   */
  notificationLossRate?: number;
  /** Reject an out_trade_no already used by another sub-merchant of the provider. Default false. */
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
  /** Called after every notification delivery attempt (probes included), e.g. to log it (the CLI's `--verbose`). */
  onDelivery?: (delivery: NotificationDelivery) => void;
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
  /** Combine orders (合单支付): the limits that depend on the mode or that no source confirmed. */
  combine?: SimulatorCombineOptions;
  /**
   * The WeChat Pay product of the simulated provider account: `'partner'` (普通服务商, the default, so that a
   * module configured by `moduleOptions()` refunds with `/v3/refund/domestic/refunds`) or `'ecommerce'` (电商平台 /
   * 平台收付通: `/v3/ecommerce/refunds/...`). Each product's endpoints refuse the other (403 NO_AUTH with WeChat's
   * "非电商商户暂不支持调用此API"), and `moduleOptions()` sets the module's `product` to match.
   */
  product?: 'ecommerce' | 'partner';
  /** The 平台收付通 details, several of them UNVERIFIED. */
  ecommerce?: SimulatorEcommerceOptions;
  /** Profit sharing (分账): settlement delay, max ratio, freeze period, receivers' notify URLs, limits. */
  profitSharing?: SimulatorProfitSharingOptions;
  /** Media uploads (WeChat Pay's documentation: the sources disagree on the limits). */
  media?: SimulatorMediaOptions;
}

/** Options of the simulated 平台收付通 refunds. */
export interface SimulatorEcommerceOptions {
  /**
   * The platform has the 垫付退款 permission and a designated advance account: a refund with `refund_account`
   * REFUND_SOURCE_PARTNER_ADVANCE is advanced by the platform. Without it such a refund is refused with 403 NO_AUTH
   * [UNVERIFIED code]. Default false.
   */
  advanceRefundPermission?: boolean;
  /**
   * `result` of a return-advance (垫付回补): `FAILED` models a 二级商户 whose balance is short, `PROCESSING` one that
   * ends with `sim.completeReturnAdvance()`. Default SUCCESS.
   */
  returnAdvanceResult?: 'SUCCESS' | 'FAILED' | 'PROCESSING';
  /**
   * What `/v3/refund/domestic/refunds` does for a 平台收付通 provider: no source says whether WeChat rejects it
   * [UNVERIFIED]; 'reject' (default) answers 403 NO_AUTH so that a client on the wrong family is caught.
   */
  domesticRefunds?: 'reject' | 'allow';
  /** How the closed status is spelled in queries and notifications: the SDK says CLOSED, OpenAPI and WxJava CLOSE. Default CLOSED. */
  closedStatus?: 'CLOSED' | 'CLOSE';
  /** Refunds one order may have. Default 50 (create-refund page, 2024‑11‑04). */
  maxRefundsPerOrder?: number;
}

/** Options of the simulated media uploads. */
export interface SimulatorMediaOptions {
  /** Default 5 MB (the 平台收付通 upload page; other pages say 2 MB). The request body cap `maxBodyBytes` applies first. */
  maxImageBytes?: number;
  /** Default 5 MB [3P, UNVERIFIED]. */
  maxVideoBytes?: number;
}

/** Combine order options of the simulator. */
export interface SimulatorCombineOptions {
  /** Most sub-orders per combine order. Default 50 (partner / 平台收付通); 10 mimics a direct merchant. */
  maxSubOrders?: number;
  /** Accepted `combine_out_trade_no` [UNVERIFIED: the pages disagree]. Default 2–32 of `[0-9A-Za-z_-|*@]`. */
  outTradeNoPattern?: RegExp;
  /** `resource.associated_data` of the combine notification [UNVERIFIED: the sample shows '']. Default `transaction`. */
  notificationAssociatedData?: string;
}

/** Orders and refunds as JSON, for `--state-file`. */
export interface SimulatorState extends OrderBookState, Partial<CombineBookState> {
  /** Absent in files written before refunds existed. */
  refunds?: SimulatedRefund[];
  /** Uploaded media records; absent in files written before media uploads existed. */
  media?: SimulatedMedia[];
}

/** Rejects option values the simulator cannot honour, all at once. */
export function checkOptions(o: SimulatorOptions): void {
  const problems: string[] = [];
  if (o.refundMode !== undefined && o.refundMode !== 'auto' && o.refundMode !== 'manual') problems.push("refundMode must be 'auto' or 'manual'");
  if (o.refundDelayMs !== undefined && !(o.refundDelayMs >= 0)) problems.push('refundDelayMs must be >= 0');
  if (o.certificateSwitchDelayMs !== undefined && !(o.certificateSwitchDelayMs >= 0)) problems.push('certificateSwitchDelayMs must be >= 0 (ms)');
  if (o.feeRate !== undefined && !(o.feeRate >= 0 && o.feeRate < 1)) problems.push('feeRate must be in [0, 1), e.g. 0.006');
  if (o.notificationLossRate !== undefined && !(typeof o.notificationLossRate === 'number' && o.notificationLossRate >= 0 && o.notificationLossRate <= 1))
    problems.push('notificationLossRate must be a number in [0, 1], e.g. 0.1 to lose one notification in ten');
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
  if (o.product !== undefined && o.product !== 'ecommerce' && o.product !== 'partner') problems.push("product must be 'ecommerce' or 'partner'");
  problems.push(...profitSharingOptionProblems(o.profitSharing));
  const c = o.ecommerce;
  if (c !== undefined) {
    if (typeof c !== 'object' || c === null) problems.push('ecommerce must be an object');
    else {
      if (c.returnAdvanceResult !== undefined && !['SUCCESS', 'FAILED', 'PROCESSING'].includes(c.returnAdvanceResult)) problems.push("ecommerce.returnAdvanceResult must be 'SUCCESS', 'FAILED' or 'PROCESSING'");
      if (c.domesticRefunds !== undefined && c.domesticRefunds !== 'reject' && c.domesticRefunds !== 'allow') problems.push("ecommerce.domesticRefunds must be 'reject' or 'allow'");
      if (c.closedStatus !== undefined && c.closedStatus !== 'CLOSED' && c.closedStatus !== 'CLOSE') problems.push("ecommerce.closedStatus must be 'CLOSED' or 'CLOSE'");
      if (c.maxRefundsPerOrder !== undefined && !(Number.isInteger(c.maxRefundsPerOrder) && c.maxRefundsPerOrder >= 1)) problems.push('ecommerce.maxRefundsPerOrder must be an integer >= 1');
    }
  }
  for (const k of ['maxImageBytes', 'maxVideoBytes'] as const) {
    const v = o.media?.[k];
    if (v !== undefined && !(Number.isInteger(v) && v >= 1)) problems.push(`media.${k} must be an integer >= 1`);
  }
  const cb = o.combine;
  if (cb !== undefined) {
    if (typeof cb !== 'object' || cb === null) problems.push('combine must be an object');
    else {
      if (cb.maxSubOrders !== undefined && !(Number.isInteger(cb.maxSubOrders) && cb.maxSubOrders >= 1)) problems.push('combine.maxSubOrders must be an integer >= 1');
      if (cb.outTradeNoPattern !== undefined && !(cb.outTradeNoPattern instanceof RegExp)) problems.push('combine.outTradeNoPattern must be a RegExp');
      if (cb.notificationAssociatedData !== undefined && typeof cb.notificationAssociatedData !== 'string') problems.push('combine.notificationAssociatedData must be a string');
    }
  }
  if (problems.length) throw new Error(`Invalid simulator options: ${problems.join('; ')}`);
}

/** Fills in missing credentials from the cached default set, honouring platformCertificateCount and publicKeyOnly. */
export async function resolveCredentials(options: SimulatorOptions): Promise<SimulatorCredentials> {
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
