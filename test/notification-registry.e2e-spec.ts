import { createPrivateKey, type KeyObject } from 'node:crypto';
import {
  Controller,
  createParamDecorator,
  type ExecutionContext,
  type INestApplication,
  Injectable,
  Post,
  Req,
} from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { Type } from 'class-transformer';
import { IsArray, IsInt, IsString, ValidateNested } from 'class-validator';
import request from 'supertest';
import {
  defineNotificationEvent,
  NOTIFICATION_FAILURES,
  NotificationEnvelope,
  NotificationResource,
  PartnerTransactionResource,
  WechatPartnerPayModule,
  type WechatPartnerPayModuleOptions,
  WechatPayNotification,
  type WechatPayNotificationEnvelope,
  type WechatPayNotificationFailure,
  WechatPayNotificationService,
} from 'nestjs-wechat-partner-pay';
import { buildSignedNotification, WechatPaySimulator } from 'nestjs-wechat-partner-pay/testing';

const SP_MCHID = '1230000109';
const SUB_MCHID = '1900000109';

/** A user's own DTO for combine-payment notifications (合单支付): an entry of that name replaces the built-in one. */
class CombineSubOrderAmount {
  @IsInt() total_amount!: number;
}
class CombineSubOrder {
  @IsString() mchid!: string;
  @IsString() sub_mchid!: string;
  @IsString() out_trade_no!: string;
  @IsString() transaction_id!: string;
  @IsString() trade_state!: string;
  @ValidateNested() @Type(() => CombineSubOrderAmount) amount!: CombineSubOrderAmount;
}
class CombineTransactionResource {
  @IsString() combine_appid!: string;
  @IsString() combine_mchid!: string;
  @IsString() combine_out_trade_no!: string;
  @IsArray() @ValidateNested({ each: true }) @Type(() => CombineSubOrder) sub_orders!: CombineSubOrder[];
}

const COMBINE_EVENT = defineNotificationEvent({
  name: 'combine-transaction',
  match: (eventType, _originalType, plain) =>
    eventType.startsWith('TRANSACTION.') && 'combine_out_trade_no' in plain,
  resourceClass: CombineTransactionResource,
  dedupeKey: ({ resource }) => `combine:${resource.combine_mchid}:${resource.combine_out_trade_no}`,
});

function transaction(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    sp_appid: 'wx8888888888888888',
    sp_mchid: SP_MCHID,
    sub_mchid: SUB_MCHID,
    out_trade_no: `T${Date.now()}`,
    transaction_id: `4200reg${Date.now()}${Math.random().toString().slice(2, 8)}`,
    trade_type: 'NATIVE',
    trade_state: 'SUCCESS',
    amount: { total: 100, payer_total: 100, currency: 'CNY', payer_currency: 'CNY' },
    ...overrides,
  };
}

/** A combine-payment notification resource (shape of the combine query response). */
function combine(no = `C${Date.now()}${Math.random().toString().slice(2, 8)}`): Record<string, unknown> {
  return {
    combine_appid: 'wx8888888888888888',
    combine_mchid: SP_MCHID,
    combine_out_trade_no: no,
    scene_info: { device_id: 'POS1' },
    sub_orders: [
      {
        mchid: SP_MCHID,
        sub_mchid: SUB_MCHID,
        trade_type: 'NATIVE',
        trade_state: 'SUCCESS',
        transaction_id: `4200sub${no}`,
        out_trade_no: `${no}-1`,
        amount: { total_amount: 10, payer_amount: 10, currency: 'CNY', payer_currency: 'CNY' },
      },
    ],
    combine_payer_info: { openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' },
  };
}

/** Another custom parameter decorator, next to the notification ones: Nest must still resolve it. */
const ShopTag = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext) =>
    String(ctx.switchToHttp().getRequest<{ headers: Record<string, string> }>().headers['x-shop-tag'] ?? ''),
);

@Injectable()
class Calls {
  payments: PartnerTransactionResource[] = [];
  combines: CombineTransactionResource[] = [];
  mixed: object[] = [];
  tagged: Array<[string, string, string, boolean]> = [];
  reset(): void {
    this.payments = [];
    this.combines = [];
    this.mixed = [];
    this.tagged = [];
  }
}

@Controller('wechatpay')
class RegistryController {
  constructor(private readonly calls: Calls) {}

  // No `resources`: the built-in kinds with acceptedByDefault (partner transactions and refunds) only.
  @Post('pay')
  @WechatPayNotification('TRANSACTION.SUCCESS')
  pay(@NotificationResource() tx: PartnerTransactionResource): void {
    this.calls.payments.push(tx);
  }

  @Post('combine')
  @WechatPayNotification({ eventTypes: ['TRANSACTION.SUCCESS'], resources: ['combine-transaction'] })
  combine(@NotificationResource() c: CombineTransactionResource): void {
    this.calls.combines.push(c);
  }

  @Post('both')
  @WechatPayNotification({ resources: ['partner-transaction', 'combine-transaction'] })
  both(@NotificationResource() r: object): void {
    this.calls.mixed.push(r);
  }

  @Post('misconfigured')
  @WechatPayNotification({ resources: ['combine-transactoin'] })
  misconfigured(): void {}

  @Post('tagged')
  @WechatPayNotification('TRANSACTION.SUCCESS')
  tagged(
    @ShopTag() tag: string,
    @NotificationResource() tx: PartnerTransactionResource,
    @NotificationEnvelope() envelope: WechatPayNotificationEnvelope,
    @Req() req: { headers: object },
  ): void {
    this.calls.tagged.push([tag, tx.transaction_id, envelope.event_type, typeof req.headers === 'object']);
  }
}

type Adapter = 'express' | 'fastify';

async function start(adapter: Adapter, options: WechatPartnerPayModuleOptions): Promise<INestApplication> {
  const ref = await Test.createTestingModule({
    imports: [WechatPartnerPayModule.forRoot(options)],
    controllers: [RegistryController],
    providers: [Calls],
  }).compile();
  const app =
    adapter === 'express'
      ? ref.createNestApplication<NestExpressApplication>({ rawBody: true, logger: false })
      : ref.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { rawBody: true, logger: false });
  await app.listen(0, '127.0.0.1');
  return app;
}

describe.each<Adapter>(['express', 'fastify'])('notification event registry on %s', (adapter) => {
  let sim: WechatPaySimulator;
  let plain: INestApplication;
  let registered: INestApplication;
  let signingKey: KeyObject;

  beforeAll(async () => {
    sim = await WechatPaySimulator.start();
    signingKey = createPrivateKey(sim.credentials.publicKeyPrivateKeyPem);
    plain = await start(adapter, sim.moduleOptions());
    registered = await start(adapter, { ...sim.moduleOptions(), notifications: { events: [COMBINE_EVENT] } });
  });
  afterAll(async () => {
    await plain?.close();
    await registered?.close();
    await sim?.close();
  });
  beforeEach(() => {
    plain.get(Calls).reset();
    registered.get(Calls).reset();
  });

  const signed = (resource: object, eventType = 'TRANSACTION.SUCCESS', originalType?: string) =>
    buildSignedNotification({
      eventType,
      resource,
      apiV3Key: sim.credentials.apiV3Key,
      signingKey,
      serial: sim.credentials.publicKeyId,
      originalType,
    });
  const post = (app: INestApplication, path: string, n: { headers: Record<string, string>; body: string }) =>
    request(app.getHttpServer()).post(`/wechatpay/${path}`).set(n.headers).send(n.body);
  const failure = (reason: WechatPayNotificationFailure) => ({
    code: 'FAIL',
    message: NOTIFICATION_FAILURES[reason].message,
  });
  const handled = (app: INestApplication) => {
    const c = app.get(Calls);
    return c.payments.length + c.combines.length + c.mixed.length + c.tagged.length;
  };

  // A combine payment is a built-in kind now (combine-orders.events.ts): test/combine-orders-notifications.e2e-spec.ts
  // shows that it never reaches a route that does not list it. So is profit sharing (profit-sharing.events.ts):
  // test/profit-sharing.e2e-spec.ts posts both of its shapes to a payment route (400, handler not called).
  it.each([
    ['a partner transaction with another original_type', () => signed(transaction(), 'TRANSACTION.SUCCESS', 'profitsharing')],
    ['an event no entry knows', () => signed({ sp_mchid: SP_MCHID, withdraw_id: 'W1' }, 'MCHWITHDRAW.CHANGE', 'mch_withdraw')],
  ])('rejects %s with 400 UNKNOWN_RESOURCE_SHAPE when no entry recognises it; the handler is not called', async (_name, build) => {
    for (const path of ['pay', 'both']) {
      const res = await post(plain, path, build());
      expect(res.status).toBe(400);
      expect(res.body).toEqual(failure('UNKNOWN_RESOURCE_SHAPE'));
    }
    expect(handled(plain)).toBe(0);
  });

  it('hands a resource of a user-registered kind to a route that lists it, as an instance of its class, once', async () => {
    const resource = combine();
    const n = signed(resource);
    await post(registered, 'combine', n).expect(204);
    await post(registered, 'combine', n).expect(204);
    // Another delivery of the same combine order (new notification id): the entry's key makes it a duplicate.
    await post(registered, 'combine', signed(resource)).expect(204);
    const { combines } = registered.get(Calls);
    expect(combines).toHaveLength(1);
    expect(combines[0]).toBeInstanceOf(CombineTransactionResource);
    expect(combines[0].sub_orders[0]).toBeInstanceOf(CombineSubOrder);
    expect(combines[0].combine_out_trade_no).toBe(resource.combine_out_trade_no);
    const service = registered.get(WechatPayNotificationService);
    const parsed = await service.parse(n.headers, n.body);
    expect(parsed.kind).toBe('combine-transaction');
    expect(service.dedupeKey(parsed)).toBe(`combine:${SP_MCHID}:${String(resource.combine_out_trade_no)}`);
  });

  it('validates a user-registered kind with its class: INVALID_RESOURCE, handler not called', async () => {
    const resource = combine();
    (resource.sub_orders as Array<Record<string, unknown>>)[0].amount = { total_amount: '10' };
    const res = await post(registered, 'combine', signed(resource));
    expect(res.status).toBe(400);
    expect(res.body).toEqual(failure('INVALID_RESOURCE'));
    expect(handled(registered)).toBe(0);
  });

  it('gives a route only the kinds it accepts: 400 RESOURCE_KIND_NOT_ALLOWED otherwise, handler not called', async () => {
    // The payment route lists no resources: a kind registered later never reaches it.
    let res = await post(registered, 'pay', signed(combine()));
    expect(res.status).toBe(400);
    expect(res.body).toEqual(failure('RESOURCE_KIND_NOT_ALLOWED'));
    res = await post(registered, 'combine', signed(transaction()));
    expect(res.status).toBe(400);
    expect(res.body).toEqual(failure('RESOURCE_KIND_NOT_ALLOWED'));
    expect(handled(registered)).toBe(0);
    // A route naming a kind that is not registered accepts nothing.
    res = await post(registered, 'misconfigured', signed(combine()));
    expect(res.body).toEqual(failure('RESOURCE_KIND_NOT_ALLOWED'));

    // Listed kinds are accepted, each as its own class; the payment route still gets partner transactions.
    await post(registered, 'both', signed(combine())).expect(204);
    await post(registered, 'both', signed(transaction())).expect(204);
    await post(registered, 'pay', signed(transaction())).expect(204);
    const calls = registered.get(Calls);
    expect(calls.mixed.map((r) => r.constructor)).toEqual([CombineTransactionResource, PartnerTransactionResource]);
    expect(calls.payments[0]).toBeInstanceOf(PartnerTransactionResource);
  });

  it('resolves other custom parameter decorators and @Req() next to the notification ones', async () => {
    const tx = transaction();
    const n = signed(tx);
    await request(plain.getHttpServer())
      .post('/wechatpay/tagged')
      .set({ ...n.headers, 'X-Shop-Tag': 'north' })
      .send(n.body)
      .expect(204);
    expect(plain.get(Calls).tagged).toEqual([['north', tx.transaction_id, 'TRANSACTION.SUCCESS', true]]);
  });
});

describe('@WechatPayNotification() and Nest metadata', () => {
  it('leaves the method and the metadata other decorators wrote on it untouched', () => {
    class Probe {
      handle(_tag: string, _tx: PartnerTransactionResource, _req: object): string {
        return 'ran';
      }
    }
    const original = Probe.prototype.handle;
    ShopTag()(Probe.prototype, 'handle', 0);
    NotificationResource()(Probe.prototype, 'handle', 1);
    Req()(Probe.prototype, 'handle', 2);
    const snapshot = (target: object, key?: string) => {
      const keys: unknown[] = key ? Reflect.getOwnMetadataKeys(target, key) : Reflect.getOwnMetadataKeys(target);
      const value = (k: unknown): unknown =>
        key ? Reflect.getOwnMetadata(k, target, key) : Reflect.getOwnMetadata(k, target);
      return new Map(keys.map((k) => [k, JSON.stringify(value(k))]));
    };
    const onClass = snapshot(Probe, 'handle');
    const onMethod = snapshot(original);
    const descriptor = Object.getOwnPropertyDescriptor(Probe.prototype, 'handle')!;
    const result = WechatPayNotification('TRANSACTION.SUCCESS')(Probe.prototype, 'handle', descriptor);
    if (result) Object.defineProperty(Probe.prototype, 'handle', result);

    expect(Probe.prototype.handle).toBe(original);
    expect(snapshot(Probe, 'handle')).toEqual(onClass);
    // Only keys that were not there before are added (the decorator's own metadata), none is changed.
    const after = snapshot(original);
    for (const [k, v] of onMethod) expect(after.get(k)).toBe(v);
    expect(new Probe().handle('t', {} as PartnerTransactionResource, {})).toBe('ran');
  });
});

describe('notifications.events module option', () => {
  it('is checked at boot, with every problem listed', async () => {
    const sim = await WechatPaySimulator.start();
    try {
      const bad = [
        { name: '', match: 'yes', dedupeKey: () => 'k' },
        { name: 'dup', match: () => true, dedupeKey: () => 'k' },
        { name: 'dup', match: () => true, resourceClass: 'Combine' },
      ] as unknown as NonNullable<WechatPartnerPayModuleOptions['notifications']>['events'];
      const compiled = Test.createTestingModule({
        imports: [WechatPartnerPayModule.forRoot({ ...sim.moduleOptions(), notifications: { events: bad } })],
      }).compile();
      await expect(compiled).rejects.toThrow(
        /notifications\.events\[0\]\.name must be a non-empty string[\s\S]*notifications\.events\[0\]\.match must be a function[\s\S]*notifications\.events\[2\]\.name "dup" is used by an earlier entry[\s\S]*notifications\.events\[2\]\.dedupeKey must be a function[\s\S]*notifications\.events\[2\]\.resourceClass must be a class/,
      );
    } finally {
      await sim.close();
    }
  });
});
