/**
 * A notification route answers 415 UNSUPPORTED_CONTENT_TYPE to any Content-Type but application/json, before the
 * signature is checked and before the handler runs, on Express and Fastify. Nest keeps `rawBody` for urlencoded (and
 * on Fastify for text) bodies too, so a correctly signed body sent with another type must still be refused.
 */
import { createPrivateKey } from 'node:crypto';
import { Controller, type INestApplication, Injectable, Post } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import {
  NOTIFICATION_FAILURES,
  NotificationResource,
  type PartnerTransactionResource,
  WechatPartnerPayModule,
  WechatPayNotification,
} from 'nestjs-wechat-partner-pay';
import { buildSignedNotification, WechatPaySimulator } from 'nestjs-wechat-partner-pay/testing';

@Injectable()
class Calls {
  count = 0;
}

@Controller('wechatpay')
class NotifyController {
  constructor(private readonly calls: Calls) {}

  @Post('notify')
  @WechatPayNotification({ eventTypes: ['TRANSACTION.SUCCESS'], dedupe: false })
  paid(@NotificationResource() tx: PartnerTransactionResource): void {
    void tx;
    this.calls.count++;
  }
}

function transaction(sim: WechatPaySimulator): Record<string, unknown> {
  return {
    sp_appid: sim.credentials.spAppid,
    sp_mchid: sim.credentials.spMchid,
    sub_mchid: sim.credentials.subMerchants[0].subMchid,
    out_trade_no: 'CT20240520000001',
    transaction_id: '4200000000202405200000000077',
    trade_type: 'NATIVE',
    trade_state: 'SUCCESS',
    trade_state_desc: '支付成功',
    bank_type: 'OTHERS',
    success_time: '2024-05-20T13:29:35+08:00',
    payer: { sp_openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' },
    amount: { total: 100, payer_total: 100, currency: 'CNY', payer_currency: 'CNY' },
  };
}

describe.each(['express', 'fastify'] as const)('notification Content-Type on %s', (adapter) => {
  let sim: WechatPaySimulator;
  let app: INestApplication;
  let calls: Calls;

  beforeAll(async () => {
    sim = await WechatPaySimulator.start();
    const ref = await Test.createTestingModule({
      imports: [WechatPartnerPayModule.forRoot(sim.moduleOptions())],
      controllers: [NotifyController],
      providers: [Calls],
    }).compile();
    app =
      adapter === 'express'
        ? ref.createNestApplication<NestExpressApplication>({ rawBody: true, logger: false })
        : ref.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { rawBody: true, logger: false });
    if (adapter === 'fastify') {
      // Fastify answers 415 itself for types it has no parser for; give it one for text (Nest registers urlencoded itself, with rawBody), as an app
      // with its own text parser would, so that the request reaches the route.
      const fastify = (app as NestFastifyApplication).getHttpAdapter().getInstance();
      fastify.addContentTypeParser('text/plain', { parseAs: 'buffer' }, (req, body, done) => {
        (req as unknown as { rawBody: Buffer }).rawBody = body as Buffer;
        done(null, (body as Buffer).toString('utf8'));
      });
    }
    await app.listen(0, '127.0.0.1');
    calls = app.get(Calls);
  });
  afterAll(async () => {
    await app?.close();
    await sim?.close();
  });

  function signed(): { headers: Record<string, string>; body: string } {
    const c = sim.credentials;
    return buildSignedNotification({
      eventType: 'TRANSACTION.SUCCESS',
      resource: transaction(sim),
      associatedData: 'transaction',
      apiV3Key: c.apiV3Key,
      signingKey: createPrivateKey(c.publicKeyPrivateKeyPem),
      serial: c.publicKeyId,
    });
  }

  async function post(contentType: string) {
    const d = signed();
    const headers = { ...d.headers, 'Content-Type': contentType };
    let req = request(app.getHttpServer()).post('/wechatpay/notify');
    for (const [k, v] of Object.entries(headers)) req = req.set(k, v);
    return req.send(d.body);
  }

  it('accepts application/json (the control)', async () => {
    const res = await post('application/json');
    expect(res.status).toBe(204);
  });

  it.each(['application/x-www-form-urlencoded', 'text/plain'])('refuses a signed notification sent as %s with 415', async (type) => {
    const before = calls.count;
    const res = await post(type);
    expect(res.status).toBe(415);
    expect(res.body).toEqual({ code: 'FAIL', message: NOTIFICATION_FAILURES.UNSUPPORTED_CONTENT_TYPE.message });
    expect(calls.count).toBe(before);
  });
});
