import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WechatPaySimulator } from 'nestjs-wechat-partner-pay/testing';
import { AppModule } from '../../sample/src/app.module';
import type { SampleOverrides } from '../../sample/src/settings';
import { EmbeddedSimulator } from '../../sample/src/wechat-pay/embedded-simulator';

/** HTTP adapters the sample runs on. */
export type SampleAdapter = 'express' | 'fastify';

/** The sample app running in-process on a free port, with its embedded simulator and a throwaway database. */
export interface RunningSample {
  app: INestApplication;
  /** `http://127.0.0.1:PORT` */
  url: string;
  sim: WechatPaySimulator;
  dbFile: string;
  close(): Promise<void>;
}

/**
 * A port nobody listens on right now. The sample needs its port before it starts (the notify_url given to the
 * simulator contains it), so the test cannot let the app pick one at listen time.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts the sample as `main.ts` / `main-fastify.ts` do, but never with a developer's sample/.env: always the
 * embedded simulator, and a fresh SQLite file unless `dbFile` is given (two instances may share one).
 */
export async function startSample(
  adapter: SampleAdapter = 'express',
  overrides: SampleOverrides = {},
): Promise<RunningSample> {
  const dir = overrides.dbFile ? undefined : mkdtempSync(join(tmpdir(), 'sample-shop-'));
  const dbFile = overrides.dbFile ?? join(dir as string, 'shop.sqlite');
  const port = await freePort();
  const module = AppModule.register({
    envFile: false,
    forceSimulator: true,
    // The demo sales of yesterday (and their late notifications) only where a test asks for them.
    demoHistory: false,
    ...overrides,
    port,
    host: '127.0.0.1',
    dbFile,
  });
  const options = { rawBody: true, forceCloseConnections: true, logger: false as const, abortOnError: false };
  const app: INestApplication =
    adapter === 'express'
      ? await NestFactory.create(module, options)
      : await NestFactory.create<NestFastifyApplication>(module, new FastifyAdapter(), options);
  try {
    await app.listen(port, '127.0.0.1');
  } catch (err) {
    await app.close();
    throw err;
  }
  const sim = app.get(EmbeddedSimulator).simulator;
  if (!sim) throw new Error('the sample did not start its embedded simulator');
  return {
    app,
    url: `http://127.0.0.1:${port}`,
    sim,
    dbFile,
    async close() {
      await app.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Polls `read` until `done` holds for its value (or fails after `timeoutMs`). */
export async function waitFor<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 5000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline)
      throw new Error(`condition not met within ${timeoutMs} ms; last value: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
