/**
 * A minimal DER encoder and X.509 v3 certificate builder. Node can parse certificates (`X509Certificate`) but not
 * create them, and the simulator needs real certificates (merchant API certificate, platform certificates) whose
 * serials and validity it controls, without shelling out to openssl.
 */
import { createPublicKey, type KeyObject, sign } from 'node:crypto';

/** DER tag numbers used here (universal class unless noted). */
const TAG = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  null: 0x05,
  oid: 0x06,
  utf8String: 0x0c,
  printableString: 0x13,
  utcTime: 0x17,
  generalizedTime: 0x18,
  sequence: 0x30,
  set: 0x31,
} as const;

const OID = {
  sha256WithRSAEncryption: '1.2.840.113549.1.1.11',
  countryName: '2.5.4.6',
  organizationName: '2.5.4.10',
  organizationalUnitName: '2.5.4.11',
  commonName: '2.5.4.3',
  localityName: '2.5.4.7',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  subjectKeyIdentifier: '2.5.29.14',
} as const;

function encodeLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** One DER TLV. */
export function derTlv(tag: number, content: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), encodeLength(content.length), content]);
}

/** SEQUENCE of already encoded elements. */
export function derSequence(...items: Buffer[]): Buffer {
  return derTlv(TAG.sequence, Buffer.concat(items));
}

function derSet(...items: Buffer[]): Buffer {
  return derTlv(TAG.set, Buffer.concat(items));
}

/** A non-negative INTEGER from big-endian magnitude bytes (a 0x00 is prepended when the high bit is set). */
export function derUnsignedInteger(magnitude: Buffer): Buffer {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++;
  const trimmed = magnitude.subarray(start);
  return derTlv(TAG.integer, trimmed[0] & 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed);
}

/** OBJECT IDENTIFIER from dotted text. */
export function derOid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  const bytes: number[] = [parts[0] * 40 + parts[1]];
  for (const part of parts.slice(2)) {
    const chunk: number[] = [part & 0x7f];
    for (let n = Math.floor(part / 128); n > 0; n = Math.floor(n / 128)) chunk.unshift((n & 0x7f) | 0x80);
    bytes.push(...chunk);
  }
  return derTlv(TAG.oid, Buffer.from(bytes));
}

function derNull(): Buffer {
  return derTlv(TAG.null, Buffer.alloc(0));
}

function derBitString(content: Buffer): Buffer {
  return derTlv(TAG.bitString, Buffer.concat([Buffer.from([0]), content]));
}

function derExplicit(tagNumber: number, inner: Buffer): Buffer {
  return derTlv(0xa0 | tagNumber, inner);
}

/** UTCTime until 2049, GeneralizedTime after, as RFC 5280 requires. */
function derTime(date: Date): Buffer {
  const iso = date.toISOString(); // YYYY-MM-DDTHH:mm:ss.sssZ
  const digits = iso.slice(0, 19).replace(/[-:T]/g, '') + 'Z';
  const year = date.getUTCFullYear();
  if (year >= 1950 && year < 2050) return derTlv(TAG.utcTime, Buffer.from(digits.slice(2), 'ascii'));
  return derTlv(TAG.generalizedTime, Buffer.from(digits, 'ascii'));
}

function printableOrUtf8(value: string): Buffer {
  return /^[A-Za-z0-9 '()+,\-./:=?]*$/.test(value) ? derTlv(TAG.printableString, Buffer.from(value, 'ascii')) : derTlv(TAG.utf8String, Buffer.from(value, 'utf8'));
}

/** A distinguished name; attributes are emitted in the order C, O, OU, L, CN like WeChat Pay's certificates. */
export interface DistinguishedName {
  commonName: string;
  organization?: string;
  organizationalUnit?: string;
  locality?: string;
  country?: string;
}

function derName(name: DistinguishedName): Buffer {
  const rdns: Array<[string, string | undefined]> = [
    [OID.countryName, name.country],
    [OID.organizationName, name.organization],
    [OID.organizationalUnitName, name.organizationalUnit],
    [OID.localityName, name.locality],
    [OID.commonName, name.commonName],
  ];
  return derSequence(
    ...rdns.filter((r): r is [string, string] => r[1] !== undefined).map(([oid, value]) => derSet(derSequence(derOid(oid), printableOrUtf8(value)))),
  );
}

function extension(oid: string, critical: boolean, value: Buffer): Buffer {
  return derSequence(derOid(oid), ...(critical ? [derTlv(TAG.boolean, Buffer.from([0xff]))] : []), derTlv(TAG.octetString, value));
}

/** What goes into a certificate. */
export interface CertificateSpec {
  /** Hex serial (upper or lower case); must describe a positive number. */
  serialHex: string;
  subject: DistinguishedName;
  /** Defaults to the subject (self-signed). */
  issuer?: DistinguishedName;
  notBefore: Date;
  notAfter: Date;
  /** The key certified. */
  publicKey: KeyObject;
  /** The key that signs the certificate: the subject's own private key for a self-signed certificate. */
  signingKey: KeyObject;
}

/** Builds a DER X.509 v3 certificate signed with sha256WithRSAEncryption. */
export function buildCertificateDer(spec: CertificateSpec): Buffer {
  const algorithm = derSequence(derOid(OID.sha256WithRSAEncryption), derNull());
  const publicKey = spec.publicKey.type === 'private' ? createPublicKey(spec.publicKey) : spec.publicKey;
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  // keyUsage: digitalSignature (bit 0) + keyEncipherment (bit 2) -> 0b1010_0000 with 5 unused bits.
  const keyUsage = derTlv(TAG.bitString, Buffer.from([0x05, 0xa0]));
  const extensions = derExplicit(
    3,
    derSequence(extension(OID.basicConstraints, true, derSequence()), extension(OID.keyUsage, true, keyUsage)),
  );
  const tbs = derSequence(
    derExplicit(0, derTlv(TAG.integer, Buffer.from([2]))), // v3
    derUnsignedInteger(Buffer.from(spec.serialHex.length % 2 ? `0${spec.serialHex}` : spec.serialHex, 'hex')),
    algorithm,
    derName(spec.issuer ?? spec.subject),
    derSequence(derTime(spec.notBefore), derTime(spec.notAfter)),
    derName(spec.subject),
    spki,
    extensions,
  );
  const signature = sign('sha256', tbs, spec.signingKey);
  return derSequence(tbs, algorithm, derBitString(signature));
}

/** PEM armour with 64-character lines. */
export function toPem(der: Buffer, label: string): string {
  const b64 = der.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

/** Builds a PEM X.509 v3 certificate (see `buildCertificateDer`). */
export function buildCertificatePem(spec: CertificateSpec): string {
  return toPem(buildCertificateDer(spec), 'CERTIFICATE');
}
