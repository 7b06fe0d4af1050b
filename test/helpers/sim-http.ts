/**
 * Talking to the simulator without the module, for the simulator's own e2e suites: requests signed with the core at
 * the simulator's clock and sent with fetch; answers verified with the core.
 */
import {
  buildRequestMessage,
  buildResponseMessage,
  formatAuthorization,
  generateNonce,
  loadPrivateKey,
  loadPublicKey,
  rsaSign,
  rsaVerify,
} from '../../lib/core/crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WechatPaySimulator } from '../../lib/testing';

export type Json = Record<string, unknown>;

/** An answer of the simulator, with its raw bytes. */
export interface Reply {
  status: number;
  headers: Headers;
  raw: Buffer;
  json: Json;
}

/** Options of `signedCall`. */
export interface SignedCallOptions {
  /** A JSON body, or exact bytes (signed as they are). */
  body?: Json | Buffer;
  /** Authorization mchid; default the provider's. */
  mchid?: string;
  /** Send no Authorization header at all. */
  unsigned?: boolean;
  /** Extra request headers, e.g. `Wechatpay-Serial`. */
  headers?: Record<string, string>;
}

/** A request signed with the core (buildRequestMessage over the exact body bytes) at the simulator clock. */
export async function signedCall(sim: WechatPaySimulator, method: string, url: string, o: SignedCallOptions = {}): Promise<Reply> {
  const c = sim.credentials;
  const bytes = o.body === undefined ? Buffer.alloc(0) : Buffer.isBuffer(o.body) ? o.body : Buffer.from(JSON.stringify(o.body));
  const headers: Record<string, string> = { Accept: 'application/json', ...(bytes.length ? { 'Content-Type': 'application/json' } : {}), ...o.headers };
  if (!o.unsigned) {
    const timestamp = String(Math.floor(sim.now() / 1000));
    const nonce = generateNonce();
    const signature = rsaSign(buildRequestMessage(method, url, timestamp, nonce, bytes), loadPrivateKey(c.merchantPrivateKeyPem));
    headers.Authorization = formatAuthorization({ mchid: o.mchid ?? c.spMchid, nonce_str: nonce, timestamp, serial_no: c.merchantSerialNo, signature });
  }
  const res = await fetch(sim.baseUrl + url, { method, headers, body: bytes.length ? bytes : undefined });
  const raw = Buffer.from(await res.arrayBuffer());
  const isJson = raw.length > 0 && (res.headers.get('content-type') ?? '').includes('json');
  return { status: res.status, headers: res.headers, raw, json: isJson ? (JSON.parse(raw.toString('utf8')) as Json) : {} };
}

/** Verifies a signed message (answer or notification) with the key its Wechatpay-Serial names. */
export function verifiesSigned(sim: WechatPaySimulator, header: (name: string) => string, raw: Buffer): boolean {
  const pem = sim.verificationKeys()[header('wechatpay-serial')];
  return !!pem && rsaVerify(buildResponseMessage(header('wechatpay-timestamp'), header('wechatpay-nonce'), raw), header('wechatpay-signature'), loadPublicKey(pem));
}

/** A notification as a receiver got it. */
export interface ReceivedNotification {
  headers: IncomingHttpHeaders;
  raw: Buffer;
}

/** A notify_url on 127.0.0.1 that answers 204 and keeps what it got; its server is added to `running` for closing. */
export async function notifyReceiver(running: Array<{ close(): Promise<void> }>): Promise<{ url: string; received: ReceivedNotification[] }> {
  const received: ReceivedNotification[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, raw: Buffer.concat(chunks) });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  running.push({ close: () => new Promise((resolve) => (server.closeAllConnections(), server.close(() => resolve()))) });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/notify`, received };
}
