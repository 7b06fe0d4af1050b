/**
 * Key material of the simulated service provider: merchant API key and certificate, WeChat Pay public key, platform
 * certificates and APIv3 key. RSA-2048 generation costs ~100 ms per key, so one default set is generated lazily per
 * process and then only ever read (an immutable cache of keys, never server state).
 */
import { generateKeyPair, type KeyObject, randomBytes, randomInt } from 'node:crypto';
import { formatBeijingRfc3339 } from '../core/time';
import { generateNonce } from '../core/crypto/nonce';
import { buildCertificatePem } from './x509-builder';

/** A sub-merchant (特约商户) known to the simulator. */
export interface SimulatorSubMerchant {
  subMchid: string;
  /** AppID bound to the sub-merchant; `sub_appid` in orders must equal it. */
  subAppid?: string;
  /** Whether the sub-merchant authorized the provider (受理关系); false answers 403 NO_AUTH. */
  authorized: boolean;
  /** Shown on the cashier page. */
  name?: string;
}

/** A platform certificate (平台证书) with the private key the simulator signs with. */
export interface SimulatorPlatformCertificate {
  /** 40 upper-case hex characters. */
  serialNo: string;
  certificatePem: string;
  privateKeyPem: string;
  /** RFC 3339, Beijing time. */
  effectiveTime: string;
  /** RFC 3339, Beijing time. */
  expireTime: string;
}

/** Everything a merchant configures, plus the simulator's own private keys. */
export interface SimulatorCredentials {
  spMchid: string;
  spAppid: string;
  subMerchants: SimulatorSubMerchant[];
  /** `apiclient_key.pem` of the provider (PKCS#8). */
  merchantPrivateKeyPem: string;
  /** `apiclient_cert.pem` of the provider. */
  merchantCertificatePem: string;
  /** Serial of `merchantCertificatePem`, 40 upper-case hex characters. */
  merchantSerialNo: string;
  /** APIv3 key: 32 ASCII characters. */
  apiV3Key: string;
  /** Oldest first; the newest (latest effective time) signs by default. */
  platformCertificates: SimulatorPlatformCertificate[];
  /** `PUB_KEY_ID_…` of the WeChat Pay public key. */
  publicKeyId: string;
  /** `pub_key.pem` (SPKI). */
  publicKeyPem: string;
  /** The simulator's private half of the WeChat Pay public key (never configured in a merchant app). */
  publicKeyPrivateKeyPem: string;
}

const DAY = 86_400_000;
const YEAR = 365 * DAY;

/** Default identities, the ones used in WeChat Pay's own examples. */
export const SIMULATOR_DEFAULT_IDS = {
  spMchid: '1230000109',
  spAppid: 'wx8888888888888888',
  subMerchants: [
    { subMchid: '1900000109', subAppid: 'wxd678efh567hg6999', authorized: true, name: '腾讯充值中心 Test Shop' },
    { subMchid: '1900000110', subAppid: 'wx1234567890abcdef', authorized: true, name: 'Second Test Shop 第二商户' },
    { subMchid: '1900000199', authorized: false, name: 'Unauthorized Shop 未授权商户' },
  ] as readonly SimulatorSubMerchant[],
} as const;

function generateRsaKeyPair(): Promise<{ privateKey: KeyObject; publicKey: KeyObject }> {
  return new Promise((resolve, reject) =>
    generateKeyPair('rsa', { modulusLength: 2048 }, (err, publicKey, privateKey) => (err ? reject(err) : resolve({ privateKey, publicKey }))),
  );
}

function privatePem(key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/** A random certificate serial: 40 upper-case hex characters, first nibble 1–7 so that DER keeps all 20 bytes. */
export function randomCertificateSerial(): string {
  const bytes = randomBytes(20);
  bytes[0] = 0x10 + (bytes[0] % 0x70);
  return bytes.toString('hex').toUpperCase();
}

/** Generates a platform certificate valid from `effectiveTime` to `expireTime` (ms). */
export async function generatePlatformCertificate(effectiveTime: number, expireTime: number): Promise<SimulatorPlatformCertificate> {
  const { privateKey, publicKey } = await generateRsaKeyPair();
  const serialNo = randomCertificateSerial();
  // Whole seconds, so that the certificate's validity and the listed times agree exactly.
  const notBefore = new Date(Math.floor(effectiveTime / 1000) * 1000);
  const notAfter = new Date(Math.floor(expireTime / 1000) * 1000);
  const certificatePem = buildCertificatePem({
    serialHex: serialNo,
    subject: { country: 'CN', organization: 'Tenpay.com (simulated)', organizationalUnit: 'Tenpay.com CA Center (simulated)', locality: 'Shenzhen', commonName: 'Tenpay.com sign' },
    notBefore,
    notAfter,
    publicKey,
    signingKey: privateKey,
  });
  return { serialNo, certificatePem, privateKeyPem: privatePem(privateKey), effectiveTime: formatBeijingRfc3339(notBefore), expireTime: formatBeijingRfc3339(notAfter) };
}

/** Options of `generateSimulatorCredentials`. */
export interface GenerateCredentialsOptions {
  spMchid?: string;
  spAppid?: string;
  subMerchants?: SimulatorSubMerchant[];
  /** How many platform certificates (1 or 2: an older and a newer one). Default 2. */
  platformCertificateCount?: 1 | 2;
  /** Reference time for certificate validity (ms). Default `Date.now()`. */
  now?: number;
}

/** Generates a fresh, independent set of credentials (slow: 3–4 RSA keys). Prefer `defaultSimulatorCredentials()` in tests. */
export async function generateSimulatorCredentials(options: GenerateCredentialsOptions = {}): Promise<SimulatorCredentials> {
  const now = options.now ?? Date.now();
  const spMchid = options.spMchid ?? SIMULATOR_DEFAULT_IDS.spMchid;
  const count = options.platformCertificateCount ?? 2;
  // Wide validity windows, so that tests may move the simulator's clock by weeks without leaving them.
  const [merchant, pub, ...platformCertificates] = await Promise.all([
    generateRsaKeyPair(),
    generateRsaKeyPair(),
    ...(count === 2 ? [generatePlatformCertificate(now - 3 * YEAR, now + 2 * YEAR)] : []),
    generatePlatformCertificate(now - 30 * DAY, now + 5 * YEAR),
  ]);
  const merchantSerialNo = randomCertificateSerial();
  const merchantCertificatePem = buildCertificatePem({
    serialHex: merchantSerialNo,
    subject: { country: 'CN', organization: '微信商户系统', organizationalUnit: 'Simulated Service Provider 模拟服务商', locality: 'Shenzhen', commonName: spMchid },
    issuer: { country: 'CN', organization: 'Tenpay.com (simulated)', organizationalUnit: 'Tenpay.com CA Center (simulated)', commonName: 'Tenpay.com Root CA (simulated)' },
    notBefore: new Date(Math.floor((now - YEAR) / 1000) * 1000),
    notAfter: new Date(Math.floor((now + 5 * YEAR) / 1000) * 1000),
    publicKey: merchant.publicKey,
    // The simulator has no CA key: the certificate is signed by its own key, the issuer name is only a label.
    signingKey: merchant.privateKey,
  });
  return {
    spMchid,
    spAppid: options.spAppid ?? SIMULATOR_DEFAULT_IDS.spAppid,
    subMerchants: (options.subMerchants ?? SIMULATOR_DEFAULT_IDS.subMerchants).map((s) => ({ ...s })),
    merchantPrivateKeyPem: privatePem(merchant.privateKey),
    merchantCertificatePem,
    merchantSerialNo,
    apiV3Key: generateNonce(32),
    platformCertificates: platformCertificates as SimulatorPlatformCertificate[],
    publicKeyId: `PUB_KEY_ID_01${spMchid.padStart(10, '0')}${String(randomInt(1e9)).padStart(9, '0')}00000006`,
    publicKeyPem: pub.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    publicKeyPrivateKeyPem: privatePem(pub.privateKey),
  };
}

/** Freezes an object graph in place (credentials handed out must not be mutated by callers). */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

let cached: Promise<Readonly<SimulatorCredentials>> | undefined;

/** The process-wide default credentials, generated once on first use and frozen (two platform certificates). */
export function defaultSimulatorCredentials(): Promise<Readonly<SimulatorCredentials>> {
  cached ??= generateSimulatorCredentials().then(deepFreeze);
  // A failed generation must not poison the cache for later callers.
  cached.catch(() => (cached = undefined));
  return cached;
}

/** A deep, mutable copy of credentials (the simulator never mutates what it was given). */
export function cloneCredentials(c: Readonly<SimulatorCredentials>): SimulatorCredentials {
  return {
    ...c,
    subMerchants: c.subMerchants.map((s) => ({ ...s })),
    platformCertificates: c.platformCertificates.map((p) => ({ ...p })),
  };
}
