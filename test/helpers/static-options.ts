import { generateKeyPairSync } from 'node:crypto';
import type { WechatPartnerPayModuleOptions } from 'nestjs-wechat-partner-pay';

const merchant = generateKeyPairSync('rsa', { modulusLength: 2048 });
const platform = generateKeyPairSync('rsa', { modulusLength: 2048 });

/** Valid module options that need no network (public key mode), for registration tests. */
export function staticOptions(overrides: Partial<WechatPartnerPayModuleOptions> = {}): WechatPartnerPayModuleOptions {
  return {
    product: 'partner',
    spMchid: '1230000109',
    spAppid: 'wx8888888888888888',
    merchantSerialNo: '1DDE55AD98ED71D6EDD4A4A16996DE7B47773A8C',
    privateKey: merchant.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    apiV3Key: '0123456789abcdefABCDEF0123456789',
    verification: {
      mode: 'publicKey',
      publicKeyId: 'PUB_KEY_ID_0000000000000024101100397200000006',
      publicKey: platform.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    },
    baseUrl: 'http://127.0.0.1:9',
    ...overrides,
  };
}
