/**
 * Checks of key material that parse fine but cannot work: short RSA keys, and the wrong kind of PEM given as the
 * WeChat Pay public key (Node derives a public key from a private key without complaint, so a pasted
 * `apiclient_key.pem` would otherwise boot and fail every verification).
 */
import { createPublicKey, type KeyObject, X509Certificate } from 'node:crypto';
import { keysMatch } from '../crypto/keys';

/** WeChat Pay issues and accepts 2048-bit RSA keys only. */
export const MIN_RSA_BITS = 2048;

/** A problem when `key` is an RSA key shorter than 2048 bits. */
export function rsaKeySizeProblem(key: KeyObject, what: string): string | undefined {
  const bits = key.asymmetricKeyDetails?.modulusLength;
  if (bits === undefined || bits >= MIN_RSA_BITS) return undefined;
  return `${what} is a ${bits}-bit RSA key: WeChat Pay uses ${MIN_RSA_BITS}-bit RSA keys and refuses shorter ones; check that this is the file WeChat Pay issued`;
}

function isKeyObject(v: unknown): v is KeyObject {
  return typeof v === 'object' && v !== null && 'asymmetricKeyType' in v && 'export' in v;
}

/** The PEM label of the first block, e.g. `PRIVATE KEY`, `CERTIFICATE`. */
function pemLabel(input: string | Buffer): string | undefined {
  const text = typeof input === 'string' ? input : input.subarray(0, 200).toString('latin1');
  return /-----BEGIN ([A-Z0-9 ]+)-----/.exec(text)?.[1];
}

const EXPECTED_PUBLIC_KEY =
  'expected the WeChat Pay public key pub_key.pem ("-----BEGIN PUBLIC KEY-----", 商户平台 > 账户中心 > API安全 > 微信支付公钥)';

/**
 * A problem when `verification.publicKey` is not a public key: a private key (possibly the merchant's own
 * `privateKey`) or a certificate (the merchant's `apiclient_cert.pem`, or a platform certificate). Never echoes the key.
 */
export function publicKeyInputProblem(
  input: unknown,
  merchantPrivateKey: KeyObject | undefined,
  what = 'verification.publicKey',
): string | undefined {
  if (isKeyObject(input)) {
    if (input.type !== 'private') return undefined;
    const own = merchantPrivateKey && keysMatch(createPublicKey(input), merchantPrivateKey);
    return `${what} is a private key KeyObject${own ? ' (your merchant API private key, privateKey)' : ''}; ${EXPECTED_PUBLIC_KEY}`;
  }
  if (typeof input !== 'string' && !Buffer.isBuffer(input)) return undefined;
  const label = pemLabel(input);
  if (label?.endsWith('PRIVATE KEY')) {
    let own = false;
    try {
      own = !!merchantPrivateKey && keysMatch(createPublicKey(input), merchantPrivateKey);
    } catch {
      /* unparsable: the label alone says enough */
    }
    return (
      `${what} is a private key ("-----BEGIN ${label}-----")${own ? ', the same as privateKey (apiclient_key.pem)' : ''}; ` +
      `${EXPECTED_PUBLIC_KEY}. A private key never goes here: WeChat Pay keeps its own`
    );
  }
  if (label === 'CERTIFICATE') {
    let merchant = false;
    try {
      merchant = !!merchantPrivateKey && keysMatch(new X509Certificate(input).publicKey, merchantPrivateKey);
    } catch {
      /* unparsable: the label alone says enough */
    }
    return merchant
      ? `${what} is your merchant API certificate (apiclient_cert.pem, it matches privateKey); ${EXPECTED_PUBLIC_KEY}. The merchant certificate belongs in merchantCertificate`
      : `${what} is an X.509 certificate ("-----BEGIN CERTIFICATE-----"); ${EXPECTED_PUBLIC_KEY}. ` +
          "A WeChat Pay platform certificate (平台证书) belongs in verification.certificates with mode 'platformCertificate'";
  }
  return undefined;
}
