/**
 * One app instance of the lifecycle bench in a child process (forked with an IPC channel by lifecycle.bench.ts).
 *
 * - `BENCH_CHILD_MODE=lifecycle`: the instance of test/helpers/lifecycle-instance.ts (WechatPartnerPayModule on the
 *   simulator, WechatPayLifecycleModule on BullMQ, the Redis dedupe store, the recording paid/closed handlers), its
 *   config as JSON in LIFECYCLE_INSTANCE. It creates the orders the parent hands it (prepay + `watchOrder`), and its
 *   worker runs whatever watch steps BullMQ gives it.
 * - `BENCH_CHILD_MODE=raw`: the raw baseline, WechatPartnerPayModule alone (no lifecycle, no queue, no Redis): it
 *   makes the prepays, queries and closes the parent hands it, nothing else.
 *
 * Messages: `{ id, op, no? }` in, `{ id, ok, … }` out; `stats` answers this process's counters, CPU time since it
 * was ready and peak RSS. It sends `{ ready: true }` once booted.
 */
import 'reflect-metadata';
import { Test } from '@nestjs/testing';
import { WechatPartnerPayModule, WechatPayOrdersService } from '../lib';
import { WechatPayLifecycleMetrics } from '../lib/lifecycle';
import { type LifecycleInstanceConfig, startLifecycleInstance } from '../test/helpers/lifecycle-instance';

export interface ChildRequest {
  id: number;
  op: 'create' | 'prepay' | 'query' | 'close-order' | 'stats' | 'stop';
  no?: string;
}

export interface ChildStats {
  /** Lifecycle counters of this instance (raw mode: only `queries` is set). */
  watched: number;
  queries: number;
  rescuedByQuery: number;
  closedAtExpiry: number;
  retries: number;
  /** CPU time (user + system) since the instance was ready, µs. */
  cpuUserUs: number;
  cpuSystemUs: number;
  /** RSS when ready (after boot, before any work) and the peak so far (the kernel's maxrss), bytes. */
  readyRss: number;
  maxRss: number;
}

export interface ChildReply {
  id: number;
  ok: boolean;
  error?: string;
  stats?: ChildStats;
}

const SUB = '1900000109';
const send = (m: ChildReply | { ready: true }) => process.send?.(m);

async function main(): Promise<void> {
  const config = JSON.parse(process.env.LIFECYCLE_INSTANCE ?? '{}') as LifecycleInstanceConfig;
  const raw = process.env.BENCH_CHILD_MODE === 'raw';
  let orders: WechatPayOrdersService;
  let close: () => Promise<void>;
  let counters: () => Omit<ChildStats, 'cpuUserUs' | 'cpuSystemUs' | 'readyRss' | 'maxRss'>;
  let watch: ((no: string, time_expire: Date) => Promise<void>) | undefined;
  let rawQueries = 0;
  if (raw) {
    const ref = await Test.createTestingModule({ imports: [WechatPartnerPayModule.forRoot({ isGlobal: true, ...config.moduleOptions })] }).compile();
    const app = ref.createNestApplication({ logger: false });
    await app.init();
    orders = app.get(WechatPayOrdersService);
    close = () => app.close();
    counters = () => ({ watched: 0, queries: rawQueries, rescuedByQuery: 0, closedAtExpiry: 0, retries: 0 });
  } else {
    const inst = await startLifecycleInstance(config);
    orders = inst.app.get(WechatPayOrdersService);
    const metrics = inst.app.get(WechatPayLifecycleMetrics);
    close = () => inst.close();
    counters = () => {
      const m = metrics.snapshot();
      return { watched: m.watched, queries: m.queries, rescuedByQuery: m.rescuedByQuery, closedAtExpiry: m.closedAtExpiry, retries: m.retries };
    };
    watch = (no, time_expire) => inst.watch.watchOrder({ sub_mchid: SUB, out_trade_no: no, time_expire });
  }
  const cpuAtReady = process.cpuUsage();
  const readyRss = process.memoryUsage.rss();

  async function run(req: ChildRequest): Promise<ChildReply> {
    const no = req.no ?? '';
    switch (req.op) {
      case 'create': {
        // WeChat's time_expire has whole seconds: round up so that the order lives at least 15 s.
        const time_expire = new Date(Math.ceil((Date.now() + 15_000) / 1000) * 1000);
        await orders.nativePrepay({ sub_mchid: SUB, description: 'bench', out_trade_no: no, amount: { total: 100 }, time_expire });
        if (!watch) throw new Error('create needs BENCH_CHILD_MODE=lifecycle');
        await watch(no, time_expire);
        return { id: req.id, ok: true };
      }
      case 'prepay': {
        const time_expire = new Date(Math.ceil((Date.now() + 15_000) / 1000) * 1000);
        await orders.nativePrepay({ sub_mchid: SUB, description: 'bench', out_trade_no: no, amount: { total: 100 }, time_expire });
        return { id: req.id, ok: true };
      }
      case 'query':
        rawQueries++;
        await orders.queryByOutTradeNo({ sub_mchid: SUB, out_trade_no: no });
        return { id: req.id, ok: true };
      case 'close-order':
        await orders.close({ sub_mchid: SUB, out_trade_no: no });
        return { id: req.id, ok: true };
      case 'stats': {
        const cpu = process.cpuUsage(cpuAtReady);
        const maxRss = process.resourceUsage().maxRSS * 1024;
        return { id: req.id, ok: true, stats: { ...counters(), cpuUserUs: cpu.user, cpuSystemUs: cpu.system, readyRss, maxRss } };
      }
      case 'stop':
        await close();
        return { id: req.id, ok: true };
    }
  }

  process.on('message', (req: ChildRequest) => {
    run(req).then(
      (reply) => {
        send(reply);
        if (req.op === 'stop') process.disconnect();
      },
      (e: unknown) => send({ id: req.id, ok: false, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) }),
    );
  });
  send({ ready: true });
}

main().catch((e: unknown) => {
  process.stderr.write(`bench instance failed: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
