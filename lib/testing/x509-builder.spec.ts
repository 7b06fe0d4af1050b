import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { buildCertificatePem, derOid, derUnsignedInteger } from './x509-builder';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });

describe('x509-builder', () => {
  it('encodes OIDs and positive integers as DER', () => {
    expect(derOid('1.2.840.113549.1.1.11').toString('hex')).toBe('06092a864886f70d01010b');
    expect(derUnsignedInteger(Buffer.from([0x80])).toString('hex')).toBe('02020080');
    expect(derUnsignedInteger(Buffer.from([0x00, 0x00, 0x7f])).toString('hex')).toBe('02017f');
  });

  it('builds a certificate that node parses, with its serial, validity (UTCTime and GeneralizedTime), subject and key', () => {
    const pem = buildCertificatePem({
      serialHex: '5157F09EFDC096DE15EBE81A47057A7232F1B8E1',
      subject: { country: 'CN', organization: '微信商户系统', organizationalUnit: 'Test 公司', commonName: '1230000109' },
      notBefore: new Date('2024-01-01T00:00:00Z'),
      notAfter: new Date('2060-01-01T00:00:00Z'),
      publicKey,
      signingKey: privateKey,
    });
    const cert = new X509Certificate(pem);
    expect(cert.serialNumber.toUpperCase()).toBe('5157F09EFDC096DE15EBE81A47057A7232F1B8E1');
    expect(new Date(cert.validFrom).toISOString()).toBe('2024-01-01T00:00:00.000Z');
    expect(new Date(cert.validTo).toISOString()).toBe('2060-01-01T00:00:00.000Z');
    expect(cert.subject).toContain('CN=1230000109');
    expect(cert.subject).toContain('O=微信商户系统');
    expect(cert.publicKey.equals(publicKey)).toBe(true);
    expect(cert.verify(publicKey)).toBe(true);
    expect(pem.split('\n').every((line) => line.length <= 64)).toBe(true);
  });

  it('keeps a serial whose high bit is set positive', () => {
    const pem = buildCertificatePem({ serialHex: 'F0', subject: { commonName: 'x' }, notBefore: new Date(), notAfter: new Date(Date.now() + 1e9), publicKey: privateKey, signingKey: privateKey });
    expect(new X509Certificate(pem).serialNumber.replace(/^0+/, '').toUpperCase()).toBe('F0');
  });
});
