/**
 * The boot route check on Express and Fastify: at application bootstrap the module compares the paths of notifyUrl
 * and refundNotifyUrl with the routes carrying @WechatPayNotification() (global prefix, its exclusions and URI
 * versioning included) and warns, naming both, when none serves it. A signed notification posted to the notify URL
 * path proves that the path the check computed is the one the adapter really serves.
 */
import {
  Controller,
  type INestApplication,
  type LoggerService,
  Post,
  RequestMethod,
  VersioningType,
} from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import {
  NotificationResource,
  PartnerTransactionResource,
  WechatPartnerPayModule,
  type WechatPartnerPayModuleOptions,
  WechatPayNotification,
} from 'nestjs-wechat-partner-pay';
import { WechatPaySimulator } from 'nestjs-wechat-partner-pay/testing';

const SHOP = 'https://shop.example.com';
const ROUTE_CHECK =
  /which no @WechatPayNotification\(\) POST route serves|is served by .* which accepts only/;

@Controller('wechatpay')
class NotifyController {
  readonly paid: string[] = [];

  @Post('notify')
  @WechatPayNotification('TRANSACTION.SUCCESS')
  notify(@NotificationResource() tx: PartnerTransactionResource): void {
    this.paid.push(tx.out_trade_no);
  }

  @Post('refund-notify')
  @WechatPayNotification('REFUND.*')
  refund(): void {}
}

class CapturingLogger implements LoggerService {
  readonly lines: string[] = [];
  log(message: unknown): void {
    this.lines.push(String(message));
  }
  error(message: unknown): void {
    this.lines.push(String(message));
  }
  warn(message: unknown): void {
    this.lines.push(`WARN ${String(message)}`);
  }
}

type Adapter = 'express' | 'fastify';

function transaction(sim: WechatPaySimulator): Record<string, unknown> {
  return {
    sp_appid: sim.credentials.spAppid,
    sp_mchid: sim.credentials.spMchid,
    sub_mchid: sim.credentials.subMerchants[0].subMchid,
    out_trade_no: 'ROUTE_CHECK_0001',
    transaction_id: '4200000000202405200000000001',
    trade_type: 'NATIVE',
    trade_state: 'SUCCESS',
    trade_state_desc: '支付成功',
    bank_type: 'OTHERS',
    success_time: '2024-05-20T13:29:35+08:00',
    payer: { sp_openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' },
    amount: { total: 100, payer_total: 100, currency: 'CNY', payer_currency: 'CNY' },
  };
}

describe.each<Adapter>(['express', 'fastify'])('notify URL route check on %s', (adapter) => {
  let sim: WechatPaySimulator;
  let app: INestApplication | undefined;
  beforeAll(async () => {
    sim = await WechatPaySimulator.start();
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });
  afterAll(() => sim.close());

  async function boot(
    options: Partial<WechatPartnerPayModuleOptions>,
    configure: (app: INestApplication) => void,
  ): Promise<{ app: INestApplication; warnings: string[]; lines: string[] }> {
    const ref = await Test.createTestingModule({
      imports: [WechatPartnerPayModule.forRoot(sim.moduleOptions(options))],
      controllers: [NotifyController],
    }).compile();
    const logger = new CapturingLogger();
    app =
      adapter === 'express'
        ? ref.createNestApplication<NestExpressApplication>({ rawBody: true, logger })
        : ref.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { rawBody: true, logger });
    configure(app);
    await app.init();
    if (adapter === 'fastify') await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();
    return {
      app,
      lines: logger.lines,
      warnings: logger.lines.filter((l) => l.startsWith('WARN ') && ROUTE_CHECK.test(l)),
    };
  }

  async function deliver(target: INestApplication, path: string): Promise<number> {
    const n = sim.signedNotification('TRANSACTION.SUCCESS', transaction(sim), 'transaction');
    const res = await request(target.getHttpServer())
      .post(path)
      .set(n.headers)
      .set('Content-Type', 'application/json')
      .send(n.body);
    return res.status;
  }

  it('is silent when the notify URLs include the global prefix, which the routes really are under', async () => {
    const h = await boot(
      { notifyUrl: `${SHOP}/api/wechatpay/notify`, refundNotifyUrl: `${SHOP}/api/wechatpay/refund-notify` },
      (a) => a.setGlobalPrefix('api'),
    );
    expect(h.warnings).toEqual([]);
    expect(await deliver(h.app, '/api/wechatpay/notify')).toBe(204);
  });

  it('warns once, naming the notify URL path and the prefixed route, when the notify URL lacks the global prefix', async () => {
    const h = await boot(
      { notifyUrl: `${SHOP}/wechatpay/notify`, refundNotifyUrl: `${SHOP}/api/wechatpay/refund-notify` },
      (a) => a.setGlobalPrefix('api'),
    );
    expect(h.warnings).toHaveLength(1);
    expect(h.warnings[0]).toContain(
      'notifyUrl has the path /wechatpay/notify, which no @WechatPayNotification() POST route serves',
    );
    expect(h.warnings[0]).toContain('POST /api/wechatpay/notify (NotifyController.notify)');
    expect(h.warnings[0]).toContain("global prefix 'api'");
    // What the warning predicts: WeChat Pay's notification to that path finds no route.
    expect(await deliver(h.app, '/wechatpay/notify')).toBe(404);
  });

  it('is silent for a route excluded from the global prefix', async () => {
    const h = await boot(
      { notifyUrl: `${SHOP}/wechatpay/notify`, refundNotifyUrl: `${SHOP}/api/wechatpay/refund-notify` },
      (a) =>
        a.setGlobalPrefix('api', { exclude: [{ path: 'wechatpay/notify', method: RequestMethod.POST }] }),
    );
    expect(h.warnings).toEqual([]);
    expect(await deliver(h.app, '/wechatpay/notify')).toBe(204);
  });

  it('accounts for URI versioning', async () => {
    const versioned = (a: INestApplication) =>
      a.enableVersioning({ type: VersioningType.URI, defaultVersion: '1' });
    const ok = await boot(
      { notifyUrl: `${SHOP}/v1/wechatpay/notify`, refundNotifyUrl: `${SHOP}/v1/wechatpay/refund-notify` },
      versioned,
    );
    expect(ok.warnings).toEqual([]);
    expect(await deliver(ok.app, '/v1/wechatpay/notify')).toBe(204);
    await app!.close();
    const bad = await boot(
      { notifyUrl: `${SHOP}/wechatpay/notify`, refundNotifyUrl: `${SHOP}/v1/wechatpay/refund-notify` },
      versioned,
    );
    expect(bad.warnings).toEqual([expect.stringContaining("URI versioning adds '/v1'")]);
  });

  it('warns when refund notifications would land on a route that accepts only TRANSACTION.SUCCESS', async () => {
    const h = await boot({ notifyUrl: `${SHOP}/wechatpay/notify` }, () => undefined);
    expect(h.warnings).toEqual([
      expect.stringMatching(
        /^WARN refundNotifyUrl \(default: notifyUrl\) https:\/\/shop.example.com\/wechatpay\/notify is served by POST \/wechatpay\/notify \(NotifyController.notify\), which accepts only TRANSACTION.SUCCESS: REFUND.\* notifications/,
      ),
    ]);
  });

  it('logs the event type a route refused, without the decrypted resource', async () => {
    const h = await boot(
      { notifyUrl: `${SHOP}/wechatpay/notify`, refundNotifyUrl: `${SHOP}/wechatpay/refund-notify` },
      () => undefined,
    );
    const n = sim.signedNotification(
      'REFUND.SUCCESS',
      {
        sp_mchid: sim.credentials.spMchid,
        sub_mchid: sim.credentials.subMerchants[0].subMchid,
        transaction_id: '4200000000202405200000000002',
        out_trade_no: 'T20240520000002',
        refund_id: '50000000382019052709732678859',
        out_refund_no: 'RF_SECRET_LOOKING_1',
        refund_status: 'SUCCESS',
        success_time: '2024-05-21T13:29:35+08:00',
        user_received_account: '招商银行信用卡0403',
        amount: { total: 100, refund: 100, payer_total: 100, payer_refund: 100 },
      },
      'refund',
    );
    const res = await request(h.app.getHttpServer())
      .post('/wechatpay/notify')
      .set(n.headers)
      .set('Content-Type', 'application/json')
      .send(n.body);
    expect(res.status).toBe(400);
    const line = h.lines.find((l) => l.includes('EVENT_TYPE_NOT_ALLOWED'));
    expect(line).toContain('received REFUND.SUCCESS, accepted: TRANSACTION.SUCCESS');
    expect(h.lines.join('\n')).not.toContain('RF_SECRET_LOOKING_1');
  });

  it('can be turned off for a proxy that rewrites paths', async () => {
    const h = await boot(
      { notifyUrl: `${SHOP}/pay/wechatpay/notify`, notifications: { routeCheck: false } },
      () => undefined,
    );
    expect(h.warnings).toEqual([]);
  });
});
