import { createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import { WechatPayDecryptionError, WechatPaySignatureError } from '../errors/wechat-pay.errors';
import { aesGcmDecrypt, aesGcmEncrypt } from './aes-gcm';
import { buildRequestMessage, buildResponseMessage, joinSignedLines } from './canonical-message';
import { getHeader } from './headers';
import { WechatPayKeyStore } from './key-store';
import { keysMatch, loadPrivateKey, loadPublicKey } from './keys';
import { generateNonce } from './nonce';
import { formatAuthorization, parseAuthorization, WechatPayRequestSigner } from './request-signer';
import { rsaOaepDecrypt, rsaOaepEncrypt } from './rsa-oaep';
import { rsaSign, rsaSignAsync, rsaVerify } from './rsa-signature';
import { WechatPayVerifier } from './verifier';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const other = generateKeyPairSync('rsa', { modulusLength: 2048 });

describe('AEAD_AES_256_GCM (spec §3.1 vector)', () => {
  const key = Buffer.from('0123456789abcdefABCDEF0123456789');
  const plaintext = '{"sp_mchid":"1230000109","sub_mchid":"1900000109","out_trade_no":"T20240101001","trade_state":"SUCCESS"}';
  const ciphertext =
    'XtVLavkVzZukvuscm9l2R/SuGkEcNSNlzR7knhQBffImeBG6KucZZl+pk8v/POgX1T40PksmPKOWK9q40F+9iHrJyWz4sy1SP1pxnd0suM7qaKOmYsp2Se2E5w7GWOcsqpz3PmZHnu5WqKgB5fN3SD02y8nQRsnD';

  it('decrypts the published vector', () => {
    const out = aesGcmDecrypt(key, { algorithm: 'AEAD_AES_256_GCM', ciphertext, nonce: 'a1B2c3D4e5F6', associated_data: 'transaction' });
    expect(out.toString('utf8')).toBe(plaintext);
    expect(Buffer.from(ciphertext, 'base64').subarray(-16).toString('hex')).toBe('56a8a801e5f377483d36cbc9d046c9c3');
  });

  it('encrypts to the published vector', () => {
    expect(aesGcmEncrypt(key, 'a1B2c3D4e5F6', 'transaction', plaintext)).toBe(ciphertext);
  });

  it.each([
    ['wrong key', Buffer.from('0123456789abcdefABCDEF012345678X'), { ciphertext, nonce: 'a1B2c3D4e5F6', associated_data: 'transaction' }],
    ['wrong AAD', key, { ciphertext, nonce: 'a1B2c3D4e5F6', associated_data: 'refund' }],
    ['wrong nonce', key, { ciphertext, nonce: 'a1B2c3D4e5F7', associated_data: 'transaction' }],
    ['tampered tag', key, { ciphertext: ciphertext.slice(0, -4) + 'AAAA', nonce: 'a1B2c3D4e5F6', associated_data: 'transaction' }],
  ])('rejects a %s with a typed error that names the APIv3 key', (_name, k, input) => {
    expect(() => aesGcmDecrypt(k, input)).toThrow(WechatPayDecryptionError);
    expect(() => aesGcmDecrypt(k, input)).toThrow(/APIv3 key is probably wrong/);
  });

  it('rejects another algorithm and a short ciphertext', () => {
    expect(() => aesGcmDecrypt(key, { algorithm: 'SM4_GCM', ciphertext, nonce: 'x' })).toThrow(/only AEAD_AES_256_GCM/);
    expect(() => aesGcmDecrypt(key, { ciphertext: 'AAAA', nonce: 'a1B2c3D4e5F6' })).toThrow(/shorter than/);
  });

  it('never puts the plaintext or key in an error message', () => {
    try {
      aesGcmDecrypt(Buffer.alloc(32, 1), { ciphertext, nonce: 'a1B2c3D4e5F6', associated_data: 'transaction' });
    } catch (e) {
      expect((e as Error).message).not.toContain('1230000109');
    }
  });
});

describe('canonical messages (spec §1.5, §2.2)', () => {
  it('builds the partner POST message', () => {
    expect(buildRequestMessage('post', '/v3/pay/partner/transactions/jsapi', 1715150000, '5K8264ILTKCH16CQ2502SI8ZNMTM67VS', '{"a":1}')).toBe(
      'POST\n/v3/pay/partner/transactions/jsapi\n1715150000\n5K8264ILTKCH16CQ2502SI8ZNMTM67VS\n{"a":1}\n',
    );
  });

  it('builds the partner GET message with an empty body line', () => {
    expect(
      buildRequestMessage(
        'GET',
        '/v3/pay/partner/transactions/out-trade-no/T202405200001?sp_mchid=1230000109&sub_mchid=1900000109',
        '1715150000',
        '5K8264ILTKCH16CQ2502SI8ZNMTM67VS',
        '',
      ),
    ).toBe(
      'GET\n/v3/pay/partner/transactions/out-trade-no/T202405200001?sp_mchid=1230000109&sub_mchid=1900000109\n1715150000\n5K8264ILTKCH16CQ2502SI8ZNMTM67VS\n\n',
    );
  });

  it('keeps a body that ends with a newline (Go clients) and signs the raw bytes of responses', () => {
    expect(buildRequestMessage('POST', '/p', 1, 'n', '{}\n').endsWith('{}\n\n')).toBe(true);
    expect(buildResponseMessage('1722850421', 'abc', '').toString()).toBe('1722850421\nabc\n\n');
    const raw = Buffer.from([0xe4, 0xbd, 0xa0, 0x7b, 0x7d]);
    expect(buildResponseMessage('1', 'n', raw).equals(Buffer.concat([Buffer.from('1\nn\n'), raw, Buffer.from('\n')]))).toBe(true);
    expect(joinSignedLines(['a', 'b', ''])).toBe('a\nb\n\n');
  });
});

describe('Authorization header', () => {
  it('formats the five pairs and parses them back in any order', () => {
    const p = { mchid: '1230000109', nonce_str: 'N', timestamp: '1715150000', serial_no: 'ABC', signature: 'c2ln' };
    expect(parseAuthorization(formatAuthorization(p))).toEqual(p);
    const reordered = 'WECHATPAY2-SHA256-RSA2048 mchid="1230000109",serial_no="ABC",timestamp="1715150000",nonce_str="N",signature="c2ln"';
    expect(parseAuthorization(reordered)).toEqual(p);
  });

  it.each([undefined, '', 'Bearer x', 'WECHATPAY2-SHA256-RSA2048 mchid="1"', 'WECHATPAY2-SHA256-RSA2048 mchid=1,nonce_str="a"'])(
    'rejects %p',
    (h) => expect(parseAuthorization(h)).toBeUndefined(),
  );

  it('signs requests that plain node:crypto verifies', () => {
    const signer = new WechatPayRequestSigner({ mchid: '1230000109', serialNo: 'SERIAL', privateKey, now: () => 1715150000 });
    const auth = parseAuthorization(signer.authorization('GET', '/v3/certificates', ''))!;
    expect(auth.mchid).toBe('1230000109');
    expect(auth.serial_no).toBe('SERIAL');
    expect(auth.timestamp).toBe('1715150000');
    expect(auth.nonce_str).toMatch(/^[0-9A-Za-z]{32}$/);
    const message = `GET\n/v3/certificates\n1715150000\n${auth.nonce_str}\n\n`;
    expect(verify('sha256', Buffer.from(message), publicKey, Buffer.from(auth.signature, 'base64'))).toBe(true);
  });

  it('signs on the threadpool with the same result', async () => {
    expect(await rsaSignAsync('hello\n', privateKey)).toBe(rsaSign('hello\n', privateKey));
  });
});

describe('nonce', () => {
  it('is 32 alphanumeric characters and random', () => {
    const a = generateNonce();
    expect(a).toMatch(/^[0-9A-Za-z]{32}$/);
    expect(generateNonce()).not.toBe(a);
    expect(generateNonce(12)).toHaveLength(12);
  });
});

describe('WechatPayVerifier', () => {
  const now = 1_722_850_421_000;
  const keys = new WechatPayKeyStore(() => now);
  keys.add({ serial: 'PUB_KEY_ID_0000000000000024101100397200000006', key: publicKey, kind: 'publicKey' });
  const verifier = new WechatPayVerifier(keys, { clock: () => now });
  const body = Buffer.from('{"code_url":"weixin://wxpay/bizpayurl?pr=JyC91EIz1"}');

  function headers(overrides: Record<string, string | undefined> = {}, b: Buffer = body): Record<string, string | undefined> {
    const ts = overrides['wechatpay-timestamp'] ?? String(now / 1000);
    const nonce = 'd824f2e086d3c1df967785d13fcd22ef';
    // Signed by plain node:crypto, independent of our signer.
    const signature = sign('sha256', Buffer.concat([Buffer.from(`${ts}\n${nonce}\n`), b, Buffer.from('\n')]), privateKey).toString('base64');
    return {
      'wechatpay-timestamp': ts,
      'wechatpay-nonce': nonce,
      'wechatpay-signature': signature,
      'wechatpay-serial': 'PUB_KEY_ID_0000000000000024101100397200000006',
      'wechatpay-signature-type': 'WECHATPAY2-SHA256-RSA2048',
      ...overrides,
    };
  }

  it('accepts a signature made by plain node:crypto', async () => {
    await expect(verifier.verify(headers(), body)).resolves.toMatchObject({ nonce: 'd824f2e086d3c1df967785d13fcd22ef' });
    expect(() => verifier.verifySync(headers(), body)).not.toThrow();
  });

  it('accepts a 204 signed over an empty body', async () => {
    await expect(verifier.verify(headers({}, Buffer.alloc(0)), Buffer.alloc(0))).resolves.toBeDefined();
  });

  it('finds headers case-insensitively, in Fetch Headers too', () => {
    const h = headers();
    const upper: Record<string, string> = {};
    for (const [k, v] of Object.entries(h)) upper[k.replace(/(^|-)(\w)/g, (m) => m.toUpperCase())] = v!;
    expect(() => verifier.verifySync(upper, body)).not.toThrow();
    expect(() => verifier.verifySync(new Headers(upper), body)).not.toThrow();
    expect(getHeader({ 'Request-ID': 'x' }, 'request-id')).toBe('x');
  });

  const cases: Array<[string, Record<string, string | undefined>, Buffer, string]> = [
    ['missing timestamp', { 'wechatpay-timestamp': undefined }, body, 'MISSING_HEADER'],
    ['missing nonce', { 'wechatpay-nonce': undefined }, body, 'MISSING_HEADER'],
    ['missing signature', { 'wechatpay-signature': undefined }, body, 'MISSING_HEADER'],
    ['missing serial', { 'wechatpay-serial': undefined }, body, 'MISSING_HEADER'],
    ['non-numeric timestamp', { 'wechatpay-timestamp': '17228504x1' }, body, 'INVALID_TIMESTAMP'],
    ['timestamp 301 s old', { 'wechatpay-timestamp': String(now / 1000 - 301) }, body, 'TIMESTAMP_OUT_OF_WINDOW'],
    ['timestamp 301 s ahead', { 'wechatpay-timestamp': String(now / 1000 + 301) }, body, 'TIMESTAMP_OUT_OF_WINDOW'],
    ['SIGNTEST probe', { 'wechatpay-signature': 'WECHATPAY/SIGNTEST/2sWfO+6tVVs/Cg==' }, body, 'BAD_SIGNATURE'],
    ['non-base64 signature', { 'wechatpay-signature': '!!!not base64!!!' }, body, 'BAD_SIGNATURE'],
    ['truncated signature', { 'wechatpay-signature': 'AAAA' }, body, 'BAD_SIGNATURE'],
    ['unknown serial', { 'wechatpay-serial': '5157F09EFDC096DE15EBE81A47057A7232F1B8E1' }, body, 'UNKNOWN_SERIAL'],
    ['unknown public key id', { 'wechatpay-serial': 'PUB_KEY_ID_1' }, body, 'UNKNOWN_SERIAL'],
    ['other signature type', { 'wechatpay-signature-type': 'WECHATPAY2-SM2-WITH-SM3' }, body, 'UNSUPPORTED_SIGNATURE_TYPE'],
    ['body changed by one byte', {}, Buffer.from(body.toString().replace('JyC', 'JyD')), 'BAD_SIGNATURE'],
    ['re-serialized body', {}, Buffer.from(JSON.stringify(JSON.parse(body.toString()), null, 1)), 'BAD_SIGNATURE'],
  ];

  it.each(cases)('rejects %s with a clean WechatPaySignatureError', async (_name, overrides, b, reason) => {
    const h = headers(overrides);
    await expect(verifier.verify(h, b)).rejects.toMatchObject({ reason });
    await expect(verifier.verify(h, b)).rejects.toBeInstanceOf(WechatPaySignatureError);
  });

  it('accepts exactly 300 s of skew in both directions', () => {
    expect(() => verifier.verifySync(headers({ 'wechatpay-timestamp': String(now / 1000 - 300) }), body)).not.toThrow();
    expect(() => verifier.verifySync(headers({ 'wechatpay-timestamp': String(now / 1000 + 300) }), body)).not.toThrow();
  });

  it('refreshes once on an unknown certificate serial, single flight, then fails', async () => {
    const store = new WechatPayKeyStore(() => now);
    let refreshes = 0;
    store.setRefresher(async () => {
      refreshes++;
      await new Promise((r) => setTimeout(r, 10));
    });
    const v = new WechatPayVerifier(store, { clock: () => now });
    const h = headers({ 'wechatpay-serial': 'ABCDEF' });
    await Promise.all([
      expect(v.verify(h, body)).rejects.toMatchObject({ reason: 'UNKNOWN_SERIAL' }),
      expect(v.verify(h, body)).rejects.toMatchObject({ reason: 'UNKNOWN_SERIAL' }),
    ]);
    await expect(v.verify(h, body)).rejects.toMatchObject({ reason: 'UNKNOWN_SERIAL' });
    expect(refreshes).toBe(1);
  });

  it('uses a certificate learnt by the refresh', async () => {
    const store = new WechatPayKeyStore(() => now);
    store.setRefresher(async () => store.add({ serial: 'ABCDEF', key: publicKey, kind: 'platformCertificate' }));
    await expect(new WechatPayVerifier(store, { clock: () => now }).verify(headers({ 'wechatpay-serial': 'ABCDEF' }), body)).resolves.toBeDefined();
  });
});

describe('keys and RSA-OAEP', () => {
  it('parses PEM keys once and recognises pairs', () => {
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' });
    const k = loadPrivateKey(pem);
    expect(keysMatch(createPublicKey(k), k)).toBe(true);
    expect(keysMatch(other.publicKey, k)).toBe(false);
    expect(() => loadPrivateKey('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----')).toThrow(/not a PEM RSA private key/);
    expect(() => loadPublicKey('nope')).toThrow(/not a PEM RSA public key/);
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    expect(() => loadPrivateKey(ec.privateKey)).toThrow(/must be an RSA private key/);
  });

  it('round-trips OAEP-SHA1 and rejects the wrong key', () => {
    const c = rsaOaepEncrypt('张三', publicKey);
    expect(rsaOaepDecrypt(c, privateKey)).toBe('张三');
    expect(() => rsaOaepDecrypt(c, other.privateKey)).toThrow(WechatPayDecryptionError);
    expect(() => rsaOaepEncrypt('x'.repeat(215), publicKey)).toThrow(/too long/);
  });

  it('rsaVerify never throws', () => {
    expect(rsaVerify('m', 'WECHATPAY/SIGNTEST/abc', publicKey)).toBe(false);
    expect(rsaVerify('m', '', publicKey)).toBe(false);
    expect(rsaVerify('m', rsaSign('m', privateKey), publicKey)).toBe(true);
  });
});
