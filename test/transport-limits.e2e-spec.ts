/**
 * Bounded, typed I/O of the transport against real HTTP servers that misbehave on purpose: a body that stops after
 * the headers, a connection cut mid-body, an answer larger than `maxResponseBytes`, 429/503 with `Retry-After`, and
 * an error `message` of a megabyte. Each server is a plain node:http server; the client is the real Nest module.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Test, type TestingModule } from '@nestjs/testing';
import {
  WechatPartnerPayModule,
  WechatPayApiError,
  WechatPayBillsService,
  WechatPayClient,
  WechatPayError,
  WechatPayNetworkError,
  WechatPayResponseTooLargeError,
} from 'nestjs-wechat-partner-pay';
import { WechatPaySimulator } from 'nestjs-wechat-partner-pay/testing';

let sim: WechatPaySimulator;
beforeAll(async () => {
  sim = await WechatPaySimulator.start();
});
afterAll(() => sim.close());

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

interface Rogue {
  url: string;
  hits: number;
  server: Server;
  close(): Promise<void>;
}

async function rogue(handler: Handler): Promise<Rogue> {
  const state = { hits: 0 };
  const server = createServer((req, res) => {
    state.hits++;
    handler(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    get hits() {
      return state.hits;
    },
    server,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

async function moduleAt(baseUrl: string, overrides: object = {}): Promise<TestingModule> {
  const ref = await Test.createTestingModule({
    imports: [WechatPartnerPayModule.forRoot({ ...sim.moduleOptions(), baseUrl, ...overrides })],
  }).compile();
  await ref.init();
  return ref;
}

async function drain(stream: NodeJS.ReadableStream): Promise<unknown> {
  try {
    for await (const chunk of stream) void chunk;
    return undefined;
  } catch (e) {
    return e;
  }
}

describe('streamed bodies (bill downloads)', () => {
  it('a body that stops after the headers fails with a typed timeout (streamIdleTimeoutMs)', async () => {
    const server = await rogue((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.write('交易时间,公众账号ID\r\n');
      // ... and then nothing, with the connection open.
    });
    const ref = await moduleAt(server.url, { timeoutMs: 5000, streamIdleTimeoutMs: 300 });
    try {
      const body = await ref.get(WechatPayClient).download(`${server.url}/v3/billdownload/file?token=t`);
      const err = await drain(body);
      expect(err).toBeInstanceOf(WechatPayNetworkError);
      expect(err).toMatchObject({ timedOut: true, retryable: true, path: '/v3/billdownload/file' });
      expect((err as Error).message).toMatch(/no data .* 300 ms/);
    } finally {
      await ref.close();
      await server.close();
    }
  });

  it('a consumer that does not read for longer than streamIdleTimeoutMs is not a silent server', async () => {
    const body = Buffer.alloc(4 * 1024 * 1024, 66);
    const server = await rogue((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': String(body.length) });
      res.end(body);
    });
    const ref = await moduleAt(server.url, { streamIdleTimeoutMs: 100 });
    try {
      const stream = await ref.get(WechatPayClient).download(`${server.url}/v3/billdownload/file?token=t`);
      await new Promise((r) => setTimeout(r, 500));
      let size = 0;
      for await (const chunk of stream) {
        size += (chunk as Buffer).length;
        if (size === (chunk as Buffer).length) await new Promise((r) => setTimeout(r, 500));
      }
      expect(size).toBe(body.length);
    } finally {
      await ref.close();
      await server.close();
    }
  });

  it('a connection cut mid-body is a WechatPayNetworkError, not a plain Error: aborted', async () => {
    const server = await rogue((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': '100000' });
      res.write(Buffer.alloc(1000, 65), () => setTimeout(() => res.socket?.destroy(), 20));
    });
    const ref = await moduleAt(server.url);
    try {
      const body = await ref.get(WechatPayClient).download(`${server.url}/v3/billdownload/file?token=t`);
      const err = await drain(body);
      expect(err).toBeInstanceOf(WechatPayNetworkError);
      expect(err).toMatchObject({ timedOut: false, retryable: true });
    } finally {
      await ref.close();
      await server.close();
    }
  });

  it('the bill download stream reports the cut as a WechatPayError too', async () => {
    const server = await rogue((req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': '100000' });
      res.write(Buffer.alloc(1000, 65), () => setTimeout(() => res.socket?.destroy(), 20));
      void req;
    });
    const ref = await moduleAt(server.url);
    try {
      const bills = ref.get(WechatPayBillsService);
      const stream = await bills.download({ hash_type: 'SHA1', hash_value: '0'.repeat(40), download_url: `${server.url}/v3/billdownload/file?token=t` });
      const err = await drain(stream);
      expect(err).toBeInstanceOf(WechatPayNetworkError);
    } finally {
      await ref.close();
      await server.close();
    }
  });
});

describe('maxResponseBytes', () => {
  it('an oversized JSON answer fails while receiving, before any signature check, without reading the rest', async () => {
    let written = 0;
    let closedAt = -1;
    const server = await rogue((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      res.socket?.once('close', () => (closedAt = written));
      const pump = (): void => {
        while (written < 256 * 1024 * 1024 && !res.destroyed) {
          written += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    });
    const ref = await moduleAt(server.url, { maxResponseBytes: 1024 * 1024, retry: { attempts: 1 } });
    try {
      const err = await ref.get(WechatPayClient).request({ method: 'GET', path: '/v3/certificates' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WechatPayResponseTooLargeError);
      expect(err).toMatchObject({ limit: 1024 * 1024, method: 'GET', path: '/v3/certificates' });
      // The server sees the close a moment after the client gave up.
      for (let i = 0; i < 100 && closedAt < 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(closedAt).toBeGreaterThan(0);
      expect(closedAt).toBeLessThan(32 * 1024 * 1024);
    } finally {
      await ref.close();
      await server.close();
    }
  });

  it('a declared Content-Length over the cap fails before reading the body', async () => {
    const server = await rogue((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': String(50 * 1024 * 1024) });
      res.write('{');
    });
    const ref = await moduleAt(server.url, { maxResponseBytes: 4096, retry: { attempts: 1 } });
    try {
      const err = await ref.get(WechatPayClient).request({ method: 'GET', path: '/v3/certificates' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WechatPayResponseTooLargeError);
      expect((err as Error).message).toMatch(/maxResponseBytes/);
    } finally {
      await ref.close();
      await server.close();
    }
  });

  it('refuses a maxResponseBytes that is not a positive integer at boot', async () => {
    await expect(moduleAt(sim.baseUrl, { maxResponseBytes: 0 })).rejects.toThrow(/maxResponseBytes must be an integer/);
    await expect(moduleAt(sim.baseUrl, { streamIdleTimeoutMs: -1 })).rejects.toThrow(/streamIdleTimeoutMs must be an integer/);
    await expect(moduleAt(sim.baseUrl, { retry: { maxRetryAfterMs: 'x' } })).rejects.toThrow(/retry.maxRetryAfterMs must be an integer/);
  });
});

describe('Retry-After', () => {
  it.each([429, 503])('HTTP %i with Retry-After beyond the budget fails at once, typed and retryable, carrying it', async (status) => {
    const server = await rogue((_req, res) => {
      res.writeHead(status, { 'Content-Type': 'application/json', 'Retry-After': '3600' });
      res.end('{"code":"FREQUENCY_LIMITED","message":"频率超限"}');
    });
    const ref = await moduleAt(server.url, { retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 5 } });
    try {
      const err = await ref.get(WechatPayClient).request({ method: 'GET', path: '/v3/certificates' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WechatPayApiError);
      expect(err).toMatchObject({ status, retryable: true, retryAfterMs: 3_600_000 });
      expect(server.hits).toBe(1);
    } finally {
      await ref.close();
      await server.close();
    }
  });

  it('a Retry-After within retry.maxRetryAfterMs is waited for, then the call is retried', async () => {
    const server = await rogue((req, res) => {
      if (server.hits === 1) {
        res.writeHead(429, { 'Content-Type': 'application/json', 'Retry-After': '1' });
        return void res.end('{"code":"FREQUENCY_LIMITED","message":"slow down"}');
      }
      res.writeHead(500, { 'Content-Type': 'application/json' });
      res.end('{"code":"SYSTEM_ERROR","message":"second answer"}');
      void req;
    });
    const ref = await moduleAt(server.url, { retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 5, maxRetryAfterMs: 2000 } });
    try {
      const err = await ref.get(WechatPayClient).request({ method: 'GET', path: '/v3/certificates' }).catch((e: unknown) => e);
      expect(err).toMatchObject({ status: 500, code: 'SYSTEM_ERROR' });
      expect(server.hits).toBe(2);
    } finally {
      await ref.close();
      await server.close();
    }
  });

  it('an HTTP-date Retry-After is understood', async () => {
    const server = await rogue((_req, res) => {
      res.writeHead(429, { 'Content-Type': 'application/json', 'Retry-After': new Date(Date.now() + 7200_000).toUTCString() });
      res.end('{"code":"FREQUENCY_LIMITED","message":"x"}');
    });
    const ref = await moduleAt(server.url, { retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 5 } });
    try {
      const err = (await ref.get(WechatPayClient).request({ method: 'GET', path: '/v3/certificates' }).catch((e: unknown) => e)) as WechatPayApiError;
      expect(err.retryAfterMs).toBeGreaterThan(7000_000);
      expect(err.retryAfterMs).toBeLessThanOrEqual(7200_000);
      expect(server.hits).toBe(1);
    } finally {
      await ref.close();
      await server.close();
    }
  });
});

describe('error texts from WeChat Pay are capped', () => {
  it('a 1 MB message and detail are cut to a bounded size', async () => {
    const huge = 'x'.repeat(1024 * 1024);
    const long = 'y'.repeat(256 * 1024);
    const server = await rogue((_req, res) => {
      res.writeHead(400, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ code: 'PARAM_ERROR', message: huge, detail: { field: long, value: long, issue: long, location: 'body', other: { deep: long } } }));
    });
    const ref = await moduleAt(server.url, { retry: { attempts: 1 } });
    try {
      const err = (await ref.get(WechatPayClient).request({ method: 'GET', path: '/v3/certificates' }).catch((e: unknown) => e)) as WechatPayApiError;
      expect(err).toBeInstanceOf(WechatPayApiError);
      expect(err.code).toBe('PARAM_ERROR');
      expect(err.wechatMessage.length).toBeLessThanOrEqual(512);
      expect(err.message.length).toBeLessThan(1024);
      expect(JSON.stringify(err.detail).length).toBeLessThan(4096);
      expect(err.detail?.location).toBe('body');
    } finally {
      await ref.close();
      await server.close();
    }
  });
});

it('every error above is a WechatPayError', () => {
  expect(new WechatPayResponseTooLargeError(1, 'GET', '/x')).toBeInstanceOf(WechatPayError);
});
