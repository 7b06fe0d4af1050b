import { generateKeyPairSync } from 'node:crypto';
import { WechatPayConfigError } from '../errors/wechat-pay.errors';
import type { WechatPartnerPayModuleOptions } from '../../interfaces';
import { notifyUrlProblem, notifyUrlWarning, resolveWechatPayConfig } from './resolve-config';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();

function validOptions(overrides: Partial<WechatPartnerPayModuleOptions> = {}): WechatPartnerPayModuleOptions {
  return {
    product: 'partner',
    spMchid: '1230000109',
    spAppid: 'wx8888888888888888',
    merchantSerialNo: '1DDE55AD98ED71D6EDD4A4A16996DE7B47773A8C',
    privateKey: privatePem,
    apiV3Key: '0123456789abcdefABCDEF0123456789',
    verification: { mode: 'publicKey', publicKeyId: 'PUB_KEY_ID_0000000000000024101100397200000006', publicKey: publicPem },
    ...overrides,
  };
}

function problemsOf(options: unknown): string[] {
  try {
    resolveWechatPayConfig(options as WechatPartnerPayModuleOptions);
  } catch (e) {
    expect(e).toBeInstanceOf(WechatPayConfigError);
    return [...(e as WechatPayConfigError).problems];
  }
  throw new Error('expected a WechatPayConfigError');
}

describe('resolveWechatPayConfig', () => {
  it('parses keys once into KeyObjects and applies defaults', () => {
    const c = resolveWechatPayConfig(validOptions());
    expect(c.privateKey.type).toBe('private');
    expect(c.verification.publicKey?.type).toBe('public');
    expect(c.apiV3Key).toHaveLength(32);
    expect(c.baseUrl).toBe('https://api.mch.weixin.qq.com');
    expect(c.timeoutMs).toBe(10_000);
    expect(c.retry).toEqual({ attempts: 3, baseDelayMs: 200, maxDelayMs: 2000, failover: false });
    expect(c.notifications.dedupeTtlMs).toBeGreaterThanOrEqual(25 * 3600_000);
  });

  it('lists every problem at once, without key material', () => {
    const problems = problemsOf(
      validOptions({
        spMchid: 'abc',
        apiV3Key: '0123456789abcdefABCDEF012345678',
        privateKey: '-----BEGIN PRIVATE KEY-----\nTUlJQ1NFQ1JFVA==\n-----END PRIVATE KEY-----',
        verification: { mode: 'publicKey', publicKeyId: 'KEY1', publicKey: 'garbage' },
        notifyUrl: 'https://shop.example.com/notify?id=1',
        timeoutMs: -1,
      }),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^spMchid/),
        'apiV3Key must be exactly 32 bytes, got 31',
        expect.stringMatching(/privateKey is not a PEM RSA private key/),
        expect.stringMatching(/publicKeyId must start with PUB_KEY_ID_/),
        expect.stringMatching(/verification.publicKey is not a PEM RSA public key/),
        expect.stringMatching(/notifyUrl must not contain a query string/),
        expect.stringMatching(/timeoutMs must be an integer/),
      ]),
    );
    const text = problems.join('\n');
    expect(text).not.toContain('TUlJQ1NFQ1JFVA');
    expect(text).not.toContain('0123456789abcdef');
  });

  it('requires the serial or the certificate, and a verification mode', () => {
    const problems = problemsOf({ ...validOptions(), merchantSerialNo: undefined, verification: undefined });
    expect(problems).toEqual(
      expect.arrayContaining([expect.stringMatching(/merchantSerialNo is required/), expect.stringMatching(/verification.mode must be/)]),
    );
  });

  it('mentions whitespace around the APIv3 key', () => {
    expect(problemsOf(validOptions({ apiV3Key: '0123456789abcdefABCDEF0123456789\n' }))).toEqual([
      'apiV3Key must be exactly 32 bytes, got 33 (it has leading or trailing whitespace)',
    ]);
  });

  it('validates platform certificate options', () => {
    expect(problemsOf(validOptions({ verification: { mode: 'platformCertificate', refreshIntervalMs: 13 * 3600_000 } }))).toEqual([
      expect.stringMatching(/at most 12 h/),
    ]);
    const c = resolveWechatPayConfig(validOptions({ verification: { mode: 'platformCertificate' } }));
    expect(c.verification.refreshIntervalMs).toBeLessThanOrEqual(12 * 3600_000);
  });

  it('rejects a dedupe store without the three methods and a too short TTL', () => {
    expect(
      problemsOf(validOptions({ notifications: { dedupeStore: {} as never, dedupeTtlMs: 3600_000 } })),
    ).toEqual([expect.stringMatching(/dedupeStore must implement/), expect.stringMatching(/at least 25 h/)]);
  });
});

describe('notifyUrlWarning', () => {
  it('warns about plain http to a non-loopback host (a private dedicated line), not about https or loopback', () => {
    expect(notifyUrlWarning('http://10.1.2.3/notify')).toMatch(/dedicated line/);
    expect(notifyUrlWarning('http://127.0.0.1:3000/notify')).toBeUndefined();
    expect(notifyUrlWarning('https://shop.example.com/notify')).toBeUndefined();
  });

  it('is reported by resolveWechatPayConfig as a warning, not a problem', () => {
    const config = resolveWechatPayConfig({ ...validOptions(), notifyUrl: 'http://10.1.2.3/wechatpay/notify' });
    expect(config.warnings).toEqual([expect.stringMatching(/^notifyUrl uses http:\/\/ \(10\.1\.2\.3\)/)]);
  });
});

describe('notifyUrlProblem', () => {
  it.each([
    ['https://shop.example.com/wechatpay/notify', undefined],
    ['http://127.0.0.1:3000/notify', undefined],
    ['http://localhost/notify', undefined],
    ['http://shop.example.com/notify', undefined],
    ['ftp://shop.example.com/notify', /https/],
    ['https://shop.example.com/notify?order=1', /query string/],
    ['/notify', /absolute/],
  ])('%s', (url, expected) => {
    const p = notifyUrlProblem(url);
    if (expected === undefined) expect(p).toBeUndefined();
    else expect(p).toMatch(expected);
  });
});
