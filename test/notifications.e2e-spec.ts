import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import {
  Controller,
  Header,
  HttpCode,
  type INestApplication,
  Injectable,
  type LoggerService,
  type PipeTransform,
  Post,
  Req,
  ValidationPipe,
} from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import {
  assertNotificationMatchesOrder,
  NOTIFICATION_FAILURES,
  NotificationEnvelope,
  NotificationResource,
  PartnerRefundResource,
  PartnerTransactionResource,
  WechatPartnerPayModule,
  type WechatPartnerPayModuleOptions,
  WechatPayNotification,
  type WechatPayNotificationEnvelope,
  WechatPayNotificationError,
  type WechatPayNotificationFailure,
  WechatPayNotificationMismatchError,
  WechatPayNotificationService,
  WechatPayOrdersService,
} from 'nestjs-wechat-partner-pay';
import { buildResponseMessage, generateNonce, rsaSign } from 'nestjs-wechat-partner-pay/crypto';
import {
  buildSignedNotification,
  type SignedNotificationInput,
  WechatPaySimulator,
} from 'nestjs-wechat-partner-pay/testing';

const SUB_MCHID = '1900000109';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A parameter pipe: the resource → its transaction_id. */
@Injectable()
class TransactionIdPipe implements PipeTransform<PartnerTransactionResource, string> {
  transform(tx: PartnerTransactionResource): string {
    return `piped:${tx.transaction_id}`;
  }
}

/** What the handlers did: the test's stand-in for a database. */
@Injectable()
class Effects {
  /** Order totals by out_trade_no, as the shop stored them when creating the orders. */
  readonly orders = new Map<string, number>();
  readonly paid: PartnerTransactionResource[] = [];
  readonly envelopes: WechatPayNotificationEnvelope[] = [];
  readonly refunds: PartnerRefundResource[] = [];
  readonly piped: string[] = [];
  calls = 0;
  failNext = 0;
  delayMs = 0;
}

@Controller('wechatpay')
class NotifyController {
  constructor(private readonly effects: Effects) {}

  @Post('notify')
  @WechatPayNotification('TRANSACTION.SUCCESS')
  async paid(
    @NotificationResource() tx: PartnerTransactionResource,
    @NotificationEnvelope() envelope: WechatPayNotificationEnvelope,
  ): Promise<void> {
    this.effects.calls++;
    if (this.effects.delayMs) await sleep(this.effects.delayMs);
    if (this.effects.failNext > 0) {
      this.effects.failNext--;
      throw new Error('database unavailable');
    }
    const total = this.effects.orders.get(tx.out_trade_no);
    if (total !== undefined)
      assertNotificationMatchesOrder(tx, { out_trade_no: tx.out_trade_no, sub_mchid: SUB_MCHID, total });
    this.effects.paid.push(tx);
    this.effects.envelopes.push(envelope);
  }

  // Parameters in another order than on the main route, and no exactly-once: each still gets its own argument.
  @Post('notify-every-time')
  @WechatPayNotification({ eventTypes: ['TRANSACTION.SUCCESS'], dedupe: false })
  everyTime(
    @NotificationEnvelope() envelope: WechatPayNotificationEnvelope,
    @NotificationResource() tx: PartnerTransactionResource,
  ): void {
    this.effects.calls++;
    this.effects.paid.push(tx);
    this.effects.envelopes.push(envelope);
  }

  // A pipe on the parameter: Nest resolves this one and runs the pipe.
  @Post('notify-piped')
  @WechatPayNotification('TRANSACTION.SUCCESS')
  piped(@NotificationResource(TransactionIdPipe) transactionId: string): string {
    this.effects.calls++;
    this.effects.piped.push(transactionId);
    return transactionId;
  }

  // Misuse: the parameter decorators without @WechatPayNotification().
  @Post('not-a-notification-route')
  @HttpCode(200)
  notARoute(@NotificationResource() tx: PartnerTransactionResource): string {
    return String(tx);
  }

  // Decorators listed below @WechatPayNotification() ran first: their metadata must move to the wrapped handler.
  @WechatPayNotification('TRANSACTION.SUCCESS')
  @Post('notify-decorated-below')
  @Header('X-Shop', 'test')
  below(@NotificationResource() tx: PartnerTransactionResource, @Req() req: { headers: object }): string {
    this.effects.calls++;
    return `${tx.transaction_id}:${typeof req.headers}`;
  }

  @Post('refund-notify')
  @WechatPayNotification('REFUND.*')
  refunded(@NotificationResource() refund: PartnerRefundResource): void {
    this.effects.calls++;
    this.effects.refunds.push(refund);
  }
}

/** Collects log lines, to check what an operator would read. */
class CapturingLogger implements LoggerService {
  readonly lines: string[] = [];
  log(message: unknown): void {
    this.lines.push(String(message));
  }
  error(message: unknown): void {
    this.lines.push(String(message));
  }
  warn(message: unknown): void {
    this.lines.push(String(message));
  }
}

type Adapter = 'express' | 'fastify';

interface Harness {
  app: INestApplication;
  url: string;
  effects: Effects;
  logger: CapturingLogger;
}

async function startApp(
  adapter: Adapter,
  options: WechatPartnerPayModuleOptions,
  rawBody = true,
  configure?: (app: INestApplication) => void,
): Promise<Harness> {
  const ref = await Test.createTestingModule({
    imports: [WechatPartnerPayModule.forRoot(options)],
    controllers: [NotifyController],
    providers: [Effects],
  }).compile();
  const logger = new CapturingLogger();
  const app =
    adapter === 'express'
      ? ref.createNestApplication<NestExpressApplication>({ rawBody, logger })
      : ref.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { rawBody, logger });
  configure?.(app);
  await app.listen(0, '127.0.0.1');
  return { app, url: (await app.getUrl()).replace('[::1]', '127.0.0.1'), effects: app.get(Effects), logger };
}

/** A paid transaction as WeChat Pay would notify it. */
function transaction(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    sp_appid: 'wx8888888888888888',
    sp_mchid: '1230000109',
    sub_mchid: SUB_MCHID,
    out_trade_no: 'T20240520000001',
    transaction_id: '4200000000202405200000000001',
    trade_type: 'NATIVE',
    trade_state: 'SUCCESS',
    trade_state_desc: '支付成功',
    bank_type: 'OTHERS',
    success_time: '2024-05-20T13:29:35+08:00',
    payer: { sp_openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' },
    amount: { total: 100, payer_total: 100, currency: 'CNY', payer_currency: 'CNY' },
    ...overrides,
  };
}

interface Delivery {
  headers: Record<string, string>;
  body: string;
}

/** Signs any body as WeChat Pay would, so that the checks after the signature are reached. */
function signBody(
  body: string,
  serial: string,
  key: KeyObject,
  timestamp = Math.floor(Date.now() / 1000),
): Delivery {
  const nonce = generateNonce();
  const signature = rsaSign(buildResponseMessage(String(timestamp), nonce, body), key);
  const headers = {
    'Wechatpay-Timestamp': String(timestamp),
    'Wechatpay-Nonce': nonce,
    'Wechatpay-Signature': signature,
    'Wechatpay-Serial': serial,
  };
  return {
    body,
    headers: {
      ...headers,
      'Wechatpay-Signature-Type': 'WECHATPAY2-SHA256-RSA2048',
      'Content-Type': 'application/json',
    },
  };
}

/** A successful refund as WeChat Pay would notify it (spec §6.3). */
function refund(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    sp_mchid: '1230000109',
    sub_mchid: SUB_MCHID,
    transaction_id: '4200000000202405200000000002',
    out_trade_no: 'T20240520000002',
    refund_id: '50000000382019052709732678859',
    out_refund_no: 'RF20240521000001',
    refund_status: 'SUCCESS',
    success_time: '2024-05-21T13:29:35+08:00',
    user_received_account: '招商银行信用卡0403',
    amount: { total: 100, refund: 100, payer_total: 100, payer_refund: 100 },
    ...overrides,
  };
}

describe.each<Adapter>(['express', 'fastify'])('@WechatPayNotification() on %s', (adapter) => {
  let sim: WechatPaySimulator;
  let h: Harness;
  let signingKey: KeyObject;
  const other = generateKeyPairSync('rsa', { modulusLength: 2048 });

  beforeAll(async () => {
    sim = await WechatPaySimulator.start({ notificationTimeScale: 0.001 });
    h = await startApp(adapter, sim.moduleOptions());
    signingKey = createPrivateKey(sim.credentials.publicKeyPrivateKeyPem);
  });
  afterAll(async () => {
    await h?.app.close();
    await sim?.close();
  });
  beforeEach(() => {
    h.effects.calls = 0;
    h.effects.failNext = 0;
    h.effects.delayMs = 0;
    h.effects.paid.length = 0;
    h.effects.envelopes.length = 0;
    h.effects.piped.length = 0;
  });

  const post = (d: Delivery, path = '/wechatpay/notify') =>
    request(h.app.getHttpServer()).post(path).set(d.headers).send(d.body);

  function signed(resource: object = transaction(), input: Partial<SignedNotificationInput> = {}): Delivery {
    const c = sim.credentials;
    return buildSignedNotification({
      eventType: 'TRANSACTION.SUCCESS',
      resource,
      apiV3Key: c.apiV3Key,
      signingKey,
      serial: c.publicKeyId,
      ...input,
    });
  }

  const resign = (body: string): Delivery => signBody(body, sim.credentials.publicKeyId, signingKey);

  /** A genuine notification whose envelope is changed, then signed again. */
  function tampered(mutate: (resource: Record<string, string>) => void): Delivery {
    const envelope = JSON.parse(signed().body) as { resource: Record<string, string> };
    mutate(envelope.resource);
    return resign(JSON.stringify(envelope));
  }

  function flipByte(b64: string, index: number): string {
    const bytes = Buffer.from(b64, 'base64');
    bytes[(index + bytes.length) % bytes.length] ^= 0x01;
    return bytes.toString('base64');
  }

  function without(header: string): Delivery {
    const d = signed();
    const headers = Object.fromEntries(
      Object.entries(d.headers).filter(([k]) => k.toLowerCase() !== header.toLowerCase()),
    );
    return { headers, body: d.body };
  }

  function withHeader(header: string, value: string | ((d: Delivery) => string)): Delivery {
    const d = signed();
    return {
      body: d.body,
      headers: { ...d.headers, [header]: typeof value === 'string' ? value : value(d) },
    };
  }

  it('delivers a simulator payment to the controller as a typed PartnerTransactionResource; 204 stops the retries', async () => {
    const orders = h.app.get(WechatPayOrdersService);
    const out_trade_no = `N${adapter}${Date.now()}`;
    h.effects.orders.set(out_trade_no, 2500);
    await orders.nativePrepay({
      sub_mchid: SUB_MCHID,
      description: 'Notification e2e',
      out_trade_no,
      amount: { total: 2500 },
      notify_url: `${h.url}/wechatpay/notify`,
    });
    await sim.pay(out_trade_no, { sub_mchid: SUB_MCHID });
    await sim.notifications.flush();

    expect(h.effects.paid).toHaveLength(1);
    const tx = h.effects.paid[0];
    expect(tx).toBeInstanceOf(PartnerTransactionResource);
    expect(tx).toMatchObject({
      out_trade_no,
      sub_mchid: SUB_MCHID,
      sp_mchid: sim.credentials.spMchid,
      trade_state: 'SUCCESS',
      amount: { total: 2500 },
    });
    expect(tx.transaction_id).toEqual(expect.any(String));
    expect(h.effects.envelopes[0]).toMatchObject({
      event_type: 'TRANSACTION.SUCCESS',
      resource_type: 'encrypt-resource',
      summary: '支付成功',
    });
    const attempts = sim.deliveries.filter(
      (d) => d.url.startsWith(h.url) && d.notificationId === h.effects.envelopes[0].id,
    );
    expect(attempts.map((d) => d.status)).toEqual([204]);
    expect(sim.violations).toEqual([]);
  });

  it('retries after a handler failure: 500, then the retry is processed; the handler ran twice and completed once', async () => {
    const orders = h.app.get(WechatPayOrdersService);
    const out_trade_no = `R${adapter}${Date.now()}`;
    await orders.nativePrepay({
      sub_mchid: SUB_MCHID,
      description: 'Retry e2e',
      out_trade_no,
      amount: { total: 1 },
      notify_url: `${h.url}/wechatpay/notify`,
    });
    h.effects.failNext = 1;
    await sim.pay(out_trade_no, { sub_mchid: SUB_MCHID });
    await sim.notifications.flush();

    const attempts = sim.deliveries.filter((d) => d.url.startsWith(h.url) && !d.probe).slice(-2);
    expect(attempts.map((d) => [d.attempt, d.status])).toEqual([
      [1, 500],
      [2, 204],
    ]);
    expect(h.effects.calls).toBe(2);
    expect(h.effects.paid.map((t) => t.out_trade_no)).toEqual([out_trade_no]);
    // The completed notification is remembered: a late duplicate is acknowledged without running the handler.
    const resource = sim.transaction(SUB_MCHID, out_trade_no)!;
    await post(signed(resource)).expect(204);
    expect(h.effects.calls).toBe(2);
  });

  it('rejects WECHATPAY/SIGNTEST/ probes from the simulator and accepts the properly signed resend', async () => {
    const probing = await WechatPaySimulator.start({
      credentials: sim.credentials,
      probeRate: 1,
      notificationTimeScale: 0,
    });
    try {
      const resource = transaction({
        out_trade_no: `P${adapter}${Date.now()}`,
        transaction_id: `42000${Date.now()}`,
      });
      probing.notify(`${h.url}/wechatpay/notify`, 'TRANSACTION.SUCCESS', resource);
      await probing.notifications.flush();
      expect(probing.deliveries.map((d) => [d.probe, d.status])).toEqual([
        [true, 401],
        [false, 204],
      ]);
      expect(probing.violations).toEqual([]);
      expect(h.effects.calls).toBe(1);
    } finally {
      await probing.close();
    }
  });

  it('gives REFUND.* notifications to the handler as a PartnerRefundResource', async () => {
    await post(
      signed(refund({ out_refund_no: `RF${adapter}${Date.now()}` }), { eventType: 'REFUND.SUCCESS' }),
      '/wechatpay/refund-notify',
    ).expect(204);
    expect(h.effects.refunds.at(-1)).toBeInstanceOf(PartnerRefundResource);
    expect(h.effects.refunds.at(-1)).toMatchObject({ refund_status: 'SUCCESS', amount: { refund: 100 } });
  });

  it('acknowledges a duplicate without calling the handler, and answers 503 while the first delivery is in progress', async () => {
    const resource = transaction({ transaction_id: `4200dup${adapter}${Date.now()}` });
    h.effects.delayMs = 300;
    const first = post(signed(resource)).then((r) => r.status);
    while (h.effects.calls === 0) await sleep(5); // the first delivery holds the claim now
    const concurrent = await post(signed(resource));
    expect(concurrent.status).toBe(503);
    expect(concurrent.body).toEqual({ code: 'FAIL', message: NOTIFICATION_FAILURES.IN_PROGRESS.message });
    expect(await first).toBe(204);
    await post(signed(resource)).expect(204);
    expect(h.effects.calls).toBe(1);
  });

  it('keeps the metadata of decorators listed below @WechatPayNotification(), and passes only the declared arguments', async () => {
    const resource = transaction({ transaction_id: `4200below${adapter}${Date.now()}` });
    const res = await post(signed(resource), '/wechatpay/notify-decorated-below').expect(204);
    expect(res.headers['x-shop']).toBe('test');
    await post(signed(resource), '/wechatpay/notify-decorated-below').expect(204);
    expect(h.effects.calls).toBe(1);
    // Called directly (a unit test of the controller), the handler simply runs.
    const controller = h.app.get(NotifyController);
    expect(controller.below(resource as unknown as PartnerTransactionResource, { headers: {} })).toBe(
      `${resource.transaction_id}:object`,
    );
  });

  it('calls the handler for every delivery on a route with dedupe: false, with its arguments in their places', async () => {
    const resource = transaction({ transaction_id: `4200nd${adapter}${Date.now()}` });
    await post(signed(resource), '/wechatpay/notify-every-time').expect(204);
    await post(signed(resource), '/wechatpay/notify-every-time').expect(204);
    expect(h.effects.calls).toBe(2);
    expect(h.effects.paid[1]).toBeInstanceOf(PartnerTransactionResource);
    expect(h.effects.paid[1].transaction_id).toBe(resource.transaction_id);
    expect(h.effects.envelopes[1].event_type).toBe('TRANSACTION.SUCCESS');
  });

  it('runs a pipe given to @NotificationResource() on the verified resource', async () => {
    const resource = transaction({ transaction_id: `4200pipe${adapter}${Date.now()}` });
    const res = await post(signed(resource), '/wechatpay/notify-piped');
    expect(res.status).toBe(204);
    expect(h.effects.calls).toBe(1);
    expect(h.effects.piped).toEqual([`piped:${resource.transaction_id}`]);
    const controller = h.app.get(NotifyController);
    expect(controller.piped('direct')).toBe('direct');
  });

  it('fails clearly when @NotificationResource() is used without @WechatPayNotification()', async () => {
    const res = await request(h.app.getHttpServer())
      .post('/wechatpay/not-a-notification-route')
      .set('Content-Type', 'application/json')
      .send('{}');
    expect(res.status).toBe(500);
    expect(h.logger.lines.join('\n')).toContain('need @WechatPayNotification() on the same method');
  });

  it('answers 400 FAIL when the handler finds that the notification does not match the order (amount)', async () => {
    const resource = transaction({
      out_trade_no: `M${adapter}${Date.now()}`,
      transaction_id: `4200mm${adapter}${Date.now()}`,
    });
    h.effects.orders.set(resource.out_trade_no as string, 999);
    const res = await post(signed(resource));
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ code: 'FAIL', message: NOTIFICATION_FAILURES.ORDER_MISMATCH.message });
    expect(
      h.logger.lines.some(
        (l) => l.includes('ORDER_MISMATCH') && l.includes('amount.total') && !l.includes('999'),
      ),
    ).toBe(true);
    expect(h.effects.paid).toHaveLength(0);
  });

  const now = () => Math.floor(Date.now() / 1000);
  const bad: Array<[string, () => Delivery, number, WechatPayNotificationFailure | 'body parser']> = [
    [
      'forged signature (another key)',
      () => signed(transaction(), { signingKey: other.privateKey }),
      401,
      'BAD_SIGNATURE',
    ],
    [
      'body changed by one byte',
      () => {
        const d = signed();
        return { ...d, body: d.body.replace('"summary":"支付成功"', '"summary":"支付成功 "') };
      },
      401,
      'BAD_SIGNATURE',
    ],
    [
      're-serialized JSON',
      () => {
        const d = signed();
        return { ...d, body: JSON.stringify(JSON.parse(d.body), null, 2) };
      },
      401,
      'BAD_SIGNATURE',
    ],
    [
      'ciphertext tampered',
      () => tampered((r) => (r.ciphertext = flipByte(r.ciphertext, 0))),
      500,
      'DECRYPTION_FAILED',
    ],
    [
      'GCM tag tampered',
      () => tampered((r) => (r.ciphertext = flipByte(r.ciphertext, -1))),
      500,
      'DECRYPTION_FAILED',
    ],
    [
      'nonce tampered',
      () => tampered((r) => (r.nonce = r.nonce.slice(0, -1) + (r.nonce.endsWith('a') ? 'b' : 'a'))),
      500,
      'DECRYPTION_FAILED',
    ],
    [
      'associated_data tampered',
      () => tampered((r) => (r.associated_data = 'refund')),
      500,
      'DECRYPTION_FAILED',
    ],
    [
      'wrong APIv3 key',
      () => signed(transaction(), { apiV3Key: 'ZYXWVUTSRQPONMLKJIHGFEDCBA987654' }),
      500,
      'DECRYPTION_FAILED',
    ],
    [
      'unknown public key id',
      () => signed(transaction(), { serial: 'PUB_KEY_ID_0000000000000000000000000099' }),
      401,
      'UNKNOWN_SERIAL',
    ],
    [
      'unknown certificate serial',
      () => signed(transaction(), { serial: '5157F09EFDC096DE15EBE81A47057A7232F1B8E1' }),
      401,
      'UNKNOWN_SERIAL',
    ],
    [
      'SIGNTEST probe',
      () => withHeader('Wechatpay-Signature', 'WECHATPAY/SIGNTEST/2sWfO+6tVVsCg=='),
      401,
      'BAD_SIGNATURE',
    ],
    [
      'timestamp 301 s old',
      () => signed(transaction(), { timestamp: now() - 301 }),
      401,
      'TIMESTAMP_OUT_OF_WINDOW',
    ],
    [
      'timestamp 302 s ahead (1 s to spare: the clock may tick before the check)',
      () => signed(transaction(), { timestamp: now() + 302 }),
      401,
      'TIMESTAMP_OUT_OF_WINDOW',
    ],
    [
      'non-numeric timestamp',
      () => withHeader('Wechatpay-Timestamp', (d) => d.headers['Wechatpay-Timestamp'].slice(0, -1) + 'x'),
      400,
      'INVALID_TIMESTAMP',
    ],
    ['missing Wechatpay-Timestamp', () => without('Wechatpay-Timestamp'), 400, 'MISSING_HEADER'],
    ['missing Wechatpay-Nonce', () => without('Wechatpay-Nonce'), 400, 'MISSING_HEADER'],
    ['missing Wechatpay-Signature', () => without('Wechatpay-Signature'), 400, 'MISSING_HEADER'],
    ['missing Wechatpay-Serial', () => without('Wechatpay-Serial'), 400, 'MISSING_HEADER'],
    [
      'other Wechatpay-Signature-Type',
      () => withHeader('Wechatpay-Signature-Type', 'WECHATPAY2-SM2-WITH-SM3'),
      400,
      'UNSUPPORTED_SIGNATURE_TYPE',
    ],
    ['not JSON (signed)', () => resign('id=1&event_type=TRANSACTION.SUCCESS'), 400, 'body parser'],
    [
      'a signed notification sent as text/plain',
      () => {
        const d = signed();
        return { body: d.body, headers: { ...d.headers, 'Content-Type': 'text/plain' } };
      },
      415,
      'UNSUPPORTED_CONTENT_TYPE',
    ],
    ['JSON that is not an envelope (signed)', () => resign('[{"id":"1"}]'), 400, 'INVALID_ENVELOPE'],
    ['wrong algorithm', () => tampered((r) => (r.algorithm = 'SM4_GCM')), 400, 'UNSUPPORTED_ALGORITHM'],
    ['another sp_mchid', () => signed(transaction({ sp_mchid: '1230000999' })), 400, 'SP_MCHID_MISMATCH'],
    [
      'resource failing DTO validation',
      () => signed(transaction({ amount: { total: '100' } })),
      400,
      'INVALID_RESOURCE',
    ],
    [
      'event type not handled by the route',
      () => signed(refund(), { eventType: 'REFUND.SUCCESS' }),
      400,
      'EVENT_TYPE_NOT_ALLOWED',
    ],
    [
      'oversized body (70 KiB > 64 KiB)',
      () => signed(transaction({ attach: 'x'.repeat(70 * 1024) })),
      413,
      'BODY_TOO_LARGE',
    ],
  ];

  it.each(bad)('rejects %s before the handler runs', async (_name, build, status, reason) => {
    const d = build();
    const res = await post(d);
    expect(res.status).toBe(status);
    expect(h.effects.calls).toBe(0);
    if (reason === 'body parser') return; // rejected by the framework's JSON parser, before any route code
    expect(res.body).toEqual({ code: 'FAIL', message: NOTIFICATION_FAILURES[reason].message });
    // Replies never echo the request.
    for (const v of [
      d.headers['Wechatpay-Signature'],
      d.headers['Wechatpay-Nonce'],
      (JSON.parse(d.body) as { id?: string }).id,
    ]) {
      if (v) expect(res.text).not.toContain(v);
    }
  });

  it('fails with 500 and a log line that says how to enable rawBody when the app was created without it', async () => {
    const plain = await startApp(adapter, sim.moduleOptions(), false);
    try {
      const res = await request(plain.app.getHttpServer())
        .post('/wechatpay/notify')
        .set(signed().headers)
        .send(signed().body);
      expect(res.status).toBe(500);
      expect(res.body).toEqual({ code: 'FAIL', message: NOTIFICATION_FAILURES.RAW_BODY_MISSING.message });
      expect(plain.effects.calls).toBe(0);
      const hint =
        adapter === 'express'
          ? 'NestFactory.create(AppModule, { rawBody: true })'
          : 'new FastifyAdapter(), { rawBody: true }';
      expect(plain.logger.lines.some((l) => l.includes('RAW_BODY_MISSING') && l.includes(hint))).toBe(true);
    } finally {
      await plain.app.close();
    }
  });
});

describe('with a global ValidationPipe that also validates custom decorators', () => {
  it('still runs the handler exactly once with a typed resource, which the global pipe does not strip', async () => {
    const sim = await WechatPaySimulator.start();
    const h = await startApp('express', sim.moduleOptions(), true, (app) =>
      app.useGlobalPipes(
        new ValidationPipe({ transform: true, whitelist: true, validateCustomDecorators: true }),
      ),
    );
    try {
      const n = sim.signedNotification(
        'TRANSACTION.SUCCESS',
        transaction({ transaction_id: `4200vp${Date.now()}`, field_added_by_wechat_later: 'kept' }),
      );
      await request(h.app.getHttpServer()).post('/wechatpay/notify').set(n.headers).send(n.body).expect(204);
      await request(h.app.getHttpServer()).post('/wechatpay/notify').set(n.headers).send(n.body).expect(204);
      expect(h.effects.calls).toBe(1);
      expect(h.effects.paid[0]).toBeInstanceOf(PartnerTransactionResource);
      // The global pipe's whitelist does not run on @NotificationResource(): fields WeChat Pay adds are kept.
      expect((h.effects.paid[0] as unknown as Record<string, unknown>).field_added_by_wechat_later).toBe('kept');
    } finally {
      await h.app.close();
      await sim.close();
    }
  });
});

describe('platform certificate mode: key chosen by Wechatpay-Serial', () => {
  let sim: WechatPaySimulator;
  let h: Harness;

  beforeAll(async () => {
    sim = await WechatPaySimulator.start({ signWith: 'platformCertificate' });
    h = await startApp('express', sim.moduleOptions({ verification: { mode: 'platformCertificate' } }));
  });
  afterAll(async () => {
    await h?.app.close();
    await sim?.close();
  });

  const downloads = () => sim.requests.filter((r) => r.path.startsWith('/v3/certificates')).length;
  const post = (n: Delivery) =>
    request(h.app.getHttpServer()).post('/wechatpay/notify').set(n.headers).send(n.body);
  const signedBy = (serial: string, signingKey: string, transaction_id: string) =>
    buildSignedNotification({
      eventType: 'TRANSACTION.SUCCESS',
      resource: transaction({ transaction_id }),
      apiV3Key: sim.credentials.apiV3Key,
      signingKey,
      serial,
    });

  it('accepts a notification signed with a downloaded certificate, without downloading again', async () => {
    const [cert] = sim.credentials.platformCertificates;
    const before = downloads();
    await post(signedBy(cert.serialNo, cert.privateKeyPem, `4200pc1${Date.now()}`)).expect(204);
    expect(downloads()).toBe(before);
  });

  it('downloads the certificates once for a new serial (rotation), then accepts', async () => {
    const cert = await sim.rotatePlatformCertificate();
    const before = downloads();
    await post(signedBy(cert.serialNo, cert.privateKeyPem, `4200pc2${Date.now()}`)).expect(204);
    expect(downloads()).toBe(before + 1);
  });

  it('rejects a serial that is still unknown after the refresh, without downloading again and again', async () => {
    const [cert] = sim.credentials.platformCertificates;
    const before = downloads();
    for (let i = 0; i < 3; i++) {
      const res = await post(
        signedBy('5157F09EFDC096DE15EBE81A47057A7232F1B8E1', cert.privateKeyPem, `4200pc3${i}`),
      );
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ code: 'FAIL', message: NOTIFICATION_FAILURES.UNKNOWN_SERIAL.message });
    }
    expect(downloads() - before).toBeLessThanOrEqual(1);
    expect(h.effects.calls).toBe(2);
  });
});

describe('WechatPayNotificationService.parse() outside a controller', () => {
  let sim: WechatPaySimulator;
  let service: WechatPayNotificationService;
  let close: () => Promise<void>;

  beforeAll(async () => {
    sim = await WechatPaySimulator.start();
    const ref = await Test.createTestingModule({
      imports: [WechatPartnerPayModule.forRoot(sim.moduleOptions())],
    }).compile();
    service = ref.get(WechatPayNotificationService);
    close = async () => {
      await ref.close();
      await sim.close();
    };
  });
  afterAll(() => close());

  it('parses a Buffer or a string body and types the resource', async () => {
    const n = sim.signedNotification('TRANSACTION.SUCCESS', transaction());
    const fromBuffer = await service.parse<PartnerTransactionResource>(n.headers, Buffer.from(n.body));
    const fromString = await service.parse(n.headers, n.body);
    expect(fromBuffer.resource).toBeInstanceOf(PartnerTransactionResource);
    expect(fromBuffer.resource.amount.total).toBe(100);
    expect(fromString.envelope).toEqual(fromBuffer.envelope);
    expect(service.dedupeKey(fromBuffer)).toBe(
      `TRANSACTION.SUCCESS:1230000109:${SUB_MCHID}:4200000000202405200000000001`,
    );
  });

  it('reports JSON that does not parse after a valid signature as INVALID_JSON', async () => {
    const d = signBody(
      '{"id":',
      sim.credentials.publicKeyId,
      createPrivateKey(sim.credentials.publicKeyPrivateKeyPem),
    );
    await expect(service.parse(d.headers, d.body)).rejects.toMatchObject({
      reason: 'INVALID_JSON',
      status: 400,
    });
  });

  it('refuses a parsed object instead of re-serializing it', async () => {
    const n = sim.signedNotification('TRANSACTION.SUCCESS', transaction());
    const parsed = JSON.parse(n.body) as unknown as Buffer;
    await expect(service.parse(n.headers, parsed)).rejects.toMatchObject({ reason: 'RAW_BODY_MISSING' });
  });

  it('runs a queue worker handler exactly once with handleOnce()', async () => {
    const a = sim.signedNotification('TRANSACTION.SUCCESS', transaction());
    const b = sim.signedNotification('TRANSACTION.SUCCESS', transaction());
    await expect(service.parse(a.headers, b.body)).rejects.toBeInstanceOf(WechatPayNotificationError);
    const good = sim.signedNotification(
      'TRANSACTION.SUCCESS',
      transaction({ transaction_id: `4200q${Date.now()}` }),
    );
    const parsed = await service.parse(good.headers, good.body);
    let runs = 0;
    await expect(service.handleOnce(parsed, () => ++runs)).resolves.toEqual({
      status: 'processed',
      result: 1,
    });
    await expect(service.handleOnce(parsed, () => ++runs)).resolves.toEqual({ status: 'duplicate' });
    expect(runs).toBe(1);
  });
});

describe('notifications.dedupeKey: the module-wide exactly-once key', () => {
  let sim: WechatPaySimulator;
  let h: Harness;
  const keys: string[] = [];

  beforeAll(async () => {
    sim = await WechatPaySimulator.start();
    // Per out_trade_no instead of per transaction_id (e.g. a shop whose effect is "mark this order paid").
    h = await startApp('fastify', {
      ...sim.moduleOptions(),
      notifications: {
        dedupeKey: (n) => {
          const key = `paid:${String((n.resource as { out_trade_no?: string }).out_trade_no)}`;
          keys.push(key);
          return key;
        },
      },
    });
  });
  afterAll(async () => {
    await h?.app.close();
    await sim?.close();
  });

  const post = (resource: Record<string, unknown>) => {
    const n = sim.signedNotification('TRANSACTION.SUCCESS', resource);
    return request(h.app.getHttpServer()).post('/wechatpay/notify').set(n.headers).send(n.body);
  };

  it('is used by the routes: two transactions of one order run the handler once', async () => {
    const order = `T${Date.now()}`;
    await post(transaction({ out_trade_no: order, transaction_id: '4200000000202405200000000011' })).expect(204);
    await post(transaction({ out_trade_no: order, transaction_id: '4200000000202405200000000012' })).expect(204);
    expect(h.effects.calls).toBe(1);
    expect(keys.slice(-2)).toEqual([`paid:${order}`, `paid:${order}`]);
  });

  it('is used by handleOnce(), and a call\'s own dedupeKey wins over it', async () => {
    const service = h.app.get(WechatPayNotificationService);
    const n = sim.signedNotification('TRANSACTION.SUCCESS', transaction({ out_trade_no: `Q${Date.now()}` }));
    const parsed = await service.parse(n.headers, n.body);
    let runs = 0;
    await service.handleOnce(parsed, () => ++runs);
    await service.handleOnce(parsed, () => ++runs);
    expect(runs).toBe(1);
    await service.handleOnce(parsed, () => ++runs, { dedupeKey: () => `own:${Date.now()}` });
    expect(runs).toBe(2);
  });

  it('fails with DEDUPE_KEY_FAILED, handler not called, when the function returns no key or throws', async () => {
    const service = h.app.get(WechatPayNotificationService);
    const n = sim.signedNotification('TRANSACTION.SUCCESS', transaction());
    const parsed = await service.parse(n.headers, n.body);
    let runs = 0;
    await expect(service.handleOnce(parsed, () => ++runs, { dedupeKey: () => '' })).rejects.toMatchObject({
      reason: 'DEDUPE_KEY_FAILED',
      status: 500,
    });
    const secret = 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o'; // decrypted data in the message must not reach the log
    const thrown = await service
      .handleOnce(parsed, () => ++runs, {
        dedupeKey: () => {
          throw new TypeError(`no key for ${secret}`);
        },
      })
      .catch((e: unknown) => e);
    expect(thrown).toMatchObject({ reason: 'DEDUPE_KEY_FAILED', detail: 'dedupeKey threw TypeError' });
    expect(runs).toBe(0);
  });

  it('is checked when the module is created', () => {
    return expect(
      Test.createTestingModule({
        imports: [
          WechatPartnerPayModule.forRoot({
            ...sim.moduleOptions(),
            notifications: { dedupeKey: 'out_trade_no' as unknown as () => string },
          }),
        ],
      }).compile(),
    ).rejects.toThrow('notifications.dedupeKey must be a function');
  });
});

describe('assertNotificationMatchesOrder', () => {
  const tx = { sp_mchid: '1230000109', sub_mchid: SUB_MCHID, out_trade_no: 'T1', amount: { total: 100 } };
  it('accepts a match and names every differing field, without values', () => {
    expect(() =>
      assertNotificationMatchesOrder(tx, { out_trade_no: 'T1', sub_mchid: SUB_MCHID, total: 100 }),
    ).not.toThrow();
    try {
      assertNotificationMatchesOrder(tx, { out_trade_no: 'T2', sub_mchid: '1900000110', total: 101 });
      throw new Error('expected a mismatch');
    } catch (e) {
      expect(e).toBeInstanceOf(WechatPayNotificationMismatchError);
      expect((e as WechatPayNotificationMismatchError).fields).toEqual([
        'out_trade_no',
        'sub_mchid',
        'amount.total',
      ]);
      expect((e as Error).message).not.toMatch(/T1|T2|100|101/);
    }
  });
});
