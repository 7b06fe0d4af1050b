import { createPrivateKey, constants, privateDecrypt } from 'node:crypto';
import {
  WechatPayCertificatesService,
  WechatPayConfigError,
  WechatPayNotificationService,
  WechatPayOrdersService,
} from 'nestjs-wechat-partner-pay';
import { buildSignedNotification } from 'nestjs-wechat-partner-pay/testing';
import { type SimApp, startSimApp } from './helpers/sim-app';

const platformMode = { verification: { mode: 'platformCertificate' as const } };

function oaepDecrypt(ciphertext: string, privateKeyPem: string): string {
  return privateDecrypt(
    { key: createPrivateKey(privateKeyPem), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' },
    Buffer.from(ciphertext, 'base64'),
  ).toString('utf8');
}

function transaction(app: SimApp) {
  const s = app.sim.credentials.subMerchants[0];
  return {
    sp_appid: app.sim.credentials.spAppid,
    sp_mchid: app.sim.credentials.spMchid,
    sub_mchid: s.subMchid,
    out_trade_no: 'CERT_ROTATION_1',
    transaction_id: '4200000000000000000000000001',
    trade_type: 'NATIVE',
    trade_state: 'SUCCESS',
    trade_state_desc: '支付成功',
    bank_type: 'OTHERS',
    success_time: '2024-05-20T10:15:32+08:00',
    payer: { sp_openid: 'oUser' },
    amount: { total: 1, payer_total: 1, currency: 'CNY', payer_currency: 'CNY' },
  };
}

describe('platform certificate mode', () => {
  let app: SimApp;
  afterEach(() => app?.close());

  it('downloads, decrypts and verifies the certificates at boot, then verifies responses with them', async () => {
    app = await startSimApp(platformMode, { signWith: 'platformCertificate', platformCertificateCount: 2 });
    const certs = app.ref.get(WechatPayCertificatesService);
    const serials = app.sim.credentials.platformCertificates.map((c) => c.serialNo);
    expect(certs.list().map((k) => k.serial).sort()).toEqual([...serials].sort());
    expect(certs.newest()?.serial).toBe(serials[serials.length - 1]);
    const orders = app.ref.get(WechatPayOrdersService);
    const { code_url } = await orders.nativePrepay({
      sub_mchid: app.sim.credentials.subMerchants[0].subMchid,
      description: 'cert mode',
      out_trade_no: 'CERT_MODE_0001',
      amount: { total: 1 },
    });
    expect(code_url).toMatch(/^weixin:/);
  });

  it('refreshes once when a notification names an unknown serial after a rotation', async () => {
    app = await startSimApp(platformMode, { signWith: 'platformCertificate' });
    const certs = app.ref.get(WechatPayCertificatesService);
    const before = certs.list().map((k) => k.serial);
    const rotated = await app.sim.rotatePlatformCertificate({ signAfterMs: 0 });
    expect(before).not.toContain(rotated.serialNo);
    const n = app.sim.signedNotification('TRANSACTION.SUCCESS', transaction(app), 'transaction');
    expect(n.headers['Wechatpay-Serial'] ?? n.headers['wechatpay-serial']).toBe(rotated.serialNo);
    const parsed = await app.ref.get(WechatPayNotificationService).parse(n.headers, n.body);
    expect(parsed.resource).toMatchObject({ out_trade_no: 'CERT_ROTATION_1' });
    expect(certs.list().map((k) => k.serial)).toEqual(expect.arrayContaining([...before, rotated.serialNo]));
    expect(app.sim.requests.filter((r) => r.path.startsWith('/v3/certificates'))).toHaveLength(2);
  });

  it('refreshes on its timer and stops the timer on shutdown', async () => {
    app = await startSimApp({ verification: { mode: 'platformCertificate', refreshIntervalMs: 1000 } }, { signWith: 'platformCertificate' });
    const rotated = await app.sim.rotatePlatformCertificate({ signAfterMs: 0 });
    await new Promise((r) => setTimeout(r, 1300));
    expect(app.ref.get(WechatPayCertificatesService).newest()?.serial).toBe(rotated.serialNo);
    await app.ref.close();
    const downloads = app.sim.requests.length;
    await new Promise((r) => setTimeout(r, 1200));
    expect(app.sim.requests.length).toBe(downloads);
  });

  it('encrypts sensitive fields with the newest certificate', async () => {
    app = await startSimApp(platformMode, { signWith: 'platformCertificate' });
    const { ciphertext, serial } = app.ref.get(WechatPayCertificatesService).encryptSensitive('张三');
    const cert = app.sim.credentials.platformCertificates.find((c) => c.serialNo === serial)!;
    expect(oaepDecrypt(ciphertext, cert.privateKeyPem)).toBe('张三');
  });

  it('tells a public-key-only merchant to configure public key mode', async () => {
    const err = await startSimApp(platformMode, { publicKeyOnly: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WechatPayConfigError);
    expect((err as Error).message).toMatch(/RESOURCE_NOT_EXISTS[\s\S]*mode: 'publicKey'/);
  });
});

describe('public key mode and migration', () => {
  let app: SimApp;
  afterEach(() => app?.close());

  it('public key mode downloads nothing and encrypts with the public key', async () => {
    app = await startSimApp();
    const certs = app.ref.get(WechatPayCertificatesService);
    expect(await certs.refresh()).toEqual([expect.objectContaining({ kind: 'publicKey', serial: app.sim.credentials.publicKeyId })]);
    expect(app.sim.requests).toHaveLength(0);
    const { ciphertext, serial } = certs.encryptSensitive('13800138000');
    expect(serial).toBe(app.sim.credentials.publicKeyId);
    expect(oaepDecrypt(ciphertext, app.sim.credentials.publicKeyPrivateKeyPem)).toBe('13800138000');
  });

  it("'both' verifies notifications signed by either key", async () => {
    app = await startSimApp(
      (sim) => ({ verification: { mode: 'both', publicKeyId: sim.credentials.publicKeyId, publicKey: sim.credentials.publicKeyPem } }),
      { signWith: 'platformCertificate' },
    );
    const notifications = app.ref.get(WechatPayNotificationService);
    const viaCert = app.sim.signedNotification('TRANSACTION.SUCCESS', transaction(app), 'transaction');
    await expect(notifications.parse(viaCert.headers, viaCert.body)).resolves.toBeDefined();
    const creds = app.sim.credentials;
    const viaPublicKey = buildSignedNotification({
      eventType: 'TRANSACTION.SUCCESS',
      resource: transaction(app),
      associatedData: 'transaction',
      apiV3Key: creds.apiV3Key,
      signingKey: createPrivateKey(creds.publicKeyPrivateKeyPem),
      serial: creds.publicKeyId,
    });
    await expect(notifications.parse(viaPublicKey.headers, viaPublicKey.body)).resolves.toBeDefined();
    const kinds = app.ref.get(WechatPayCertificatesService).list().map((k) => k.kind).sort();
    expect(kinds).toEqual(['platformCertificate', 'publicKey']);
  });
});
