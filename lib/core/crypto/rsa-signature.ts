import { type KeyObject, sign, verify } from 'node:crypto';

/** SHA256withRSA (PKCS#1 v1.5) signature, standard Base64. `key` is parsed once by the caller. */
export function rsaSign(message: string | Buffer, key: KeyObject): string {
  return sign('sha256', typeof message === 'string' ? Buffer.from(message, 'utf8') : message, key).toString('base64');
}

/** The same signature computed on libuv's threadpool, so that several signatures run on several cores. */
export function rsaSignAsync(message: string | Buffer, key: KeyObject): Promise<string> {
  const data = typeof message === 'string' ? Buffer.from(message, 'utf8') : message;
  return new Promise((resolve, reject) => {
    sign('sha256', data, key, (err, sig) => (err ? reject(err) : resolve(sig.toString('base64'))));
  });
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * Verifies a SHA256withRSA signature. Any malformed signature (a `WECHATPAY/SIGNTEST/...` probe, non-Base64 text,
 * a wrong length) is simply `false`: it never throws.
 */
export function rsaVerify(message: Buffer | string, signatureB64: string, key: KeyObject): boolean {
  if (typeof signatureB64 !== 'string' || signatureB64.length === 0 || signatureB64.length % 4 !== 0 || !BASE64.test(signatureB64)) {
    return false;
  }
  try {
    return verify(
      'sha256',
      typeof message === 'string' ? Buffer.from(message, 'utf8') : message,
      key,
      Buffer.from(signatureB64, 'base64'),
    );
  } catch {
    return false;
  }
}
