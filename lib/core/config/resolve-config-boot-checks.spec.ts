import { generateKeyPairSync } from 'node:crypto';
import { WechatPayConfigError } from '../errors/wechat-pay.errors';
import type { WechatPartnerPayModuleOptions } from '../../interfaces';
import { buildCertificatePem } from '../../testing/x509-builder';
import { notifyUrlOptions, resolveWechatPayConfig } from './resolve-config';

const merchant = generateKeyPairSync('rsa', { modulusLength: 2048 });
const platform = generateKeyPairSync('rsa', { modulusLength: 2048 });
const short = generateKeyPairSync('rsa', { modulusLength: 1024 });
const pkcs8 = (k: typeof merchant.privateKey) => k.export({ type: 'pkcs8', format: 'pem' }).toString();
const spki = (k: typeof merchant.publicKey) => k.export({ type: 'spki', format: 'pem' }).toString();
const PUB_KEY_ID = 'PUB_KEY_ID_0000000000000024101100397200000006';

function certificate(key: typeof merchant, serialHex = '3775B6A45ACD588826D15E583A95F5DD'): string {
  return buildCertificatePem({
    publicKey: key.publicKey,
    signingKey: key.privateKey,
    serialHex,
    notBefore: new Date(Date.now() - 86_400_000),
    notAfter: new Date(Date.now() + 86_400_000),
    subject: { commonName: 'test' },
  });
}

function options(overrides: Record<string, unknown> = {}): WechatPartnerPayModuleOptions {
  return {
    spMchid: '1230000109',
    product: 'partner',
    spAppid: 'wx8888888888888888',
    merchantSerialNo: '1DDE55AD98ED71D6EDD4A4A16996DE7B47773A8C',
    privateKey: pkcs8(merchant.privateKey),
    apiV3Key: '0123456789abcdefABCDEF0123456789',
    verification: { mode: 'publicKey', publicKeyId: PUB_KEY_ID, publicKey: spki(platform.publicKey) },
    ...overrides,
  } as WechatPartnerPayModuleOptions;
}

function problemsOf(o: WechatPartnerPayModuleOptions): string[] {
  try {
    resolveWechatPayConfig(o);
  } catch (e) {
    expect(e).toBeInstanceOf(WechatPayConfigError);
    return [...(e as WechatPayConfigError).problems];
  }
  throw new Error('expected a WechatPayConfigError');
}

describe('boot checks of resolveWechatPayConfig', () => {
  it('refuses RSA keys under 2048 bits: private key, public key, merchant and trusted certificates', () => {
    const problems = problemsOf(
      options({
        privateKey: pkcs8(short.privateKey),
        merchantSerialNo: undefined,
        merchantCertificate: certificate(short),
        verification: {
          mode: 'both',
          publicKeyId: PUB_KEY_ID,
          publicKey: spki(short.publicKey),
          certificates: [certificate(short, '01')],
        },
      }),
    );
    expect(problems).toEqual([
      expect.stringMatching(/^privateKey is a 1024-bit RSA key/),
      expect.stringMatching(/^merchantCertificate is a 1024-bit RSA key/),
      expect.stringMatching(/^verification.publicKey is a 1024-bit RSA key/),
      expect.stringMatching(/^verification.certificates\[0\] is a 1024-bit RSA key/),
    ]);
  });

  it('refuses a private key or a certificate given as verification.publicKey, saying what was given', () => {
    expect(
      problemsOf(
        options({
          verification: { mode: 'publicKey', publicKeyId: PUB_KEY_ID, publicKey: pkcs8(merchant.privateKey) },
        }),
      ),
    ).toEqual([
      expect.stringMatching(
        /^verification.publicKey is a private key .*the same as privateKey.*expected the WeChat Pay public key pub_key.pem/,
      ),
    ]);
    expect(
      problemsOf(
        options({
          verification: { mode: 'both', publicKeyId: PUB_KEY_ID, publicKey: certificate(platform) },
        }),
      ),
    ).toEqual([expect.stringMatching(/^verification.publicKey is an X.509 certificate/)]);
  });

  it('collects unknown keys with the other problems in one error', () => {
    const problems = problemsOf(options({ apiv3Key: 'x', spAppid: '' }));
    expect(problems).toEqual([
      'unknown option "apiv3Key": did you mean apiV3Key?',
      expect.stringMatching(/^spAppid must be/),
    ]);
  });

  it('says verification is required, with the three modes', () => {
    const [problem] = problemsOf(options({ verification: undefined }));
    expect(problem).toMatch(/^verification is required/);
    expect(problem).toMatch(/'publicKey'.*'platformCertificate'.*'both'/);
  });

  it('defaults refundNotifyUrl to notifyUrl and validates it like notifyUrl', () => {
    const same = resolveWechatPayConfig(options({ notifyUrl: 'https://shop.example.com/pay/notify' }));
    expect(same.refundNotifyUrl).toBe('https://shop.example.com/pay/notify');
    expect(notifyUrlOptions(same).map((u) => u.option)).toEqual([
      'notifyUrl',
      'refundNotifyUrl (default: notifyUrl)',
    ]);
    const own = resolveWechatPayConfig(
      options({
        notifyUrl: 'https://shop.example.com/pay/notify',
        refundNotifyUrl: 'https://shop.example.com/refund/notify',
      }),
    );
    expect(own.refundNotifyUrl).toBe('https://shop.example.com/refund/notify');
    expect(problemsOf(options({ refundNotifyUrl: 'http://shop.example.com/refund?id=1' }))).toEqual([
      expect.stringMatching(/^refundNotifyUrl must not contain a query string/),
    ]);
  });

  it('resolves verifyOnBoot and notifications.routeCheck', () => {
    expect(resolveWechatPayConfig(options()).verifyOnBoot).toBeUndefined();
    expect(resolveWechatPayConfig(options({ verifyOnBoot: true })).verifyOnBoot).toEqual({
      subMchid: '1230000109',
    });
    expect(
      resolveWechatPayConfig(options({ verifyOnBoot: { subMchid: '1900000109' } })).verifyOnBoot,
    ).toEqual({ subMchid: '1900000109' });
    expect(problemsOf(options({ verifyOnBoot: { subMchid: 'abc' } }))).toEqual([
      expect.stringMatching(/^verifyOnBoot.subMchid must be/),
    ]);
    expect(resolveWechatPayConfig(options()).notifications.routeCheck).toBe(true);
    expect(
      resolveWechatPayConfig(options({ notifications: { routeCheck: false } })).notifications.routeCheck,
    ).toBe(false);
  });
});
