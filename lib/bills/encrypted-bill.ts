/**
 * Decryption of the encrypted sub-merchant fund-flow bill files: the AES key of each file comes from its
 * `encrypt_key` (RSA-OAEP-SHA1 under the merchant certificate, decrypted with the merchant private key), the file is
 * AES-256-GCM with that key and the file's `nonce`.
 *
 * What the sources do not say [UNVERIFIED], and how this client copes:
 * - the form of the decrypted key: see `billKeyFromPlaintext` (raw 32 bytes, 32-character text, hex or Base64);
 * - the AAD: empty unless the caller passes one (no other value is known to exist);
 * - the file layout: `ciphertext || 16-byte tag` as in every other WeChat Pay AEAD use; `tag || ciphertext`
 *   is tried when that does not authenticate. Either way the tag must verify: nothing unauthenticated is accepted.
 * - the order of GZIP and encryption: the file is the encryption of the gzipped bill (decrypt, then gunzip).
 */
import { createHash } from 'node:crypto';
import { pipeline, Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { WechatPayError } from '../core/errors/wechat-pay.errors';
import { aesGcmDecipher } from '../core/crypto/aes-gcm';

/** AES-256 key length in bytes. */
export const BILL_KEY_LENGTH = 32;
/** GCM tag length in bytes. */
export const BILL_TAG_LENGTH = 16;
/** Decrypted in windows of this size, so that one pass never allocates a copy of the whole file. */
const WINDOW = 1 << 16;

/** Where the GCM tag sits in a downloaded file. */
export type BillTagPosition = 'end' | 'start';

/** The key, nonce and AAD of one encrypted bill file. */
export interface BillFileCipher {
  key: Buffer;
  nonce: Buffer;
  aad: Buffer;
}

/** A file whose tag verified: its ciphertext and tag, ready to be decrypted again window by window. */
export interface AuthenticatedBillFile {
  data: Buffer;
  tag: Buffer;
  position: BillTagPosition;
  /** SHA1 (hex) of the decrypted bytes, gunzipped when the bill was applied with GZIP (WeChat's `hash_value`). */
  sha1: string;
}

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
const HEX_KEY = /^[0-9A-Fa-f]{64}$/;
const BASE64_KEY = /^(?:[A-Za-z0-9+/]{43}=?|[A-Za-z0-9_-]{43}=?)$/;

/**
 * The AES-256 key of one bill file from the RSA-OAEP plaintext of its `encrypt_key`. WeChat Pay does not say
 * whether that plaintext is the raw key or a text [UNVERIFIED], so the rule is, in this order:
 *
 * 1. exactly 32 bytes: they are the key. This covers 32 raw random bytes and a 32-character ASCII text alike (a
 *    text key is used as its UTF-8 bytes, as the APIv3 key is, and as the Java SDK's String-returning decryptor
 *    suggests);
 * 2. otherwise, when the plaintext is printable ASCII (surrounding spaces and line breaks ignored):
 *    a. 64 hex digits: the 32 bytes they spell;
 *    b. Base64 of 32 bytes (43 characters, or 44 with `=`; standard or URL-safe alphabet): the decoded bytes;
 * 3. anything else is not a key: `undefined`, never a guess.
 *
 * The forms differ in length (32, 64, 43/44), so no plaintext matches two of them.
 */
export function billKeyFromPlaintext(plain: Buffer): Buffer | undefined {
  if (plain.length === BILL_KEY_LENGTH) return plain;
  const text = plain.toString('latin1');
  if (!PRINTABLE_ASCII.test(text.replace(/[\r\n\t]/g, ' '))) return undefined;
  const t = text.trim();
  if (HEX_KEY.test(t)) return Buffer.from(t, 'hex');
  if (BASE64_KEY.test(t)) {
    const bytes = Buffer.from(t, 'base64');
    return bytes.length === BILL_KEY_LENGTH ? bytes : undefined;
  }
  return undefined;
}

/** The decrypted windows of an authenticated file; the last step checks the tag again (it cannot fail then). */
export function* decryptBillWindows(
  cipher: BillFileCipher,
  data: Buffer,
  tag: Buffer,
): Generator<Buffer, void, undefined> {
  const decipher = aesGcmDecipher(cipher.key, cipher.nonce, cipher.aad, tag);
  for (let i = 0; i < data.length; i += WINDOW) {
    const out = decipher.update(data.subarray(i, i + WINDOW));
    if (out.length > 0) yield out;
  }
  const tail = decipher.final();
  if (tail.length > 0) yield tail;
}

/** The gunzipped bytes of decrypted windows; a stream that is not gzip fails with a `WechatPayError`. */
export async function* gunzipBillWindows(
  windows: Iterable<Buffer>,
  sequence: number,
): AsyncGenerator<Buffer, void, undefined> {
  const gunzip = createGunzip();
  pipeline(Readable.from(windows, { objectMode: false }), gunzip, () => undefined);
  try {
    for await (const chunk of gunzip) yield chunk as Buffer;
  } catch (e) {
    if (e instanceof WechatPayError) throw e;
    throw new WechatPayError(`Bill file ${sequence} is not valid gzip data after decryption: ${(e as Error).message}`);
  }
}

/** Whether `tag` authenticates `data` (one decryption pass, output dropped). */
function tagVerifies(cipher: BillFileCipher, data: Buffer, tag: Buffer): boolean {
  try {
    for (const _window of decryptBillWindows(cipher, data, tag));
    return true;
  } catch {
    return false;
  }
}

/**
 * Authenticates a downloaded file, trying the tag at the end, then at the start (the layout is UNVERIFIED), and
 * computes the SHA1 WeChat Pay gives as `hash_value`: of the decrypted bytes, gunzipped first when `gzip`. One
 * decryption pass for a valid file; the decrypted bytes are hashed and dropped, so memory stays at the size of the
 * ciphertext. Resolves to undefined when no layout authenticates (wrong key, nonce or AAD, or altered bytes); a file
 * that authenticates but does not gunzip is a `WechatPayError`.
 */
export async function authenticateBillFile(
  cipher: BillFileCipher,
  body: Buffer,
  gzip = false,
  sequence = 1,
): Promise<AuthenticatedBillFile | undefined> {
  if (body.length < BILL_TAG_LENGTH) return undefined;
  for (const position of ['end', 'start'] as const) {
    const tag =
      position === 'end' ? body.subarray(body.length - BILL_TAG_LENGTH) : body.subarray(0, BILL_TAG_LENGTH);
    const data =
      position === 'end' ? body.subarray(0, body.length - BILL_TAG_LENGTH) : body.subarray(BILL_TAG_LENGTH);
    const hash = createHash('sha1');
    if (!gzip) {
      try {
        for (const window of decryptBillWindows(cipher, data, tag)) hash.update(window);
      } catch {
        continue;
      }
      return { data, tag, position, sha1: hash.digest('hex') };
    }
    // The tag is checked when the windows run out. Gunzip may fail first, on bytes decrypted with the wrong layout,
    // or stop before the last window: the tag alone then decides between "not this layout" and "not gzip".
    let authenticated = false;
    function* checked(): Generator<Buffer, void, undefined> {
      yield* decryptBillWindows(cipher, data, tag);
      authenticated = true;
    }
    try {
      for await (const chunk of gunzipBillWindows(checked(), sequence)) hash.update(chunk);
    } catch (e) {
      if (authenticated || tagVerifies(cipher, data, tag)) throw e;
      continue;
    }
    if (!authenticated && !tagVerifies(cipher, data, tag)) continue;
    return { data, tag, position, sha1: hash.digest('hex') };
  }
  return undefined;
}
