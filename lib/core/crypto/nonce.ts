import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** A random `[0-9A-Za-z]` string from `crypto.randomBytes` (32 characters by default, as the official SDKs use). */
export function generateNonce(length = 32): string {
  // 62 does not divide 256: reject bytes >= 248 so that every character is equally likely.
  let out = '';
  while (out.length < length) {
    const bytes = randomBytes(length * 2);
    for (let i = 0; i < bytes.length && out.length < length; i++) {
      if (bytes[i] < 248) out += ALPHABET[bytes[i] % 62];
    }
  }
  return out;
}

/** `n` random lower-case hex characters. */
export function generateHex(n: number): string {
  return randomBytes(Math.ceil(n / 2)).toString('hex').slice(0, n);
}
