import { createCipheriv, createDecipheriv } from 'node:crypto';
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
    const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_LENGTH });
    decipher.setAuthTag(data.subarray(data.length - TAG_LENGTH));
    decipher.setAAD(Buffer.from(input.associated_data ?? '', 'utf8'));
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
  const cipher = createCipheriv('aes-256-gcm', key, Buffer.from(nonce, 'utf8'), { authTagLength: TAG_LENGTH });
  cipher.setAAD(Buffer.from(associatedData, 'utf8'));
  const body = Buffer.concat([cipher.update(typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext), cipher.final()]);
  return Buffer.concat([body, cipher.getAuthTag()]).toString('base64');
}
