import { createDecipheriv, generateKeyPairSync, type KeyObject, verify } from 'node:crypto';
import {
  resolveWechatPayConfig,
  type WechatPartnerPayModuleOptions,
  WechatPayKeyStore,
  PartnerTransactionResource,
  WechatPayNotificationService,
  WechatPayVerifier,
} from '../lib';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { readResource } from '../lib/core/notify/resource-reader';
import { buildSignedNotification, type SignedNotification } from '../lib/testing';
import { comparePaired, opsPerSecondAsync, opsPerSecondSync, pairedLine } from './harness';

const PUBLIC_KEY_ID = 'PUB_KEY_ID_0000000000000024101100397200000006';
const API_V3_KEY = '0123456789abcdefABCDEF0123456789';

/** A paid partner transaction as WeChat Pay sends it (spec §6.1). */
function sampleTransaction(i: number): Record<string, unknown> {
  return {
    sp_appid: 'wx8888888888888888',
    sp_mchid: '1230000109',
    sub_mchid: '1900000109',
    out_trade_no: `T2024${String(i).padStart(8, '0')}`,
    transaction_id: `42000000002024${String(i).padStart(14, '0')}`,
    trade_type: 'NATIVE',
    trade_state: 'SUCCESS',
    trade_state_desc: '支付成功',
    bank_type: 'CMC',
    attach: '',
    success_time: '2024-05-20T13:29:35+08:00',
    payer: { sp_openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' },
    amount: { total: 100, payer_total: 100, currency: 'CNY', payer_currency: 'CNY' },
  };
}

/** Keys, module options, signed notifications and the raw node:crypto pipeline, shared by the notification benches. */
export interface NotificationBenchFixture {
  options: WechatPartnerPayModuleOptions;
  platformPublicKey: KeyObject;
  /** The i-th distinct TRANSACTION.SUCCESS notification, signed now. */
  notification(i: number): SignedNotification;
  /** The limit: verify with a KeyObject, JSON.parse, AES-256-GCM decrypt, JSON.parse. Throws when invalid. */
  rawPipeline(headers: Record<string, string | string[] | undefined>, raw: Buffer): unknown;
}

/** Builds the fixture. */
export function notificationBenchFixture(): NotificationBenchFixture {
  const platform = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const merchant = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const apiV3Key = Buffer.from(API_V3_KEY);
  const header = (headers: Record<string, string | string[] | undefined>, name: string): string =>
    String(headers[name] ?? '');
  return {
    options: {
      spMchid: '1230000109',
      spAppid: 'wx8888888888888888',
      merchantSerialNo: '1DDE55AD98ED71D6EDD4A4A16996DE7B47773A8C',
      privateKey: merchant.privateKey,
      apiV3Key: API_V3_KEY,
      verification: { mode: 'publicKey', publicKeyId: PUBLIC_KEY_ID, publicKey: platform.publicKey },
    },
    platformPublicKey: platform.publicKey,
    notification: (i) =>
      buildSignedNotification({
        eventType: 'TRANSACTION.SUCCESS',
        resource: sampleTransaction(i),
        apiV3Key: API_V3_KEY,
        signingKey: platform.privateKey,
        serial: PUBLIC_KEY_ID,
      }),
    rawPipeline(headers, raw) {
      const prefix = Buffer.from(
        `${header(headers, 'wechatpay-timestamp')}\n${header(headers, 'wechatpay-nonce')}\n`,
      );
      const signature = Buffer.from(header(headers, 'wechatpay-signature'), 'base64');
      if (!verify('sha256', Buffer.concat([prefix, raw, Buffer.from('\n')]), platform.publicKey, signature))
        throw new Error('bad signature');
      const body = JSON.parse(raw.toString('utf8'));
      const data = Buffer.from(body.resource.ciphertext, 'base64');
      const decipher = createDecipheriv('aes-256-gcm', apiV3Key, Buffer.from(body.resource.nonce));
      decipher.setAuthTag(data.subarray(-16));
      decipher.setAAD(Buffer.from(body.resource.associated_data));
      return JSON.parse(
        Buffer.concat([decipher.update(data.subarray(0, -16)), decipher.final()]).toString('utf8'),
      );
    },
  };
}

/** Lower-cased header names, as Node gives them. */
export function lowerCaseHeaders(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}

/** parse() against the raw pipeline (verify with a KeyObject, AES-GCM decrypt, JSON.parse) in the same run. */
export async function main(): Promise<string[]> {
  const f = notificationBenchFixture();
  const config = resolveWechatPayConfig(f.options);
  const keys = new WechatPayKeyStore();
  keys.add({ serial: PUBLIC_KEY_ID, key: f.platformPublicKey, kind: 'publicKey' });
  const service = new WechatPayNotificationService(config, new WechatPayVerifier(keys));
  const n = f.notification(1);
  const raw = Buffer.from(n.body);
  const headers = lowerCaseHeaders(n.headers);
  const ms = 200;
  const r = await comparePaired(
    () => opsPerSecondAsync(() => service.parse(headers, raw), ms, 1),
    () => opsPerSecondSync(() => f.rawPipeline(headers, raw), ms),
    21,
  );
  // The fast path of resource validation against class-transformer + class-validator called directly.
  const plain = JSON.parse(JSON.stringify(sampleTransaction(1))) as Record<string, unknown>;
  const v = await comparePaired(
    () => opsPerSecondSync(() => readResource(PartnerTransactionResource, plain), ms),
    () =>
      opsPerSecondSync(
        () => validateSync(plainToInstance(PartnerTransactionResource, plain), { forbidUnknownValues: true }),
        ms,
      ),
    21,
  );
  return [
    pairedLine('notification parse() vs verify+decrypt+JSON.parse', r),
    pairedLine('resource fast path vs plainToInstance+validateSync', v),
  ];
}

if (require.main === module) {
  main().then(
    (lines) => console.log(lines.join('\n')),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
