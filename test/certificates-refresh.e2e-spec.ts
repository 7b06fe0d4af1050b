/**
 * Platform certificate refreshes against a certificate server whose answers the test controls (real HTTP, real
 * certificates, real AES-GCM and RSA signatures): every path shares one in-flight download, forced downloads are
 * rate limited, and once a certificate is trusted a refresh must be signed by a key already trusted.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Test, type TestingModule } from '@nestjs/testing';
import {
  WechatPartnerPayModule,
  WechatPayCertificatesService,
  WechatPayError,
  WechatPayNotificationService,
  WechatPaySignatureError,
} from 'nestjs-wechat-partner-pay';
import { aesGcmEncrypt, buildResponseMessage, generateNonce, loadPrivateKey, rsaSign } from 'nestjs-wechat-partner-pay/crypto';
import {
  buildSignedNotification,
  generatePlatformCertificate,
  type SimulatorPlatformCertificate,
  WechatPaySimulator,
} from 'nestjs-wechat-partner-pay/testing';

const YEAR = 365 * 24 * 3600_000;

/** A `/v3/certificates` endpoint: lists `listed`, signed by `signer`; or fails with 500 while `failing`. */
class CertificateServer {
  listed: SimulatorPlatformCertificate[] = [];
  signer?: SimulatorPlatformCertificate;
  failing = false;
  /** Delay before answering, so that concurrent callers overlap one download. */
  delayMs = 0;
  downloads = 0;
  private server?: Server;
  url = '';

  constructor(private readonly apiV3Key: string) {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      if (!req.url?.startsWith('/v3/certificates')) {
        res.writeHead(404).end();
        return;
      }
      this.downloads++;
      setTimeout(() => {
        if (this.failing || !this.signer) {
          res.writeHead(500, { 'Content-Type': 'application/json' }).end('{"code":"SYSTEM_ERROR","message":"down"}');
          return;
        }
        const data = this.listed.map((c) => {
          const nonce = generateNonce(12);
          return {
            serial_no: c.serialNo,
            effective_time: c.effectiveTime,
            expire_time: c.expireTime,
            encrypt_certificate: {
              algorithm: 'AEAD_AES_256_GCM',
              nonce,
              associated_data: 'certificate',
              ciphertext: aesGcmEncrypt(Buffer.from(this.apiV3Key, 'utf8'), nonce, 'certificate', c.certificatePem),
            },
          };
        });
        const body = JSON.stringify({ data });
        const timestamp = String(Math.floor(Date.now() / 1000));
        const nonce = generateNonce();
        res.writeHead(200, {
          'Content-Type': 'application/json',
          'Wechatpay-Timestamp': timestamp,
          'Wechatpay-Nonce': nonce,
          'Wechatpay-Serial': this.signer.serialNo,
          'Wechatpay-Signature': rsaSign(buildResponseMessage(timestamp, nonce, body), loadPrivateKey(this.signer.privateKeyPem, 'signer')),
          'Wechatpay-Signature-Type': 'WECHATPAY2-SHA256-RSA2048',
        });
        res.end(body);
      }, this.delayMs);
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    return new Promise((r) => {
      this.server?.closeAllConnections();
      this.server?.close(() => r());
    });
  }
}

let sim: WechatPaySimulator;
let certA: SimulatorPlatformCertificate;
let certB: SimulatorPlatformCertificate;
beforeAll(async () => {
  sim = await WechatPaySimulator.start();
  const now = Date.now();
  certA = await generatePlatformCertificate(now - 3600_000, now + YEAR);
  certB = await generatePlatformCertificate(now - 60_000, now + 2 * YEAR);
});
afterAll(() => sim.close());

let server: CertificateServer;
let ref: TestingModule | undefined;
beforeEach(async () => {
  server = new CertificateServer(sim.credentials.apiV3Key);
  await server.start();
});
afterEach(async () => {
  await ref?.close();
  ref = undefined;
  await server.close();
});

async function boot(verification: Record<string, unknown> = {}): Promise<WechatPayCertificatesService> {
  const options = sim.moduleOptions({
    baseUrl: server.url,
    retry: { attempts: 1 },
    verification: { mode: 'platformCertificate', ...verification } as never,
  });
  ref = await Test.createTestingModule({ imports: [WechatPartnerPayModule.forRoot(options)] }).compile();
  await ref.init();
  return ref.get(WechatPayCertificatesService);
}

describe('single flight and rate limit', () => {
  it('10 concurrent encryptSensitiveWithRefresh() calls after a failed boot download make one download', async () => {
    server.failing = true;
    const certs = await boot();
    expect(server.downloads).toBe(1);
    server.failing = false;
    server.listed = [certA];
    server.signer = certA;
    server.delayMs = 100;
    const results = await Promise.all(Array.from({ length: 10 }, () => certs.encryptSensitiveWithRefresh('张三')));
    expect(server.downloads).toBe(2);
    expect(new Set(results.map((r) => r.serial))).toEqual(new Set([certA.serialNo]));
  });

  it('a refresh() while another is in flight joins it', async () => {
    server.listed = [certA];
    server.signer = certA;
    const certs = await boot();
    server.delayMs = 100;
    await Promise.all([certs.refresh(), certs.refresh(), certs.refresh()]);
    expect(server.downloads).toBe(2);
  });

  it('forced downloads are rate limited: a second failing one within minForcedRefreshIntervalMs downloads nothing', async () => {
    server.failing = true;
    const certs = await boot({ minForcedRefreshIntervalMs: 3_600_000 });
    const first = await certs.encryptSensitiveWithRefresh('x').catch((e: unknown) => e);
    expect(first).toBeInstanceOf(WechatPayError);
    expect(server.downloads).toBe(2);
    const again = await Promise.all(Array.from({ length: 5 }, () => certs.encryptSensitiveWithRefresh('x').catch((e: unknown) => e)));
    for (const e of again) {
      expect(e).toBeInstanceOf(WechatPayError);
      expect((e as Error).message).toMatch(/minForcedRefreshIntervalMs/);
    }
    expect(server.downloads).toBe(2);
  });

  it('a burst of notifications naming unknown serials costs at most one download per interval', async () => {
    server.listed = [certA];
    server.signer = certA;
    await boot({ minForcedRefreshIntervalMs: 3_600_000 });
    const notifications = ref!.get(WechatPayNotificationService);
    for (let i = 0; i < 5; i++) {
      const forged = await generatePlatformCertificate(Date.now() - 1000, Date.now() + YEAR);
      const n = buildSignedNotification({
        eventType: 'TRANSACTION.SUCCESS',
        resource: { out_trade_no: 'X' },
        associatedData: 'transaction',
        apiV3Key: sim.credentials.apiV3Key,
        signingKey: forged.privateKeyPem,
        serial: forged.serialNo,
      });
      await expect(notifications.parse(n.headers, n.body)).rejects.toMatchObject({ reason: 'UNKNOWN_SERIAL' });
    }
    expect(server.downloads).toBe(2);
  });

  it('refuses a negative minForcedRefreshIntervalMs at boot', async () => {
    await expect(boot({ minForcedRefreshIntervalMs: -1 })).rejects.toThrow(/minForcedRefreshIntervalMs must be an integer/);
  });
});

describe('trust after bootstrap', () => {
  it('bootstraps from the download itself when nothing is trusted yet', async () => {
    server.listed = [certA];
    server.signer = certA;
    const certs = await boot();
    expect(certs.list().map((k) => k.serial)).toEqual([certA.serialNo]);
  });

  it('once a certificate is trusted, an answer signed only by a certificate it introduces is refused', async () => {
    server.listed = [certA];
    server.signer = certA;
    const certs = await boot();
    server.listed = [certA, certB];
    server.signer = certB;
    const err = await certs.refresh().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WechatPaySignatureError);
    expect(err).toMatchObject({ reason: 'UNKNOWN_SERIAL' });
    expect(certs.list().map((k) => k.serial)).toEqual([certA.serialNo]);
    // The real sequence: the new certificate is listed by an answer the trusted one signs.
    server.signer = certA;
    await certs.refresh();
    expect(certs.list().map((k) => k.serial).sort()).toEqual([certA.serialNo, certB.serialNo].sort());
    server.signer = certB;
    await certs.refresh();
  });

  it('configured certificates are trusted from the start: the first download must be signed by one of them', async () => {
    server.listed = [certB];
    server.signer = certB;
    const certs = await boot({ certificates: [certA.certificatePem] });
    // The boot download failed verification (logged); only the configured certificate is known.
    expect(certs.list().map((k) => k.serial)).toEqual([certA.serialNo]);
    server.signer = certA;
    await certs.refresh();
    expect(certs.list().map((k) => k.serial).sort()).toEqual([certA.serialNo, certB.serialNo].sort());
  });
});
