import { createCipheriv, createDecipheriv, type DecipherGCM } from 'node:crypto';
import { WechatPayDecryptionError } from '../errors/wechat-pay.errors';

/** The encrypted object WeChat Pay sends (`resource`, `encrypt_certificate`). */
export interface AesGcmEncrypted {
  algorithm?: string;
  ciphertext: string;
  nonce: string;
  associated_data?: string | null;
}

const TAG_LENGTH = 16;

/**
 * AEAD_AES_256_GCM decryption with the APIv3 key: Base64 ciphertext with the 16-byte tag appended, nonce and AAD
 * as UTF-8. Always authenticates; a failure says that the APIv3 key is probably wrong.
 */
export function aesGcmDecrypt(key: Buffer, input: AesGcmEncrypted): Buffer {
  if (input.algorithm !== undefined && input.algorithm !== 'AEAD_AES_256_GCM') {
    throw new WechatPayDecryptionError(`Unsupported encryption algorithm "${String(input.algorithm).slice(0, 32)}": only AEAD_AES_256_GCM is supported`);
  }
  if (typeof input.ciphertext !== 'string' || typeof input.nonce !== 'string') {
    throw new WechatPayDecryptionError('Encrypted resource is malformed: ciphertext and nonce must be strings');
  }
  const data = Buffer.from(input.ciphertext, 'base64');
  if (data.length < TAG_LENGTH) {
    throw new WechatPayDecryptionError('Encrypted resource is malformed: ciphertext is shorter than the 16-byte GCM tag');
  }
  const nonce = Buffer.from(input.nonce, 'utf8');
  if (nonce.length === 0) throw new WechatPayDecryptionError('Encrypted resource is malformed: empty nonce');
  try {
    const decipher = aesGcmDecipher(
      key,
      nonce,
      Buffer.from(input.associated_data ?? '', 'utf8'),
      data.subarray(data.length - TAG_LENGTH),
    );
    const head = decipher.update(data.subarray(0, data.length - TAG_LENGTH));
    const tail = decipher.final();
    return tail.length ? Buffer.concat([head, tail]) : head;
  } catch {
    throw new WechatPayDecryptionError(
      'AES-256-GCM authentication failed: the APIv3 key is probably wrong (check apiV3Key against the one set in the ' +
        'merchant platform under API安全), or the ciphertext, nonce or associated_data was altered',
    );
  }
}

/** AEAD_AES_256_GCM encryption (tag appended, Base64). Used by the simulator and by tests. */
export function aesGcmEncrypt(key: Buffer, nonce: string, associatedData: string, plaintext: Buffer | string): string {
  const { ciphertext, tag } = aesGcmSeal(
    key,
    Buffer.from(nonce, 'utf8'),
    Buffer.from(associatedData, 'utf8'),
    typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext,
  );
  return Buffer.concat([ciphertext, tag]).toString('base64');
}

/**
 * AES-256-GCM over raw bytes, returning the ciphertext and the 16-byte tag apart, for callers that decide the layout
 * themselves (the encrypted sub-merchant bill files, whose layout WeChat Pay does not document).
 */
export function aesGcmSeal(key: Buffer, nonce: Buffer, associatedData: Buffer, plaintext: Buffer): { ciphertext: Buffer; tag: Buffer } {
  const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_LENGTH });
  cipher.setAAD(associatedData);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { ciphertext, tag: cipher.getAuthTag() };
}

/**
 * An AES-256-GCM decipher whose tag is known up front, for decrypting in windows: its `final()` throws when
 * authentication fails, so no output may be trusted before `final()` returned.
 */
export function aesGcmDecipher(key: Buffer, nonce: Buffer, associatedData: Buffer, tag: Buffer): DecipherGCM {
  const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_LENGTH });
  decipher.setAuthTag(tag);
  decipher.setAAD(associatedData);
  return decipher;
}
