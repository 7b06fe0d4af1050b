import { generateKeyPairSync, sign, verify } from 'node:crypto';
import {
  buildRequestMessage,
  generateNonce,
  WechatPayKeyStore,
  WechatPayRequestSigner,
  WechatPayVerifier,
} from '../lib/core/crypto';
import { comparePaired, opsPerSecondAsync, opsPerSecondSync, pairedLine } from './harness';

/** Signing and verification throughput against the raw node:crypto limit with pre-parsed KeyObjects. */
export async function main(): Promise<string[]> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const signer = new WechatPayRequestSigner({ mchid: '1230000109', serialNo: '1DDE55AD98ED71D6EDD4A4A16996DE7B47773A8C', privateKey });
  const body = JSON.stringify({
    sp_appid: 'wx8888888888888888',
    sp_mchid: '1230000109',
    sub_mchid: '1900000109',
    description: 'Image形象店-深圳腾大-QQ公仔',
    out_trade_no: '1217752501201407033233368018',
    notify_url: 'https://www.weixin.qq.com/wxpay/pay.php',
    amount: { total: 1, currency: 'CNY' },
  });
  const url = '/v3/pay/partner/transactions/native';
  const ms = 200;
  const rounds = 21;
  const out: string[] = [];

  const signing = await comparePaired(
    () => opsPerSecondSync(() => signer.authorization('POST', url, body), ms),
    () =>
      opsPerSecondSync(() => sign('sha256', Buffer.from(buildRequestMessage('POST', url, 1715150000, 'n', body)), privateKey), ms),
    rounds,
  );
  out.push(pairedLine('request signing (Authorization header)', signing));

  const concurrency = 16;
  const pool = await comparePaired(
    () => opsPerSecondAsync(() => signer.authorizationAsync('POST', url, body), ms, concurrency),
    () => opsPerSecondSync(() => sign('sha256', Buffer.from(buildRequestMessage('POST', url, 1715150000, 'n', body)), privateKey), ms),
    rounds,
  );
  out.push(pairedLine(`threadpool signing (${concurrency} in flight) vs 1 thread`, pool));

  const keys = new WechatPayKeyStore();
  keys.add({ serial: 'PUB_KEY_ID_0000000000000024101100397200000006', key: publicKey, kind: 'publicKey' });
  const verifier = new WechatPayVerifier(keys);
  const responseBody = Buffer.from('{"code_url":"weixin://wxpay/bizpayurl?pr=p4lpSuKzz"}');
  const ts = String(Math.floor(Date.now() / 1000));
  const nonce = generateNonce();
  const message = Buffer.concat([Buffer.from(`${ts}\n${nonce}\n`), responseBody, Buffer.from('\n')]);
  const signature = sign('sha256', message, privateKey).toString('base64');
  const headers = {
    'wechatpay-timestamp': ts,
    'wechatpay-nonce': nonce,
    'wechatpay-signature': signature,
    'wechatpay-serial': 'PUB_KEY_ID_0000000000000024101100397200000006',
    'wechatpay-signature-type': 'WECHATPAY2-SHA256-RSA2048',
    'request-id': '08F5B8C2B506102C18FDDFEEA30620BE821E28EDC405-0',
  };
  const sigBytes = Buffer.from(signature, 'base64');
  const verification = await comparePaired(
    () => opsPerSecondSync(() => verifier.verifySync(headers, responseBody), ms),
    () => opsPerSecondSync(() => verify('sha256', message, publicKey, sigBytes), ms),
    rounds,
  );
  out.push(pairedLine('response verification (headers + raw body)', verification));
  return out;
}

if (require.main === module) {
  main().then((lines) => console.log(lines.join('\n')), (e) => {
    console.error(e);
    process.exit(1);
  });
}
