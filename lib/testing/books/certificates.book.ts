/**
 * The certificates book: `GET /v3/certificates` lists every unexpired platform certificate, encrypted with
 * the APIv3 key, signed with the certificate the request names (else the one in force); rotation lists a newer
 * certificate ahead of the day it starts signing, and may retire the old ones.
 */
import { aesGcmEncrypt } from '../../core/crypto/aes-gcm';
import { generateHex } from '../../core/crypto/nonce';
import { formatBeijingRfc3339, parseRfc3339 } from '../../core/time';
import { CERTIFICATE_ENDPOINTS } from '../../certificates/certificates.endpoints';
import { generatePlatformCertificate, type SimulatorPlatformCertificate } from '../simulator-credentials';
import { SIMULATOR_ERRORS, SimulatorHttpError } from '../simulator-errors';
import { type ApiAnswer, json, type SimulatorBook, type SimulatorBookContext, type SimulatorRoute } from '../simulator-routes';

const YEAR = 365 * 86_400_000;

/** Platform certificates of one simulated provider (kept in the simulator's credentials). */
export class CertificatesBook implements SimulatorBook {
  readonly name = 'certificates';

  constructor(
    private readonly ctx: SimulatorBookContext,
    /** The merchant has only the WeChat Pay public key: the list answers 404 RESOURCE_NOT_EXISTS. */
    private readonly publicKeyOnly: boolean,
    /** How long a rotated-in certificate is listed before it signs (WeChat Pay: about 24 h). */
    private readonly switchDelayMs = 24 * 3600_000,
  ) {}

  routes(): SimulatorRoute[] {
    return [{ endpoint: CERTIFICATE_ENDPOINTS.list, handle: () => this.list() }];
  }

  /**
   * Adds a platform certificate, listed at once and signing from its effective time, now + `signAfterMs` (default the
   * book's switch delay), as WeChat Pay announces a new certificate ahead of the switch; `retireOldAfterMs` moves the
   * listed expire_time of the older ones to now + that. The caller rebuilds the keyring from the credentials.
   */
  async rotate(options: { retireOldAfterMs?: number; signAfterMs?: number }): Promise<SimulatorPlatformCertificate> {
    if (this.publicKeyOnly) throw new Error('rotatePlatformCertificate: this simulator is publicKeyOnly and has no platform certificates');
    const creds = this.ctx.credentials();
    const now = this.ctx.clock();
    const latest = Math.max(0, ...creds.platformCertificates.map((c) => parseRfc3339(c.effectiveTime)?.getTime() ?? 0));
    const signAfterMs = options.signAfterMs ?? this.switchDelayMs;
    if (!(signAfterMs >= 0)) throw new Error('rotatePlatformCertificate: signAfterMs must be >= 0');
    const cert = await generatePlatformCertificate(Math.max(now + signAfterMs, latest + 1000), now + 5 * YEAR);
    if (options.retireOldAfterMs !== undefined) {
      const retire = now + options.retireOldAfterMs;
      for (const old of creds.platformCertificates) {
        if ((parseRfc3339(old.expireTime)?.getTime() ?? Infinity) > retire) old.expireTime = formatBeijingRfc3339(new Date(retire));
      }
    }
    creds.platformCertificates.push(cert);
    return cert;
  }

  private list(): ApiAnswer {
    if (this.publicKeyOnly) throw new SimulatorHttpError(SIMULATOR_ERRORS.CERTIFICATES_UNAVAILABLE);
    const creds = this.ctx.credentials();
    const key = Buffer.from(creds.apiV3Key, 'utf8');
    const now = this.ctx.clock();
    const data = creds.platformCertificates
      .filter((c) => (parseRfc3339(c.expireTime)?.getTime() ?? Infinity) > now)
      .map((c) => {
        const nonce = generateHex(12);
        return {
          serial_no: c.serialNo,
          effective_time: c.effectiveTime,
          expire_time: c.expireTime,
          encrypt_certificate: { algorithm: 'AEAD_AES_256_GCM', nonce, associated_data: 'certificate', ciphertext: aesGcmEncrypt(key, nonce, 'certificate', c.certificatePem) },
        };
      });
    return { ...json(200, { data }), forceSignWith: 'platformCertificate' };
  }
}
