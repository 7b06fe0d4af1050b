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

/** Expected signature length in bytes for a key, cached per KeyObject. */
const signatureLengths = new WeakMap<KeyObject, number>();

function signatureLength(key: KeyObject): number {
  let n = signatureLengths.get(key);
  if (n === undefined) {
    n = Math.ceil((key.asymmetricKeyDetails?.modulusLength ?? 2048) / 8);
    signatureLengths.set(key, n);
  }
  return n;
}

/**
 * Verifies a SHA256withRSA signature. Any malformed signature (a `WECHATPAY/SIGNTEST/...` probe, non-Base64 text,
 * a wrong length) is simply `false`: it never throws.
 */
export function rsaVerify(message: Buffer | string, signatureB64: string, key: KeyObject): boolean {
  if (typeof signatureB64 !== 'string' || signatureB64.length === 0 || signatureB64.length % 4 !== 0) return false;
  // Buffer.from skips characters outside the alphabet, so a probe or garbage decodes to the wrong length (or to
  // bytes that do not verify): either way the answer is false.
  const signature = Buffer.from(signatureB64, 'base64');
  if (signature.length !== signatureLength(key)) return false;
  try {
    return verify('sha256', typeof message === 'string' ? Buffer.from(message, 'utf8') : message, key, signature);
  } catch {
    return false;
  }
}
