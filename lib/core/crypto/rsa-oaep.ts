import { constants, type KeyObject, privateDecrypt, publicEncrypt } from 'node:crypto';
import { WechatPayDecryptionError, WechatPayError } from '../errors/wechat-pay.errors';

const MAX_PLAINTEXT = 214; // 2048-bit key, OAEP with SHA-1

/**
 * RSA-OAEP (SHA-1, MGF1-SHA1) encryption, standard Base64: a sensitive field with the platform key, or (in the
 * simulator) the key of an encrypted bill with the merchant's certificate key. Strings are encrypted as UTF-8.
 */
export function rsaOaepEncrypt(plaintext: string | Buffer, publicKey: KeyObject): string {
  const data = typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext;
  if (data.length > MAX_PLAINTEXT) {
    throw new WechatPayError(`Sensitive field is too long to encrypt: ${data.length} bytes, at most ${MAX_PLAINTEXT}`);
  }
  return publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, data).toString('base64');
}

/** RSA-OAEP (SHA-1) decryption with the merchant private key, as UTF-8 text. */
export function rsaOaepDecrypt(ciphertextB64: string, privateKey: KeyObject): string {
  return rsaOaepDecryptBytes(ciphertextB64, privateKey).toString('utf8');
}

/** RSA-OAEP (SHA-1) decryption with the merchant private key, as bytes (e.g. a bill's `encrypt_key`). */
export function rsaOaepDecryptBytes(ciphertextB64: string, privateKey: KeyObject): Buffer {
  try {
    return privateDecrypt(
      { key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' },
      Buffer.from(ciphertextB64, 'base64'),
    );
  } catch {
    throw new WechatPayDecryptionError('RSA-OAEP decryption failed: the ciphertext was not encrypted for this merchant private key');
  }
}
