import { createHash, randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { aesGcmSeal } from '../core/crypto/aes-gcm';
import { authenticateBillFile, billKeyFromPlaintext, decryptBillWindows } from './encrypted-bill';

describe('billKeyFromPlaintext (the decrypted encrypt_key, spec §7.4)', () => {
  const raw = randomBytes(32);

  it('takes exactly 32 bytes as the key: raw bytes and a 32-character text alike (even one that looks like Base64)', () => {
    expect(billKeyFromPlaintext(raw)).toEqual(raw);
    for (const text of ['0123456789abcdefABCDEF0123456789', randomBytes(24).toString('base64')]) {
      expect(billKeyFromPlaintext(Buffer.from(text))).toEqual(Buffer.from(text, 'utf8'));
    }
  });

  it.each([
    ['Base64', raw.toString('base64')],
    ['Base64 without padding', raw.toString('base64').replace(/=+$/, '')],
    ['URL-safe Base64', raw.toString('base64url')],
    ['hex', raw.toString('hex')],
    ['upper-case hex with a trailing line break', `${raw.toString('hex').toUpperCase()}\r\n`],
    ['Base64 with surrounding spaces', ` ${raw.toString('base64')} `],
  ])('decodes %s of 32 bytes', (_name, text) => {
    expect(billKeyFromPlaintext(Buffer.from(text, 'utf8'))).toEqual(raw);
  });

  it.each([
    ['empty', Buffer.alloc(0)],
    ['16 bytes (an AES-128 key)', randomBytes(16)],
    ['33 raw bytes', Buffer.concat([randomBytes(32), Buffer.from([0xff])])],
    ['31 characters', Buffer.from('a'.repeat(31))],
    ['Base64 of 21 bytes', Buffer.from(randomBytes(21).toString('base64'))],
    ['Base64 of 33 bytes', Buffer.from(randomBytes(33).toString('base64'))],
    ['63 hex digits', Buffer.from('a'.repeat(63))],
    ['binary that is not 32 bytes', randomBytes(48)],
  ])('refuses %s', (_name, plain) => {
    expect(billKeyFromPlaintext(plain)).toBeUndefined();
  });
});

describe('authenticateBillFile', () => {
  const key = randomBytes(32);
  const nonce = Buffer.from('a1B2c3D4e5F6');
  const plaintext = Buffer.from('记账时间,微信支付业务单号\r\n'.repeat(5000), 'utf8');
  const { ciphertext, tag } = aesGcmSeal(key, nonce, Buffer.alloc(0), plaintext);
  const cipher = { key, nonce, aad: Buffer.alloc(0) };
  const sha1 = createHash('sha1').update(plaintext).digest('hex');

  it.each([
    ['end', Buffer.concat([ciphertext, tag])],
    ['start', Buffer.concat([tag, ciphertext])],
  ] as const)('authenticates a file with the tag at the %s and hashes its plaintext', async (position, body) => {
    const file = await authenticateBillFile(cipher, body);
    expect(file).toMatchObject({ position, sha1 });
    expect(Buffer.concat([...decryptBillWindows(cipher, file!.data, file!.tag)]).equals(plaintext)).toBe(
      true,
    );
  });

  it('refuses a flipped byte, another key, nonce or AAD, and a file shorter than the tag', async () => {
    const body = Buffer.concat([ciphertext, tag]);
    const flipped = Buffer.from(body);
    flipped[100] ^= 1;
    expect(await authenticateBillFile(cipher, flipped)).toBeUndefined();
    expect(await authenticateBillFile({ ...cipher, key: randomBytes(32) }, body)).toBeUndefined();
    expect(await authenticateBillFile({ ...cipher, nonce: Buffer.from('a1B2c3D4e5F7') }, body)).toBeUndefined();
    expect(await authenticateBillFile({ ...cipher, aad: Buffer.from('bill') }, body)).toBeUndefined();
    expect(await authenticateBillFile(cipher, tag.subarray(0, 15))).toBeUndefined();
  });

  describe('GZIP files: one pass authenticates and hashes the uncompressed bytes', () => {
    const gz = gzipSync(plaintext);
    const sealed = aesGcmSeal(key, nonce, Buffer.alloc(0), gz);

    it.each([
      ['end', Buffer.concat([sealed.ciphertext, sealed.tag])],
      ['start', Buffer.concat([sealed.tag, sealed.ciphertext])],
    ] as const)('tag at the %s: SHA1 of the gunzipped plaintext', async (position, body) => {
      expect(await authenticateBillFile(cipher, body, true)).toMatchObject({ position, sha1 });
    });

    it('refuses altered bytes (not a gzip error), and names a file that authenticates but is not gzip', async () => {
      const flipped = Buffer.concat([sealed.ciphertext, sealed.tag]);
      flipped[flipped.length - 40] ^= 1;
      expect(await authenticateBillFile(cipher, flipped, true)).toBeUndefined();
      expect(await authenticateBillFile({ ...cipher, key: randomBytes(32) }, Buffer.concat([sealed.ciphertext, sealed.tag]), true)).toBeUndefined();
      await expect(authenticateBillFile(cipher, Buffer.concat([ciphertext, tag]), true, 3)).rejects.toThrow(
        'Bill file 3 is not valid gzip data after decryption',
      );
    });
  });
});
