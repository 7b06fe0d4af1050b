/**
 * An independent client against the simulator: TheNorthMemory's wechatpay-axios-plugin signs requests its own way
 * (pairs in mchid, serial_no, timestamp, nonce_str, signature order) and verifies every answer's signature itself
 * with the keys we give it. If the simulator and our core agreed on a mistake, this suite would catch it.
 */
import { generateKeyPairSync } from 'node:crypto';
import { Aes, Wechatpay } from 'wechatpay-axios-plugin';
import { WechatPaySimulator } from '../lib/testing';

const SUB = '1900000109';
let sim: WechatPaySimulator;

function plugin(certs: Record<string, string>, privateKey = sim.credentials.merchantPrivateKeyPem): Wechatpay {
  return new Wechatpay({ mchid: sim.credentials.spMchid, serial: sim.credentials.merchantSerialNo, privateKey, certs, baseURL: `${sim.baseUrl}/` });
}

function outTradeNo(): string {
  return `AX${Date.now()}${Math.floor(Math.random() * 1e6)}`;
}

beforeAll(async () => {
  sim = await WechatPaySimulator.start();
});

afterAll(() => sim.close());

describe('wechatpay-axios-plugin against the simulator', () => {
  it('creates a Native order, queries it, pays, queries by transaction_id, and verifies every answer', async () => {
    const c = sim.credentials;
    const wxpay = plugin(sim.verificationKeys());
    const no = outTradeNo();
    const created = await wxpay.v3.pay.partner.transactions.native.post<Record<string, unknown>>({
      sp_appid: c.spAppid,
      sp_mchid: c.spMchid,
      sub_mchid: SUB,
      description: 'axios-plugin 测试',
      out_trade_no: no,
      notify_url: 'https://merchant.example.com/notify',
      amount: { total: 1, currency: 'CNY' },
    });
    expect(created.status).toBe(200);
    expect(created.data.code_url).toMatch(/^weixin:\/\/wxpay\/bizpayurl\?pr=/);

    const params = { sp_mchid: c.spMchid, sub_mchid: SUB };
    const unpaid = await wxpay.v3.pay.partner.transactions.outTradeNo._out_trade_no_.get({ params, out_trade_no: no });
    expect(unpaid.data).toMatchObject({ out_trade_no: no, trade_state: 'NOTPAY' });

    const paid = await sim.pay(no);
    const byId = await wxpay.v3.pay.partner.transactions.id._transaction_id_.get({ params, transaction_id: paid.transactionId });
    expect(byId.data).toMatchObject({ transaction_id: paid.transactionId, trade_state: 'SUCCESS', trade_type: 'NATIVE' });
  });

  it('closes an order: 204 with a signature over the empty body', async () => {
    const c = sim.credentials;
    const wxpay = plugin(sim.verificationKeys());
    const no = outTradeNo();
    await wxpay.v3.pay.partner.transactions.native.post({
      sp_appid: c.spAppid,
      sp_mchid: c.spMchid,
      sub_mchid: SUB,
      description: 'close me',
      out_trade_no: no,
      notify_url: 'https://merchant.example.com/notify',
      amount: { total: 2 },
    });
    const closed = await wxpay.v3.pay.partner.transactions.outTradeNo._out_trade_no_.close.post({ sp_mchid: c.spMchid, sub_mchid: SUB }, { out_trade_no: no });
    expect(closed.status).toBe(204);
    const after = await wxpay.v3.pay.partner.transactions.outTradeNo._out_trade_no_.get({ params: { sp_mchid: c.spMchid, sub_mchid: SUB }, out_trade_no: no });
    expect(after.data.trade_state).toBe('CLOSED');
  });

  it('downloads certificates that decrypt with its own AES-GCM and verify the download', async () => {
    const c = sim.credentials;
    const cert = c.platformCertificates[0];
    // Bootstrap like PHP's CertificateDownloader: trust only the certificate being downloaded.
    const res = await plugin({ [cert.serialNo]: cert.certificatePem }).v3.certificates.get();
    expect(res.status).toBe(200);
    const [item] = res.data.data;
    expect(item.serial_no).toBe(cert.serialNo);
    const pem = Aes.AesGcm.decrypt(item.encrypt_certificate.ciphertext, c.apiV3Key, item.encrypt_certificate.nonce, item.encrypt_certificate.associated_data);
    expect(pem).toBe(cert.certificatePem);
  });

  it('really verifies: a wrong key or a spoiled signature makes the plugin reject the answer', async () => {
    const c = sim.credentials;
    const otherPublic = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const params = { params: { sp_mchid: c.spMchid, sub_mchid: SUB }, out_trade_no: 'NOPE000001' };
    // A 404 is not verified (like every SDK), so use a successful call: the certificate download.
    await expect(plugin({ [c.publicKeyId]: otherPublic, [c.platformCertificates[0].serialNo]: otherPublic }).v3.certificates.get()).rejects.toMatchObject({
      code: 'EV3_RES_HEADER_SIGNATURE_DIGEST',
    });
    sim.faults.next({ path: '/v3/certificates', badSignature: true });
    await expect(plugin(sim.verificationKeys()).v3.certificates.get()).rejects.toMatchObject({ code: 'EV3_RES_HEADER_SIGNATURE_DIGEST' });
    await expect(plugin(sim.verificationKeys()).v3.pay.partner.transactions.outTradeNo._out_trade_no_.get(params)).rejects.toMatchObject({
      response: { status: 404, data: { code: 'ORDER_NOT_EXIST' } },
    });
  });

  it('the simulator rejects the plugin when it signs with the wrong private key', async () => {
    const wrong = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    await expect(plugin(sim.verificationKeys(), wrong).v3.certificates.get()).rejects.toMatchObject({ response: { status: 401, data: { code: 'SIGN_ERROR' } } });
  });
});
