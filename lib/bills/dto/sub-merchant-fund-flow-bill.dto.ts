/** Fund account of a sub-merchant fund-flow bill; DEPOSIT is listed by some sources only. */
export type SubMerchantFundFlowAccountType = 'BASIC' | 'OPERATION' | 'FEES' | 'DEPOSIT';

/**
 * Encryption algorithm of an encrypted bill as named on the wire. Only `AEAD_AES_256_GCM` is supported by this
 * package: `SM4_GCM` (national cryptography, 国密) needs an SM4-GCM cipher that Node.js does not have.
 */
export type BillEncryptionAlgorithm = 'AEAD_AES_256_GCM' | 'SM4_GCM';

/** Query of `GET /v3/bill/sub-merchant-fundflowbill`: one sub-merchant's fund-flow bill (资金账单), encrypted. */
export interface SubMerchantFundFlowBillQuery {
  /** The sub-merchant (特约商户号) whose account it is. */
  sub_mchid: string;
  /** Beijing calendar day, `YYYY-MM-DD` or a Date (its Beijing day). Yesterday at the latest, 3 months back at most. */
  bill_date: string | Date;
  /** Required by WeChat Pay: BASIC (基本账户), OPERATION (运营账户), FEES (手续费账户) or DEPOSIT. */
  account_type: SubMerchantFundFlowAccountType;
  /** Default `AEAD_AES_256_GCM`, the only one supported; `SM4_GCM` is refused before anything is sent. */
  algorithm?: 'AEAD_AES_256_GCM';
  tar_type?: 'GZIP';
}

/**
 * One encrypted file of the bill (WeChat's `EncryptBillEntity`). Files are concatenated in `bill_sequence` order
 * after decryption to form the whole bill.
 */
export interface EncryptedBillPart {
  /** 1-based position of this file in the bill. */
  bill_sequence: number;
  hash_type: 'SHA1' | string;
  /** SHA1 (hex) of this file's original bytes: decrypted and, with GZIP, uncompressed. */
  hash_value: string;
  /** Valid for 5 minutes; the download is a signed GET whose answer is not signed. */
  download_url: string;
  /** Base64 RSA-OAEP (SHA-1) ciphertext, under the merchant certificate's public key, of this file's AES key. */
  encrypt_key: string;
  /** AES-GCM nonce of this file, used as its UTF-8 bytes. */
  nonce: string;
}

/** What applying for a sub-merchant fund-flow bill returns; every `download_url` is valid for 5 minutes. */
export interface SubMerchantFundFlowBillInfo {
  download_bill_count: number;
  download_bill_list: EncryptedBillPart[];
  /** Remembered from the query so that the download knows how to decrypt. Not part of WeChat's answer. */
  algorithm: 'AEAD_AES_256_GCM';
  /** Remembered from the query so that the download knows to gunzip. Not part of WeChat's answer. */
  tar_type?: 'GZIP';
}
