/**
 * `WechatPaySimulator`: an offline WeChat Pay APIv3 partner (服务商) server. The facade wires the parts and keeps the
 * public API: the transport (node:http, authentication, signing, faults, records: `simulator-transport.ts`), the
 * route table keyed by the client's endpoint descriptors (`simulator-routes.ts`), and one book per endpoint family
 * (`books/`), each owning its state, validation, API routes and `/__sim/*` tooling. It also sends notifications with
 * WeChat's retry schedule and lets tests move the clock.
 */
import { WechatPayRequestSigner } from '../core/crypto/request-signer';
import { loadPrivateKey, parseCertificate } from '../core/crypto/keys';
import type { WechatPartnerPayModuleOptions } from '../interfaces/wechat-partner-pay-options.interface';
import type { FundFlowBillWriterRow, TradeBillWriterRow } from './bill-writer';
import { BillsBook } from './books/bills.book';
import { CertificatesBook } from './books/certificates.book';
import { EcommerceRefundsBook } from './books/ecommerce-refunds.book';
import { MediaBook, type SimulatedMedia } from './books/media.book';
import { CombineOrdersBook } from './books/combine-orders.book';
import { DEFAULT_COMBINE_LIMITS } from './books/combine-orders.validation';
import { OrdersBook } from './books/orders.book';
import { RefundsBook } from './books/refunds.book';
import { ProfitSharingBook } from './books/profit-sharing.book';
import type { SimulatorProfitSharingControls } from './simulator-profit-sharing';
import { buildNotificationBody, buildSignedNotification, type SignedNotification } from './notification-factory';
import { SimulatorRequestAuthenticator } from './simulator-auth';
import type { SimulatorFundFlowAccount, SimulatorSubMerchantFundFlowAccount, SimulatorTradeBillFilter } from './simulator-bills';
import { deepFreeze, type SimulatorCredentials, type SimulatorPlatformCertificate } from './simulator-credentials';
import { SIMULATOR_ERRORS, SimulatorHttpError } from './simulator-errors';
import { SimulatorFaults } from './simulator-faults';
import { type NotificationDelivery, type NotificationJob, SimulatorNotifier } from './simulator-notifier';
import { checkOptions, resolveCredentials, type SimulatorOptions, type SimulatorState } from './simulator-options';
import type { SimulatedCombineCart, SimulatorCombinePayOptions } from './simulator-combine-orders';
import type { SimulatedOrder, SimulatorPayOptions } from './simulator-orders';
import type { CompleteRefundOptions, SimulatedRefund } from './simulator-refunds';
import { type NotificationEnvelopeOptions, type SimulatorBook, type SimulatorBookContext, SimulatorRouteTable, toolingJson, ToolingRouteTable, type ToolingRoute } from './simulator-routes';
import { SimulatorKeyring } from './simulator-signing';
import { CancellableTimers } from './simulator-timers';
import { type SimulatorRequestRecord, SimulatorTransport } from './simulator-transport';

export type { SimulatorCombineOptions, SimulatorOptions, SimulatorState } from './simulator-options';
export type { SimulatedSplit, SimulatedSubMerchantBalance, SimulatorProfitSharingControls, SimulatorProfitSharingOptions } from './simulator-profit-sharing';
export type { SimulatorRequestRecord } from './simulator-transport';

/** Notification controls of a simulator. */
export interface SimulatorNotifications {
  /** Resolves once every scheduled delivery finished (succeeded, gave up, or was cancelled by `close()`). */
  flush(): Promise<void>;
  /** Notifications still being delivered. */
  readonly pending: number;
}

/** Notifications kept for `redeliver()`; the oldest are forgotten beyond this. */
const REDELIVERABLE = 1000;

/** An offline WeChat Pay APIv3 partner server for tests and local development. */
export class WechatPaySimulator {
  /** Injected faults for the next matching API requests. */
  readonly faults = new SimulatorFaults();
  /** Every notification delivery attempt, probes included. */
  readonly deliveries: readonly NotificationDelivery[] = [];
  /** Protocol violations by the merchant, e.g. accepting a signature probe. */
  readonly violations: readonly string[] = [];
  /** Every request received (API and `/__sim`), in order. */
  readonly requests: readonly SimulatorRequestRecord[];
  /** Notification controls. */
  readonly notifications: SimulatorNotifications;

  private creds: SimulatorCredentials;
  private exposed: Readonly<SimulatorCredentials>;
  private keyring: SimulatorKeyring;
  private clockFn: () => number;
  private readonly orderBook: OrdersBook;
  private readonly combineBook: CombineOrdersBook;
  private readonly refundsBook: RefundsBook;
  private readonly billsBook: BillsBook;
  private readonly certificatesBook: CertificatesBook;
  private readonly ecommerceRefundsBook: EcommerceRefundsBook;
  private readonly mediaBook: MediaBook;
  private readonly profitSharingBook: ProfitSharingBook;
  /** Every book, in the order their state is exported and imported. */
  private readonly books: readonly SimulatorBook[];
  private readonly notifier: SimulatorNotifier;
  /** Notifications sent, by id, for `redeliver()`. */
  private readonly sent = new Map<string, NotificationJob>();
  private readonly timers = new CancellableTimers();
  private readonly transport: SimulatorTransport;
  private url = '';
  private closing?: Promise<void>;
  /** Set by `routeNotificationsTo()`. */
  private notificationOrigin?: string;

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
    this.notifier = new SimulatorNotifier({
      timeScale: options.notificationTimeScale ?? 0.001,
      mode: options.notificationMode ?? 'retry',
      probeRate: options.probeRate ?? 0,
      lossRate: options.notificationLossRate ?? 0,
      replyTimeoutMs: options.notificationReplyTimeoutMs ?? 5000,
      signingKey: () => this.keyring.byMode(options.signWith ?? 'publicKey'),
      clock,
      userAgent: 'Mozilla/4.0 (compatible; WechatPay-Simulator)',
      record: (d) => {
        (this.deliveries as NotificationDelivery[]).push(d);
        options.onDelivery?.(d);
      },
      target: (notifyUrl) => this.retarget(notifyUrl),
      violation: (m) => (this.violations as string[]).push(m),
    });
    const ctx: SimulatorBookContext = {
      clock,
      baseUrl: () => this.url,
      credentials: () => this.creds,
      keyring: () => this.keyring,
      notify: (url, eventType, resource, envelope, lose) => this.send(url, eventType, resource, envelope, lose),
      changed: () => this.changed(),
      sleep: (ms) => this.timers.sleep(ms),
      closed: () => this.closing !== undefined,
    };
    this.orderBook = new OrdersBook(ctx, { strictOutTradeNoScope: !!options.strictOutTradeNoScope });
    this.combineBook = new CombineOrdersBook(ctx, this.orderBook, {
      maxSubOrders: options.combine?.maxSubOrders ?? DEFAULT_COMBINE_LIMITS.maxSubOrders,
      outTradeNoPattern: options.combine?.outTradeNoPattern ?? DEFAULT_COMBINE_LIMITS.outTradeNoPattern,
      notificationAssociatedData: options.combine?.notificationAssociatedData ?? 'transaction',
    });
    this.refundsBook = new RefundsBook(ctx, this.orderBook, {
      mode: options.refundMode ?? 'auto',
      delayMs: options.refundDelayMs ?? 50,
      product: options.product ?? 'partner',
      domesticRefunds: options.ecommerce?.domesticRefunds ?? 'reject',
      closedSpelling: options.ecommerce?.closedStatus ?? 'CLOSED',
    });
    this.billsBook = new BillsBook(ctx, this.orderBook, this.refundsBook, merchantCert.publicKey, {
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
    });
    this.certificatesBook = new CertificatesBook(ctx, !!options.publicKeyOnly, options.certificateSwitchDelayMs);
    const e = options.ecommerce ?? {};
    this.ecommerceRefundsBook = new EcommerceRefundsBook(ctx, this.orderBook, this.refundsBook.state, {
      product: options.product ?? 'partner',
      advanceRefundPermission: e.advanceRefundPermission === true,
      returnAdvanceResult: e.returnAdvanceResult ?? 'SUCCESS',
      closedStatus: e.closedStatus ?? 'CLOSED',
      maxRefundsPerOrder: e.maxRefundsPerOrder ?? 50,
      stillFrozen: (order) => this.profitSharingBook.state.fundsOf(order).unfrozenAt === undefined,
    });
    this.mediaBook = new MediaBook(ctx, { maxImageBytes: options.media?.maxImageBytes ?? 5 * 1024 * 1024, maxVideoBytes: options.media?.maxVideoBytes ?? 5 * 1024 * 1024 });
    this.profitSharingBook = new ProfitSharingBook(ctx, this.orderBook, () => this.refundsBook.state.list(), { product: options.product ?? 'partner', feeRate: options.feeRate ?? 0.006, options: options.profitSharing });
    this.books = [this.orderBook, this.combineBook, this.refundsBook, this.billsBook, this.certificatesBook, this.ecommerceRefundsBook, this.mediaBook, this.profitSharingBook];
    this.transport = new SimulatorTransport({
      routes: new SimulatorRouteTable(this.books.flatMap((b) => b.routes())),
      tooling: new ToolingRouteTable([...this.ownTooling(), ...this.books.flatMap((b) => b.tooling?.() ?? [])]),
      authenticator: new SimulatorRequestAuthenticator({
        spMchid: credentials.spMchid,
        merchantSerialNo: merchantCert.serialNo,
        merchantPublicKey: merchantCert.publicKey,
        clockSkewSeconds: options.clockSkewSeconds ?? 300,
        clock,
        requireUserAgent: !!options.requireUserAgent,
        rejectReplayedNonce: !!options.rejectReplayedNonce,
      }),
      spMchid: credentials.spMchid,
      keyring: () => this.keyring,
      signWith: options.signWith ?? 'publicKey',
      faults: this.faults,
      sleep: (ms) => this.timers.sleep(ms),
      clock,
      maxBodyBytes: options.maxBodyBytes ?? 1024 * 1024,
      closing: () => this.closing !== undefined,
      changed: () => this.changed(),
      logger: options.logger,
    });
    this.requests = this.transport.requests;
    const notifier = this.notifier;
    const refunds = this.refundsBook.state;
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
  }

  /** Starts a simulator (random free port on 127.0.0.1 by default). */
  static async start(options: SimulatorOptions = {}): Promise<WechatPaySimulator> {
    checkOptions(options);
    const sim = new WechatPaySimulator(await resolveCredentials(options), options);
    sim.url = await sim.transport.listen(options.port ?? 0, options.host ?? '127.0.0.1');
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
      product: this.options.product ?? 'partner',
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
    const order = this.orderBook.state.find(outTradeNo, subMchid);
    return order && structuredClone(order);
  }

  /** Copies of every order. */
  listOrders(): SimulatedOrder[] {
    return structuredClone(this.orderBook.state.list());
  }

  /** Copies of every order (same as `listOrders()`). */
  get orders(): SimulatedOrder[] {
    return this.listOrders();
  }

  /** The transaction JSON the query API would answer for an order. */
  transaction(subMchid: string, outTradeNo: string): Record<string, unknown> | undefined {
    const order = this.orderBook.state.find(outTradeNo, subMchid);
    return order && this.orderBook.state.transactionJson(order);
  }

  /**
   * Pays an order as the payer would: SUCCESS with a transaction_id and success_time, then the TRANSACTION.SUCCESS
   * notification is scheduled. With `fail: true` the attempt fails and the order stays NOTPAY. `at` backdates the
   * payment (its success_time and bill day), e.g. to "yesterday" for a bill test, without moving the clock.
   * `loseNotification: true` pays it but loses its notification (never posted, `lost: true` in `deliveries`): only a
   * query finds the payment, as when WeChat Pay's notification never arrives.
   */
  async pay(outTradeNo: string, options: SimulatorPayOptions = {}): Promise<SimulatedOrder> {
    const order = this.orderBook.state.find(outTradeNo, options.sub_mchid);
    if (!order) throw new SimulatorHttpError(SIMULATOR_ERRORS.ORDER_NOT_EXIST, `${SIMULATOR_ERRORS.ORDER_NOT_EXIST.message}: ${outTradeNo}`);
    this.orderBook.pay(order, options);
    return structuredClone(order);
  }

  /**
   * Pays a combine order as the payer would: every sub-order SUCCESS with its own transaction_id (all or none), then
   * one TRANSACTION.SUCCESS for the whole cart is scheduled. `fail: true` leaves the cart NOTPAY;
   * `loseNotification: true` pays it but loses its notification (only the combine query finds the payment).
   */
  async payCombine(combineOutTradeNo: string, options: SimulatorCombinePayOptions = {}): Promise<SimulatedCombineCart> {
    const combine = this.combineBook.pay(combineOutTradeNo, options);
    return this.combineBook.state.cart(combine);
  }

  /** A copy of a combine order with its sub-orders and the cart's state, if it exists. */
  getCombineOrder(combineOutTradeNo: string): SimulatedCombineCart | undefined {
    const combine = this.combineBook.state.list().find((c) => c.combineOutTradeNo === combineOutTradeNo);
    return combine && this.combineBook.state.cart(combine);
  }

  /**
   * Sends any notification (e.g. REFUND.SUCCESS) to a URL with the delivery rules of payments; returns its id.
   * `aad` defaults to `refund` for REFUND.* events, else `transaction`.
   */
  notify(url: string, eventType: string, resource: object, aad?: string): string {
    return this.send(url, eventType, resource, { associatedData: aad });
  }

  private send(url: string, eventType: string, resource: object, envelope: NotificationEnvelopeOptions = {}, lose?: boolean): string {
    const { id, body } = buildNotificationBody({ eventType, resource, ...envelope, apiV3Key: this.creds.apiV3Key, createTime: new Date(this.clockFn()) });
    this.sent.set(id, { id, url, eventType, body });
    if (this.sent.size > REDELIVERABLE) this.sent.delete(this.sent.keys().next().value as string);
    this.notifier.schedule({ id, url, eventType, body }, lose);
    return id;
  }

  /**
   * Delivers every notification to `appUrl`'s origin (scheme, host and port), keeping the path of its notify_url:
   * for a test app that listens on port 0, whose notify URL in the module options cannot know the port. E.g.
   * `notifyUrl: 'https://shop.example.com/wechatpay/notify'` in the options, then after `await app.listen(0)`:
   * `sim.routeNotificationsTo(await app.getUrl())`. `undefined` delivers to the notify_url itself again.
   */
  routeNotificationsTo(appUrl: string | undefined): void {
    if (appUrl === undefined) {
      this.notificationOrigin = undefined;
      return;
    }
    const u = new URL(appUrl.replace('://[::]', '://127.0.0.1').replace('://[::1]', '://127.0.0.1'));
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`routeNotificationsTo: ${u.protocol} is not http(s)`);
    this.notificationOrigin = u.origin;
  }

  private retarget(notifyUrl: string): string {
    if (!this.notificationOrigin) return notifyUrl;
    const u = new URL(notifyUrl);
    return `${this.notificationOrigin}${u.pathname}`;
  }

  /**
   * Delivers a notification again: same id and body, fresh signature, the usual retries. WeChat Pay does this now
   * and then even after a 2xx, so handlers must be idempotent; this makes a test of that deterministic. A lost
   * notification can be delivered late this way too; a redelivery is never lost.
   */
  redeliver(notificationId: string): void {
    const job = this.sent.get(notificationId);
    if (!job) throw new Error(`redeliver: no notification ${notificationId} (only the last ${REDELIVERABLE} are kept)`);
    this.notifier.schedule(job, false);
  }

  /** Copies of every refund, in creation order. */
  listRefunds(): SimulatedRefund[] {
    return structuredClone(this.refundsBook.state.list());
  }

  /** A copy of a refund, if it exists (`sub_mchid` needed only when the out_refund_no is used under several). */
  getRefund(outRefundNo: string, subMchid?: string): SimulatedRefund | undefined {
    const refund = this.refundsBook.state.find(outRefundNo, subMchid);
    return refund && structuredClone(refund);
  }

  /** The `Refund` JSON the query API would answer. */
  refund(outRefundNo: string, subMchid?: string): Record<string, unknown> | undefined {
    const refund = this.refundsBook.state.find(outRefundNo, subMchid);
    return refund && this.refundsBook.state.refundJson(refund);
  }

  /**
   * Ends a PROCESSING refund (default SUCCESS; or ABNORMAL, CLOSED) and sends REFUND.SUCCESS / .ABNORMAL / .CLOSED to
   * its notify_url (else the order's). Use with `refundMode: 'manual'`; throws if the refund is not PROCESSING.
   */
  completeRefund(outRefundNo: string, options: CompleteRefundOptions = {}): SimulatedRefund {
    return structuredClone(this.refundsBook.state.complete(outRefundNo, options));
  }

  /**
   * Ends a PROCESSING return-advance (垫付回补, with `ecommerce.returnAdvanceResult: 'PROCESSING'`) as SUCCESS or
   * FAILED; returns the ReturnAdvance JSON the query answers from then on.
   */
  completeReturnAdvance(refundId: string, result: 'SUCCESS' | 'FAILED'): Record<string, unknown> {
    return this.ecommerceRefundsBook.completeReturnAdvance(refundId, result);
  }

  /** Profit sharing: settle an order now, fail a receiver line, balances (frozen / available) per sub-merchant, splits. */
  get profitSharing(): SimulatorProfitSharingControls {
    return this.profitSharingBook.controls;
  }

  /** A copy of an uploaded file's record (not its bytes), if the `media_id` is known. */
  getMedia(mediaId: string): SimulatedMedia | undefined {
    return this.mediaBook.get(mediaId);
  }

  /** The rows the trade bill of a Beijing day would have (for assertions), amounts in fen (fee in 1/100000 yuan). */
  tradeBillRows(billDate: string, filter: SimulatorTradeBillFilter = {}): TradeBillWriterRow[] {
    return this.billsBook.office.tradeBillRows(billDate, filter);
  }

  /** The rows the fund-flow bill of a Beijing day would have (amounts in fen). */
  fundFlowBillRows(billDate: string, account: SimulatorFundFlowAccount = 'BASIC'): FundFlowBillWriterRow[] {
    return this.billsBook.office.fundFlowBillRows(billDate, account);
  }

  /** The rows one sub-merchant's fund-flow bill (the encrypted one) of a Beijing day would have (amounts in fen). */
  subMerchantFundFlowBillRows(billDate: string, subMchid: string, account: SimulatorSubMerchantFundFlowAccount = 'BASIC'): FundFlowBillWriterRow[] {
    return this.billsBook.office.fundFlowBillRows(billDate, account, subMchid);
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
   * client-side payment (WeixinJSBridge, wx.requestPayment, the App SDK) cannot run in a test. With
   * `{ loseNotification: true }` the page opens with its "lose the notification" box ticked: paying there loses
   * the payment's notification, as `sim.pay(no, { loseNotification: true })` does.
   */
  cashierUrl(codeUrlOrPrepayId: string, options: { loseNotification?: boolean } = {}): string {
    return this.orderBook.cashierUrl(codeUrlOrPrepayId, options);
  }

  /**
   * Adds a new platform certificate the way WeChat Pay rotates: listed by `/v3/certificates` at once, signing (when
   * platform certificates sign) only from its effective time, now + `signAfterMs` (default the
   * `certificateSwitchDelayMs` option, 24 h; `0` switches at once). Older ones stay listed until they expire;
   * `retireOldAfterMs` moves their listed expire_time to now + that, as WeChat does during a switch.
   */
  async rotatePlatformCertificate(options: { retireOldAfterMs?: number; signAfterMs?: number } = {}): Promise<SimulatorPlatformCertificate> {
    const cert = await this.certificatesBook.rotate(options);
    this.keyring = new SimulatorKeyring(this.creds, false, () => this.clockFn());
    this.exposed = deepFreeze(structuredClone(this.creds));
    return { ...cert };
  }

  /** Orders and refunds as JSON, for `--state-file`. */
  exportState(): SimulatorState {
    const state: Record<string, unknown> = {};
    for (const book of this.books) {
      for (const [key, value] of Object.entries(book.exportState?.() ?? {})) {
        // Each book owns its keys of the state file; a clash would lose one book's state on the next import.
        if (key in state) throw new Error(`exportState: books disagree about the state key ${key} (${book.name})`);
        state[key] = value;
      }
    }
    return state as unknown as SimulatorState;
  }

  /** Restores orders and refunds saved by `exportState()`. */
  importState(state: SimulatorState): void {
    for (const book of this.books) book.importState?.(state as unknown as Record<string, unknown>);
  }

  /** Stops the server, cancels notifications and pending delays. Idempotent. */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      this.notifier.close();
      this.timers.cancelAll();
      void this.transport.close().then(resolve);
    });
    return this.closing;
  }

  /** The simulator's own tooling: health, and what notifications were delivered. */
  private ownTooling(): ToolingRoute[] {
    return [
      { method: 'GET', path: '/__sim/health', handle: () => toolingJson(200, { ok: true, baseUrl: this.url }) },
      { method: 'GET', path: '/__sim/deliveries', handle: () => toolingJson(200, { deliveries: this.deliveries, violations: this.violations }) },
    ];
  }

  private changed(): void {
    this.options.onStateChange?.();
  }
}
