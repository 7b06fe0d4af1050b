import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { Controller, HttpCode, Inject, type INestApplication, Post, Req } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import {
  NotificationResource,
  type PartnerTransactionResource,
  WechatPartnerPayModule,
  WechatPayNotification,
} from '../lib';
import type { SignedNotification } from '../lib/testing';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { WechatPayNotificationError } from '../lib/core/notify/notification.errors';
import { comparePaired, median, pairedLine } from './harness';
import { type NotificationBenchFixture, notificationBenchFixture } from './notification.bench';

/** The part of autocannon's API used here (the package ships no types). */
interface AutocannonResult {
  requests: { average: number; total: number };
  non2xx: number;
  errors: number;
}
type Autocannon = (options: {
  url: string;
  connections: number;
  duration: number;
  requests: Array<{ method: 'POST'; path: string; headers: Record<string, string>; body: string }>;
}) => Promise<AutocannonResult>;
// eslint-disable-next-line @typescript-eslint/no-require-imports, @typescript-eslint/no-var-requires
const autocannon: Autocannon = require('autocannon');

type Adapter = 'express' | 'fastify';
const FIXTURE = Symbol('fixture');
const POOL = 500;
/** Paired rounds of one second per route and adapter. */
const ROUNDS = Number(process.env.BENCH_HTTP_ROUNDS ?? 40);

@Controller()
class BenchController {
  constructor(@Inject(FIXTURE) private readonly fixture: NotificationBenchFixture) {}

  @Post('notify')
  @WechatPayNotification('TRANSACTION.SUCCESS')
  notify(@NotificationResource() _tx: PartnerTransactionResource): void {}

  /** The same raw crypto inline: verify, decrypt, JSON.parse. */
  @Post('bare')
  @HttpCode(204)
  bare(@Req() req: { headers: Record<string, string | string[] | undefined>; rawBody?: Buffer }): void {
    this.fixture.rawPipeline(req.headers, req.rawBody ?? Buffer.alloc(0));
  }
}

/**
 * The A/B switch of the resource validation, in the server process only: the library's `validateNotificationResource`
 * (the `readResource` fast path) or plain `plainToInstance` + `validateSync`, swapped on the CommonJS exports object
 * that the notification parser reads at every call. No switch in the library itself.
 */
function resourceValidationSwitch(): (variant: 'fast' | 'sync') => void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports, @typescript-eslint/no-var-requires
  const mod = require('../lib/core/notify/resource-validation') as { validateNotificationResource: (cls: new () => object, plain: object) => object };
  const fast = mod.validateNotificationResource;
  const sync = (cls: new () => object, plain: object): object => {
    const instance = plainToInstance(cls, plain);
    const errors = validateSync(instance, { forbidUnknownValues: true });
    if (errors.length) throw new WechatPayNotificationError('INVALID_RESOURCE', `invalid fields: ${errors.map((e) => e.property).join(', ')}`);
    return instance;
  };
  return (variant) => {
    mod.validateNotificationResource = variant === 'fast' ? fast : sync;
  };
}

/** Child process: the Nest app under load, alone on its event loop. */
async function serve(adapter: Adapter): Promise<void> {
  const select = resourceValidationSwitch();
  process.on('message', (m) => {
    if (m === 'variant:fast' || m === 'variant:sync') {
      select(m === 'variant:fast' ? 'fast' : 'sync');
      process.send?.({ variant: m });
    }
  });
  const fixture = notificationBenchFixture();
  const ref = await Test.createTestingModule({
    imports: [WechatPartnerPayModule.forRoot(fixture.options)],
    controllers: [BenchController],
    providers: [{ provide: FIXTURE, useValue: fixture }],
  }).compile();
  const app: INestApplication =
    adapter === 'express'
      ? ref.createNestApplication<NestExpressApplication>({ rawBody: true, logger: false })
      : ref.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), {
          rawBody: true,
          logger: false,
        });
  await app.listen(0, '127.0.0.1');
  // The server's own CPU time, so that CPU per request can be compared even when other processes share the machine.
  process.on('message', (m) => m === 'cpu' && process.send?.({ cpu: process.cpuUsage() }));
  const pool = Array.from({ length: POOL }, (_, i) => fixture.notification(i));
  process.send?.({ url: (await app.getUrl()).replace('[::1]', '127.0.0.1'), pool });
}

async function serverCpuMicros(child: ChildProcess): Promise<number> {
  child.send('cpu');
  const [{ cpu }] = (await once(child, 'message')) as [{ cpu: NodeJS.CpuUsage }];
  return cpu.user + cpu.system;
}

async function selectVariant(child: ChildProcess, variant: 'fast' | 'sync'): Promise<void> {
  child.send(`variant:${variant}`);
  await once(child, 'message');
}

/** Throughput (req/s) and server CPU per request (µs) of one route, over one second of load. */
async function measure(
  child: ChildProcess,
  url: string,
  path: string,
  pool: SignedNotification[],
): Promise<{ rps: number; cpuPerRequest: number }> {
  const requests = pool.map((n) => ({ method: 'POST' as const, path, headers: n.headers, body: n.body }));
  const before = await serverCpuMicros(child);
  const r = await autocannon({ url, connections: 8, duration: 1, requests });
  const cpu = (await serverCpuMicros(child)) - before;
  if (r.non2xx || r.errors) throw new Error(`${path}: ${r.non2xx} non-2xx replies, ${r.errors} errors`);
  return { rps: r.requests.average, cpuPerRequest: cpu / r.requests.total };
}

/** One side of a paired comparison: the route, and what to tell the server before each of its rounds. */
interface Side {
  path: string;
  before?: (child: ChildProcess) => Promise<void>;
}

/**
 * Paired one-second rounds of two sides on the same server, per adapter: throughput (req/s) and server requests per
 * CPU-second (CPU per request inverted, so that higher is better like the other figures). `a` is reported as "ours",
 * `b` as the "limit".
 */
async function pairedSides(title: string, a: Side, b: Side): Promise<string[]> {
  const out: string[] = [];
  for (const adapter of ['express', 'fastify'] as const) {
    const child = fork(__filename, ['--serve', adapter], { stdio: 'inherit' });
    try {
      const [{ url, pool }] = (await once(child, 'message')) as [{ url: string; pool: SignedNotification[] }];
      // First deliveries run the handler; afterwards every request is a verified, decrypted duplicate (204 too).
      for (const n of pool) {
        const res = await fetch(`${url}/notify`, { method: 'POST', headers: n.headers, body: n.body });
        if (res.status !== 204) throw new Error(`warm-up delivery answered ${res.status}`);
      }
      const cpu: Record<'a' | 'b', number[]> = { a: [], b: [] };
      const run = async (k: 'a' | 'b'): Promise<number> => {
        const side = k === 'a' ? a : b;
        await side.before?.(child);
        const m = await measure(child, url, side.path, pool);
        cpu[k].push(m.cpuPerRequest);
        return m.rps;
      };
      // Both sides warm (JIT) before the first measured round.
      await run('a');
      await run('b');
      cpu.a.length = cpu.b.length = 0;
      const r = await comparePaired(() => run('a'), () => run('b'), ROUNDS);
      out.push(pairedLine(`${title} (${adapter})`, r, 'req/s'));
      const cpuRatios = cpu.a.map((us, i) => cpu.b[i] / us).sort((x, y) => x - y);
      out.push(
        pairedLine(
          `  same, server requests per CPU-second (${adapter})`,
          {
            ours: 1e6 / median(cpu.a),
            limit: 1e6 / median(cpu.b),
            ratio: median(cpuRatios),
            q1: cpuRatios[Math.floor(cpuRatios.length / 4)],
            q3: cpuRatios[Math.floor((cpuRatios.length * 3) / 4)],
          },
          'req/cpu-s',
        ),
      );
    } finally {
      child.kill();
    }
  }
  return out;
}

/** HTTP throughput of a `@WechatPayNotification()` route vs a bare route doing the raw crypto inline, per adapter. */
export function main(): Promise<string[]> {
  return pairedSides('HTTP @WechatPayNotification() vs bare', { path: '/notify' }, { path: '/bare' });
}

/**
 * Is the resource fast path worth keeping (the >= 10 % rule)? The same `@WechatPayNotification()` route, its
 * resource validation flipped between `plainToInstance` + `validateSync` ("ours") and the fast path ("limit")
 * before each paired one-second round: a ratio below 1 is what the fast path gains.
 * Run: `npx ts-node --transpile-only bench/notification-http.bench.ts ab`.
 */
export function resourceValidationAb(): Promise<string[]> {
  return pairedSides(
    'A/B validateSync / fast path',
    { path: '/notify', before: (child) => selectVariant(child, 'sync') },
    { path: '/notify', before: (child) => selectVariant(child, 'fast') },
  );
}

if (process.argv[2] === '--serve') {
  serve(process.argv[3] as Adapter).catch((e) => {
    console.error(e);
    process.exit(1);
  });
} else if (require.main === module) {
  (process.argv[2] === 'ab' ? resourceValidationAb() : main()).then(
    (lines) => console.log(lines.join('\n')),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
