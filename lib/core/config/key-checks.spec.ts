import { generateKeyPairSync } from 'node:crypto';
import { buildCertificatePem } from '../../testing/x509-builder';
import { publicKeyInputProblem, rsaKeySizeProblem } from './key-checks';

const merchant = generateKeyPairSync('rsa', { modulusLength: 2048 });
const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
const pkcs8 = (k: typeof merchant.privateKey) => k.export({ type: 'pkcs8', format: 'pem' }).toString();

describe('rsaKeySizeProblem', () => {
  it('names a key under 2048 bits and accepts 2048', () => {
    const short = generateKeyPairSync('rsa', { modulusLength: 1024 });
    expect(rsaKeySizeProblem(short.privateKey, 'privateKey')).toMatch(
      /^privateKey is a 1024-bit RSA key: WeChat Pay uses 2048-bit/,
    );
    expect(rsaKeySizeProblem(merchant.publicKey, 'verification.publicKey')).toBeUndefined();
  });
});

describe('publicKeyInputProblem', () => {
  it('accepts a public key', () => {
    expect(
      publicKeyInputProblem(
        other.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
        merchant.privateKey,
      ),
    ).toBeUndefined();
    expect(publicKeyInputProblem(other.publicKey, merchant.privateKey)).toBeUndefined();
  });

  it('says a private key was given, and when it is the merchant key', () => {
    const own = publicKeyInputProblem(pkcs8(merchant.privateKey), merchant.privateKey);
    expect(own).toMatch(
      /^verification.publicKey is a private key \("-----BEGIN PRIVATE KEY-----"\), the same as privateKey \(apiclient_key.pem\); expected the WeChat Pay public key pub_key.pem/,
    );
    const rsa = other.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
    expect(publicKeyInputProblem(rsa, merchant.privateKey)).toMatch(
      /is a private key \("-----BEGIN RSA PRIVATE KEY-----"\); expected/,
    );
    expect(publicKeyInputProblem(Buffer.from(rsa), merchant.privateKey)).toMatch(/is a private key/);
    expect(publicKeyInputProblem(merchant.privateKey, merchant.privateKey)).toMatch(
      /is a private key KeyObject \(your merchant API private key, privateKey\)/,
    );
    expect(own).not.toContain(pkcs8(merchant.privateKey).split('\n')[1]);
  });

  it('says a certificate was given: the merchant certificate, or another', () => {
    const cert = (key: typeof merchant) =>
      buildCertificatePem({
        publicKey: key.publicKey,
        signingKey: key.privateKey,
        serialHex: '5157F09EFDC096DE15EBE81A47057A72',
        notBefore: new Date(0),
        notAfter: new Date(Date.now() + 86_400_000),
        subject: { commonName: 'x' },
      });
    expect(publicKeyInputProblem(cert(merchant), merchant.privateKey)).toMatch(
      /is your merchant API certificate \(apiclient_cert.pem, it matches privateKey\).*belongs in merchantCertificate/,
    );
    expect(publicKeyInputProblem(cert(other), merchant.privateKey)).toMatch(
      /is an X.509 certificate .*verification.certificates with mode 'platformCertificate'/,
    );
  });
});
