import { createPrivateKey, createPublicKey, type KeyObject, X509Certificate } from 'node:crypto';
import { WechatPayError } from '../errors/wechat-pay.errors';

/** A PEM string, PEM bytes, or an already parsed key. */
export type KeyInput = string | Buffer | KeyObject;

function isKeyObject(v: unknown): v is KeyObject {
  return typeof v === 'object' && v !== null && 'asymmetricKeyType' in v && 'export' in v;
}

/** Parses an RSA private key (PKCS#8 or PKCS#1 PEM) once into a KeyObject. Throws without echoing the key. */
export function loadPrivateKey(input: KeyInput, what = 'privateKey'): KeyObject {
  let key: KeyObject;
  try {
    key = isKeyObject(input) ? input : createPrivateKey({ key: input, format: 'pem' });
  } catch {
    throw new WechatPayError(
      `${what} is not a PEM RSA private key (expected the content of apiclient_key.pem, starting with "-----BEGIN PRIVATE KEY-----")`,
    );
  }
  if (key.type !== 'private' || key.asymmetricKeyType !== 'rsa') {
    throw new WechatPayError(`${what} must be an RSA private key, got a ${key.asymmetricKeyType ?? 'unknown'} ${key.type} key`);
  }
  return key;
}

/** Parses an RSA public key from an SPKI/PKCS#1 PEM or from an X.509 certificate PEM. */
export function loadPublicKey(input: KeyInput, what = 'publicKey'): KeyObject {
  let key: KeyObject;
  try {
    if (isKeyObject(input)) key = input.type === 'private' ? createPublicKey(input) : input;
    else key = createPublicKey({ key: input, format: 'pem' });
  } catch {
    throw new WechatPayError(
      `${what} is not a PEM RSA public key or certificate (expected the content of pub_key.pem, starting with "-----BEGIN PUBLIC KEY-----")`,
    );
  }
  if (key.asymmetricKeyType !== 'rsa') {
    throw new WechatPayError(`${what} must be an RSA key, got ${key.asymmetricKeyType ?? 'unknown'}`);
  }
  return key;
}

/** What we use of an X.509 certificate. */
export interface ParsedCertificate {
  /** Upper-case hex serial, as WeChat Pay shows it. */
  serialNo: string;
  publicKey: KeyObject;
  validFrom: Date;
  validTo: Date;
  pem: string;
}

/** Normalises a certificate serial: upper-case hex without leading zeros lost. */
export function normaliseSerial(serial: string): string {
  return serial.replace(/[:\s]/g, '').toUpperCase();
}

/** Parses a PEM certificate. */
export function parseCertificate(pem: string | Buffer, what = 'certificate'): ParsedCertificate {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch {
    throw new WechatPayError(`${what} is not a PEM X.509 certificate (expected "-----BEGIN CERTIFICATE-----")`);
  }
  return {
    serialNo: normaliseSerial(cert.serialNumber),
    publicKey: cert.publicKey,
    validFrom: new Date(cert.validFrom),
    validTo: new Date(cert.validTo),
    pem: typeof pem === 'string' ? pem : pem.toString('utf8'),
  };
}

/** Whether a public key and a private key form a pair (compares the public moduli). */
export function keysMatch(publicKey: KeyObject, privateKey: KeyObject): boolean {
  const a = publicKey.export({ format: 'jwk' });
  const b = createPublicKey(privateKey).export({ format: 'jwk' });
  return a.n === b.n && a.e === b.e;
}
