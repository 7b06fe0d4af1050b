// Boots WechatPartnerPayModule from the packed tarball against the embedded simulator and does a real
// create → pay → query → close round trip. Run by run-compat.sh inside a folder with one Nest major installed.
require('reflect-metadata');
const { Controller, Module, Post } = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');
const {
  NotificationEnvelope,
  NotificationResource,
  PartnerTransactionResource,
  WechatPartnerPayModule,
  WechatPayNotification,
  WechatPayOrdersService,
} = require('nestjs-wechat-partner-pay');
const { WechatPaySimulator } = require('nestjs-wechat-partner-pay/testing');
// The /crypto subpath resolves through the exports map too.
const { rsaSign, WechatPayVerifier } = require('nestjs-wechat-partner-pay/crypto');
if (typeof rsaSign !== 'function' || typeof WechatPayVerifier !== 'function') throw new Error('nestjs-wechat-partner-pay/crypto is incomplete');

function version(pkg) {
  // ESM-only majors do not export ./package.json: read it beside the resolved entry point.
  const { readFileSync } = require('node:fs');
  const { dirname, join } = require('node:path');
  let dir = dirname(require.resolve(pkg));
  while (!require('node:fs').existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version;
}

/** A notification controller, decorated the way TypeScript's emitted code does it (parameters first). */
const received = [];
class NotifyController {
  paid(envelope, tx) {
    received.push({ envelope, tx });
  }
}
function decorateController() {
  const proto = NotifyController.prototype;
  const descriptor = Object.getOwnPropertyDescriptor(proto, 'paid');
  const decorated = Reflect.decorate(
    [
      Post('notify'),
      WechatPayNotification('TRANSACTION.SUCCESS'),
      (target, key) => NotificationEnvelope()(target, key, 0),
      (target, key) => NotificationResource()(target, key, 1),
      Reflect.metadata('design:paramtypes', [Object, PartnerTransactionResource]),
    ],
    proto,
    'paid',
    descriptor,
  );
  Object.defineProperty(proto, 'paid', decorated);
  Controller('wechatpay')(NotifyController);
}

/** The notification route on Express: verified, decrypted, typed, and handled once. */
async function notificationRoundTrip(sim) {
  decorateController();
  class NotifyModule {}
  Module({ imports: [WechatPartnerPayModule.forRoot(sim.moduleOptions())], controllers: [NotifyController] })(NotifyModule);
  const app = await NestFactory.create(NotifyModule, { rawBody: true, logger: false });
  await app.listen(0, '127.0.0.1');
  try {
    const url = `${(await app.getUrl()).replace('[::1]', '127.0.0.1')}/wechatpay/notify`;
    const resource = {
      sp_appid: sim.credentials.spAppid,
      sp_mchid: sim.credentials.spMchid,
      sub_mchid: sim.credentials.subMerchants[0].subMchid,
      out_trade_no: 'COMPAT_N_0001',
      transaction_id: '4200000000202405200000000001',
      trade_state: 'SUCCESS',
      amount: { total: 1, payer_total: 1, currency: 'CNY', payer_currency: 'CNY' },
    };
    const n = sim.signedNotification('TRANSACTION.SUCCESS', resource);
    for (let i = 0; i < 2; i++) {
      const res = await fetch(url, { method: 'POST', headers: n.headers, body: n.body });
      if (res.status !== 204) throw new Error(`notification answered ${res.status}: ${await res.text()}`);
    }
    if (received.length !== 1) throw new Error(`handler ran ${received.length} times for one notification`);
    const [{ envelope, tx }] = received;
    if (!(tx instanceof PartnerTransactionResource) || tx.transaction_id !== resource.transaction_id)
      throw new Error('handler did not get a typed PartnerTransactionResource');
    if (envelope.event_type !== 'TRANSACTION.SUCCESS') throw new Error('handler did not get the envelope');
  } finally {
    await app.close();
  }
}

async function main() {
  const sim = await WechatPaySimulator.start();
  const sub = sim.credentials.subMerchants[0].subMchid;
  class AppModule {}
  Module({ imports: [WechatPartnerPayModule.forRoot({ ...sim.moduleOptions(), notifyUrl: 'https://shop.example.com/notify' })] })(AppModule);
  const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
  try {
    const orders = app.get(WechatPayOrdersService);
    const { code_url } = await orders.nativePrepay({ sub_mchid: sub, description: 'compat', out_trade_no: 'COMPAT_0001', amount: { total: 1 } });
    if (!code_url.startsWith('weixin://')) throw new Error('no code_url');
    await sim.pay('COMPAT_0001', { sub_mchid: sub });
    const tx = await orders.queryByOutTradeNo('COMPAT_0001', sub);
    if (tx.trade_state !== 'SUCCESS') throw new Error(`trade_state ${tx.trade_state}`);
    await orders.nativePrepay({ sub_mchid: sub, description: 'compat', out_trade_no: 'COMPAT_0002', amount: { total: 1 } });
    await orders.close('COMPAT_0002', sub);
    await notificationRoundTrip(sim);
    console.log(`ok (orders, notification route): @nestjs/common ${version('@nestjs/common')}, @nestjs/core ${version('@nestjs/core')}, @nestjs/axios ${version('@nestjs/axios')}`);
  } finally {
    await app.close();
    await sim.close();
  }
}

main().catch((e) => {
  console.error('compat smoke failed:', e);
  process.exit(1);
});
