import { WechatPayDecryptionError, WechatPayError } from '../core/errors/wechat-pay.errors';

/**
 * A downloaded bill does not follow WeChat Pay's bill format. `line` is 1-based (the header is line 1);
 * `column` is the Chinese header name when known, otherwise the 1-based field position.
 */
export class WechatPayBillParseError extends WechatPayError {
  constructor(
    /** What is being parsed, e.g. `trade bill`. */
    public readonly bill: string,
    /** 1-based line number in the file. */
    public readonly line: number,
    /** Header name of the offending column, or its 1-based position when it has no header. */
    public readonly column: string | number | undefined,
    /** What is wrong, without the location prefix. */
    public readonly problem: string,
  ) {
    super(
      `Invalid WeChat Pay ${bill}: line ${line}` +
        (column === undefined
          ? ''
          : typeof column === 'number'
            ? `, field #${column}`
            : `, column "${column}"`) +
        `: ${problem}`,
    );
  }
}

/** Why a file of an encrypted bill could not be decrypted. */
export type WechatPayBillDecryptionFailure =
  /** The bill was applied for with an algorithm this package cannot decrypt (SM4_GCM). */
  | 'UNSUPPORTED_ALGORITHM'
  /** `encrypt_key` does not decrypt with the merchant private key (RSA-OAEP-SHA1). */
  | 'KEY_DECRYPTION_FAILED'
  /** `encrypt_key` decrypts, but not to a 32-byte AES key in any accepted form. */
  | 'INVALID_KEY'
  /** The downloaded file is shorter than a GCM tag, or its nonce is empty. */
  | 'MALFORMED'
  /** AES-GCM authentication failed: the file was altered or corrupted, or key, nonce or AAD do not match it. */
  | 'AUTHENTICATION_FAILED';

/**
 * A file of an encrypted bill could not be decrypted. A `WechatPayDecryptionError`, so one catch covers both; the
 * message names the file (`billSequence`) and the cause, never a key or any bill content.
 */
export class WechatPayBillDecryptionError extends WechatPayDecryptionError {
  constructor(
    public readonly reason: WechatPayBillDecryptionFailure,
    /** `bill_sequence` of the file, when the problem concerns one file. */
    public readonly billSequence: number | undefined,
    message: string,
  ) {
    super(message);
  }
}

/** The downloaded bill's SHA1 differs from `hash_value`: the file is corrupt or was altered. */
export class WechatPayBillHashMismatchError extends WechatPayError {
  constructor(
    public readonly expected: string,
    public readonly actual: string,
    /** `bill_sequence` of the file of an encrypted bill; undefined for the single-file bills. */
    public readonly billSequence?: number,
  ) {
    super(
      `Bill hash mismatch${billSequence === undefined ? '' : ` in file ${billSequence}`}: expected SHA1 ${expected}, ` +
        `got ${actual}; the download is corrupt, download it again`,
    );
  }
}
