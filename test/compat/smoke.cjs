// Boots WechatPartnerPayModule from the packed tarball against the embedded simulator and does a real
// create → pay → query → close round trip. Run by run-compat.sh inside a folder with one Nest major installed.
require('reflect-metadata');
const { Module } = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');
const { WechatPartnerPayModule, WechatPayOrdersService } = require('nestjs-wechat-partner-pay');
const { WechatPaySimulator } = require('nestjs-wechat-partner-pay/testing');

function version(pkg) {
  // ESM-only majors do not export ./package.json: read it beside the resolved entry point.
  const { readFileSync } = require('node:fs');
  const { dirname, join } = require('node:path');
  let dir = dirname(require.resolve(pkg));
  while (!require('node:fs').existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version;
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
    console.log(`ok: @nestjs/common ${version('@nestjs/common')}, @nestjs/core ${version('@nestjs/core')}, @nestjs/axios ${version('@nestjs/axios')}`);
  } finally {
    await app.close();
    await sim.close();
  }
}

main().catch((e) => {
  console.error('compat smoke failed:', e);
  process.exit(1);
});
