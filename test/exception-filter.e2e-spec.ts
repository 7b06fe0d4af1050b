/**
 * WechatPayExceptionFilter on Express and Fastify: the package's errors thrown from a user's own routes become HTTP
 * answers by meaning (not 500 "Internal server error"), against the real simulator and its injected faults, and the
 * bodies carry no secret, header or WeChat Pay free text.
 */
import { Body, Controller, Get, type INestApplication, Param, Post } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import {
  type PartnerNativePrepayRequest,
  WechatPartnerPayModule,
  WechatPayConfigError,
  WechatPayExceptionFilter,
  WechatPayOrdersService,
} from 'nestjs-wechat-partner-pay';
import { WechatPaySimulator } from 'nestjs-wechat-partner-pay/testing';

let SUB = '';

@Controller('shop')
class ShopController {
  constructor(private readonly orders: WechatPayOrdersService) {}

  @Post('orders')
  create(@Body() body: PartnerNativePrepayRequest): Promise<unknown> {
    return this.orders.nativePrepay(body);
  }

  @Get('orders/:no')
  query(@Param('no') no: string): Promise<unknown> {
    return this.orders.queryByOutTradeNo({ out_trade_no: no, sub_mchid: SUB });
  }

  @Get('misconfigured')
  misconfigured(): never {
    throw new WechatPayConfigError(['apiV3Key must be exactly 32 bytes, got 31']);
  }

  @Get('plain')
  plain(): never {
    throw new Error('not ours');
  }
}

type Adapter = 'express' | 'fastify';

describe.each<Adapter>(['express', 'fastify'])('WechatPayExceptionFilter on %s', (adapter) => {
  let sim: WechatPaySimulator;
  let app: INestApplication;
  const http = () => request(app.getHttpServer());

  beforeAll(async () => {
    sim = await WechatPaySimulator.start();
    SUB = sim.credentials.subMerchants[0].subMchid;
    const ref = await Test.createTestingModule({
      imports: [
        WechatPartnerPayModule.forRoot(
          sim.moduleOptions({
            notifyUrl: 'https://shop.example.com/wechatpay/notify',
            retry: { attempts: 1 },
            timeoutMs: 300,
          }),
        ),
      ],
      controllers: [ShopController],
      providers: [{ provide: APP_FILTER, useClass: WechatPayExceptionFilter }],
    }).compile();
    app =
      adapter === 'express'
        ? ref.createNestApplication<NestExpressApplication>({ logger: false })
        : ref.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: false });
    await app.init();
    if (adapter === 'fastify') await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();
  });
  afterEach(() => sim.faults.clear());
  afterAll(async () => {
    await app?.close();
    await sim?.close();
  });

  const QUERY = '/v3/pay/partner/transactions/out-trade-no/';

  it('answers a validation error with 400 and the problems, nothing sent', async () => {
    const before = sim.requests.length;
    const res = await http()
      .post('/shop/orders')
      .send({ sub_mchid: SUB, description: 'x', out_trade_no: 'FILTER_0001', amount: { total: 0 } });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({
      statusCode: 400,
      error: 'Bad Request',
      code: 'VALIDATION_FAILED',
      retryable: false,
    });
    expect(res.body.problems).toEqual(
      expect.arrayContaining([expect.objectContaining({ field: 'amount.total' })]),
    );
    expect(sim.requests.length).toBe(before);
  });

  it('answers an unknown order with 404 and the WeChat Pay code and Request-ID', async () => {
    const res = await http().get('/shop/orders/FILTER_NOPE_0001');
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({
      statusCode: 404,
      code: 'ORDER_NOT_EXIST',
      retryable: false,
      requestId: expect.stringMatching(/^[0-9A-F]+-\d+$/),
    });
  });

  it.each([
    [{ status: 500 }, 503, 'SYSTEM_ERROR', true],
    [{ status: 429 }, 503, 'FREQUENCY_LIMITED', true],
    [{ status: 403, code: 'OUT_TRADE_NO_USED' }, 409, 'OUT_TRADE_NO_USED', false],
    [{ status: 400, code: 'PARAM_ERROR' }, 400, 'PARAM_ERROR', false],
    [{ status: 401, code: 'SIGN_ERROR' }, 502, 'SIGN_ERROR', false],
    [{ status: 403, code: 'NO_AUTH' }, 502, 'NO_AUTH', false],
  ])('maps WeChat Pay %j to %i', async (fault, status, code, retryable) => {
    sim.faults.next({ path: QUERY, ...fault, message: 'WeChat free text 1900000109 do-not-echo' });
    const res = await http().get('/shop/orders/FILTER_FAULT_0001');
    expect(res.status).toBe(status);
    expect(res.body).toMatchObject({ statusCode: status, code, retryable });
    expect(JSON.stringify(res.body)).not.toContain('do-not-echo');
  });

  it('answers a network failure with 503 and a timeout with 504, the outcome unknown', async () => {
    sim.faults.next({ path: QUERY, resetConnection: true });
    const reset = await http().get('/shop/orders/FILTER_NET_0001');
    expect(reset.status).toBe(503);
    expect(reset.body).toMatchObject({ code: 'WECHATPAY_UNREACHABLE', retryable: true });
    sim.faults.next({ path: QUERY, delayMs: 2000 });
    const slow = await http().get('/shop/orders/FILTER_NET_0002');
    expect(slow.status).toBe(504);
    expect(slow.body).toMatchObject({ code: 'WECHATPAY_TIMEOUT', retryable: true });
    expect(JSON.stringify([reset.body, slow.body])).not.toMatch(/127\.0\.0\.1|Authorization|WECHATPAY2/);
  });

  it('answers a response that fails verification with 502', async () => {
    sim.faults.next({ path: '/v3/pay/partner/transactions/native', badSignature: true });
    const res = await http()
      .post('/shop/orders')
      .send({ sub_mchid: SUB, description: 'x', out_trade_no: 'FILTER_SIG_0001', amount: { total: 1 } });
    expect(res.status).toBe(502);
    expect(res.body).toMatchObject({ code: 'WECHATPAY_BAD_SIGNATURE' });
  });

  it('answers a configuration error with 500 without the problems', async () => {
    const res = await http().get('/shop/misconfigured');
    expect(res.status).toBe(500);
    expect(res.body).toMatchObject({ statusCode: 500, code: 'WECHATPAY_MISCONFIGURED' });
    expect(JSON.stringify(res.body)).not.toContain('apiV3Key');
  });

  it("leaves other errors to Nest's own handling", async () => {
    const res = await http().get('/shop/plain');
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ statusCode: 500, message: 'Internal server error' });
  });
});
