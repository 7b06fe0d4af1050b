/**
 * The simulator's HTTP edge on node:http, and nothing of any endpoint family: reads the body up to a size cap,
 * authenticates the request over the raw `req.url` and body, checks the mchid, finds the route in the route table,
 * signs the answer (bill files go out unsigned), applies injected faults, and records every request. `/__sim/*`
 * requests go to the tooling table, unauthenticated.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { WECHATPAY_HEADERS } from '../core/crypto/headers';
import { checkMchidConsistency, type SimulatorRequestAuthenticator } from './simulator-auth';
import { errorForStatus, SIMULATOR_ERRORS, SimulatorHttpError } from './simulator-errors';
import type { SimulatorFault, SimulatorFaults } from './simulator-faults';
import {
  type ApiAnswer,
  errorAnswer,
  JSON_CONTENT_TYPE,
  parseJsonObject,
  type SimulatorRouteTable,
  type ToolingAnswer,
  toolingJson,
  type ToolingRouteTable,
} from './simulator-routes';
import { readMultipartRequest } from './simulator-multipart';
import { corruptSignature, requestId, signMessageHeaders, type SimulatorKeyring, type SimulatorSignWith } from './simulator-signing';

/** One request the simulator received. */
export interface SimulatorRequestRecord {
  method: string;
  /** Raw request target: path and query as received. */
  path: string;
  /** HTTP status answered; 0 when the connection was reset. */
  status: number;
  /** Error code of the answer, if any. */
  code?: string;
  /** Simulator clock (ms). */
  at: number;
}

/** What the transport needs from the simulator. */
export interface SimulatorTransportOptions {
  routes: SimulatorRouteTable;
  tooling: ToolingRouteTable;
  authenticator: SimulatorRequestAuthenticator;
  /** The provider: the only mchid accepted in Authorization. */
  spMchid: string;
  /** The live keys (they change on certificate rotation). */
  keyring(): SimulatorKeyring;
  /** Key for answers when the request's `Wechatpay-Serial` names no key the simulator has. */
  signWith: SimulatorSignWith;
  faults: SimulatorFaults;
  /** A real-time sleep that closing ends early (fault delays). */
  sleep(ms: number): Promise<void>;
  clock(): number;
  maxBodyBytes: number;
  closing(): boolean;
  /** Called after every POST an API route answered (the CLI saves its state file then). */
  changed(): void;
  /** One line per request; never keys, headers or bodies. */
  logger?: (line: string) => void;
}

/** Flips one byte in the middle of a copy (a corrupted body or bill). */
function flipByte(bytes: Buffer): Buffer {
  const out = Buffer.from(bytes);
  if (out.length) out[out.length >> 1] ^= 0x01;
  return out;
}

/** The simulator's HTTP server. */
export class SimulatorTransport {
  /** Every request received (API and `/__sim`), in order. */
  readonly requests: SimulatorRequestRecord[] = [];
  private readonly server: Server;

  constructor(private readonly options: SimulatorTransportOptions) {
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  /** Listens; resolves with the base URL (`http://host:port`, IPv6 hosts in brackets). */
  async listen(port: number, host: string): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const address = this.server.address() as AddressInfo;
    const name = address.family === 'IPv6' || address.address.includes(':') ? `[${address.address}]` : address.address;
    return `http://${name}:${address.port}`;
  }

  /** Stops listening and drops every open connection. */
  close(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private record(req: IncomingMessage, status: number, code?: string): void {
    this.requests.push({ method: req.method ?? 'GET', path: req.url ?? '/', status, ...(code ? { code } : {}), at: this.options.clock() });
    this.options.logger?.(`${req.method} ${(req.url ?? '/').split('?')[0]} ${status || 'RESET'}`);
  }

  /** The body, or undefined when it is larger than the cap (read to the end all the same, so that we can answer). */
  private readBody(req: IncomingMessage): Promise<Buffer | undefined> {
    const max = this.options.maxBodyBytes;
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= max) chunks.push(chunk);
      });
      req.on('end', () => resolve(size > max ? undefined : Buffer.concat(chunks)));
      req.on('error', reject);
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const body = await this.readBody(req);
      const pathname = (req.url ?? '/').split('?')[0];
      if (pathname.startsWith('/__sim/')) return this.handleTooling(req, res, pathname, body);
      await this.handleApi(req, res, pathname, body);
    } catch {
      // The client went away mid-request, or answering failed: there is nobody left to answer.
      if (!res.headersSent && !res.destroyed) res.destroy();
    }
  }

  private async handleApi(req: IncomingMessage, res: ServerResponse, pathname: string, body: Buffer | undefined): Promise<void> {
    const fault = this.options.faults.take(req.method ?? 'GET', pathname);
    if (fault?.delayMs) await this.options.sleep(fault.delayMs);
    if (this.options.closing()) return void res.destroy();
    let answer: ApiAnswer | undefined;
    if (!fault || fault.afterProcessing || (!fault.resetConnection && fault.status === undefined)) {
      answer = this.answer(req, pathname, body);
    }
    if (fault?.resetConnection) {
      this.record(req, 0, 'RESET');
      req.socket.destroy();
      return;
    }
    if (fault?.status !== undefined) {
      const def = errorForStatus(fault.status);
      answer = errorAnswer(new SimulatorHttpError({ ...def, status: fault.status, code: fault.code ?? def.code }, fault.message ?? def.message));
    }
    this.send(req, res, answer!, fault);
  }

  /** Authenticates, routes and runs an API request; every failure becomes a JSON error answer. */
  private answer(req: IncomingMessage, pathname: string, body: Buffer | undefined): ApiAnswer {
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    try {
      if (body === undefined) throw new SimulatorHttpError(SIMULATOR_ERRORS.BODY_TOO_LARGE);
      const found = this.options.routes.find(method, pathname);
      if (!found) throw new SimulatorHttpError(SIMULATOR_ERRORS.NOT_FOUND, `${SIMULATOR_ERRORS.NOT_FOUND.message}: ${method} ${pathname}`);
      const upload = found.route.multipart ? readMultipartRequest(req.headers['content-type'], body) : undefined;
      const auth = this.options.authenticator.authenticate({ method, url, headers: req.headers, body: upload?.signed ?? body });
      if (upload?.error) throw upload.error;
      const multipart = upload?.multipart;
      const query = new URL(url, 'http://simulator').searchParams;
      const parsed = method === 'POST' && !multipart ? parseJsonObject(body) : undefined;
      if (!found.route.checksMchidItself) {
        const claimed = parsed ? parsed.sp_mchid : (query.get('sp_mchid') ?? undefined);
        checkMchidConsistency(auth.mchid, this.options.spMchid, typeof claimed === 'string' ? claimed : undefined);
      }
      const answer = found.route.handle({ auth, params: found.params, query, body: parsed ?? {}, headers: req.headers, multipart });
      if (method === 'POST') this.options.changed();
      return answer;
    } catch (err) {
      if (err instanceof SimulatorHttpError) return errorAnswer(err);
      throw err;
    }
  }

  /** Signs and writes an API answer, applying the signature/body faults. */
  private send(req: IncomingMessage, res: ServerResponse, answer: ApiAnswer, fault: SimulatorFault | undefined): void {
    if (answer.file) return this.sendFile(req, res, answer.file, fault);
    const keyring = this.options.keyring();
    const requestSerial = req.headers['wechatpay-serial'] as string | undefined;
    const key =
      answer.forceSignWith === 'platformCertificate' && answer.status < 300
        ? keyring.forCertificateAnswer(requestSerial)
        : answer.forceSignWith && answer.status < 300
          ? keyring.byMode(answer.forceSignWith)
          : keyring.forRequest(requestSerial, this.options.signWith);
    let body: Buffer = Buffer.from(answer.body, 'utf8');
    const headers: Record<string, string> = signMessageHeaders(body, key, Math.floor(this.options.clock() / 1000));
    if (fault?.badSignature) headers[WECHATPAY_HEADERS.signature] = corruptSignature(headers[WECHATPAY_HEADERS.signature]);
    if (fault?.flipBillByte) body = flipByte(body);
    headers[WECHATPAY_HEADERS.requestId] = requestId(answer.internalCode);
    headers['Content-Type'] = JSON_CONTENT_TYPE;
    headers['Content-Length'] = String(body.length);
    this.record(req, answer.status, answer.code);
    res.writeHead(answer.status, headers);
    res.end(body);
  }

  /**
   * Writes a bill file: no Wechatpay-* headers. `flipBillByte` corrupts the bill before compression, so
   * that a GZIP download still unzips and the client's SHA1 check is what catches it; an encrypted file is corrupted
   * in its ciphertext, so that AES-GCM authentication is what catches it.
   */
  private sendFile(req: IncomingMessage, res: ServerResponse, file: NonNullable<ApiAnswer['file']>, fault: SimulatorFault | undefined): void {
    const bill = fault?.flipBillByte ? flipByte(file.bytes) : file.bytes;
    const body = file.gzip ? gzipSync(bill) : bill;
    this.record(req, 200);
    res.writeHead(200, {
      [WECHATPAY_HEADERS.requestId]: requestId(0),
      'Content-Type': file.encrypted ? 'application/octet-stream' : file.gzip ? 'application/x-gzip' : 'text/plain; charset=utf-8',
      'Content-Length': String(body.length),
    });
    res.end(body);
  }

  /** `/__sim/*`: unauthenticated test endpoints (pay, cashier, inspection). Not part of WeChat Pay. */
  private handleTooling(req: IncomingMessage, res: ServerResponse, pathname: string, body: Buffer | undefined): void {
    const method = req.method ?? 'GET';
    let answer: ToolingAnswer;
    try {
      const route = this.options.tooling.find(method, pathname);
      if (!route) throw new SimulatorHttpError(SIMULATOR_ERRORS.NOT_FOUND);
      let input: Record<string, unknown> = {};
      if (method === 'POST') {
        if (body === undefined) throw new SimulatorHttpError(SIMULATOR_ERRORS.BODY_TOO_LARGE);
        input = parseJsonObject(body);
      }
      answer = route.handle({ query: new URL(req.url ?? '/', 'http://simulator').searchParams, body: input });
    } catch (err) {
      if (!(err instanceof SimulatorHttpError)) throw err;
      answer = toolingJson(err.status, err.toBody(), err.code);
    }
    this.record(req, answer.status, answer.code);
    res.writeHead(answer.status, { 'Content-Type': answer.contentType, 'Content-Length': String(Buffer.byteLength(answer.body)), ...answer.headers });
    res.end(answer.body);
  }
}
