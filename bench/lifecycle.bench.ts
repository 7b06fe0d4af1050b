/**
 * The lifecycle at scale (not a test; figures for BENCHMARKS.md).
 *
 * 1. 10,000 watched orders over two app instances (two Nest apps in this process, each with its BullMQ worker, on
 *    the real Redis at 127.0.0.1:6379 under a unique prefix, deleted afterwards), against the simulator with
 *    notifications off so that every order is settled by the watch: a third paid at once, a third paid about a
 *    second later, a third never (closed at expiry). The default schedule (+1, +3, +10, +30 min) is scaled down
 *    1:300 (+200 ms, +600 ms, +2 s, +6 s) and time_expire is 15 s after creation. Reports the time until every
 *    watch is final, queries per order, and Redis memory (used_memory) at the peak and after.
 * 2. A 1,000,000-row ALL trade bill (synthetic, ~280 MiB, in os.tmpdir()) reconciled by `reconcileTradeBill`
 *    against a streamed local source of the same orders and refunds with planted differences; reports time, peak
 *    RSS (sampled) and maxRSS. The verified download of such a bill is measured in the Bills section.
 *
 * Run: npx ts-node --transpile-only bench/lifecycle.bench.ts [watch|bill]
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream, statSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { parseTradeBill } from '../lib/bills/bill-parser';
import { WechatPayOrdersService } from '../lib';
import { WechatPayLifecycleMetrics, reconcileTradeBill, type LocalOrderRecord, type LocalRefundRecord } from '../lib/lifecycle';
import { generateTradeBill } from '../lib/testing/bill-writer';
import { WechatPaySimulator } from '../lib/testing';
import { syntheticTradeRows } from '../test/fixtures/bills/bill-fixtures';
import { deleteKeys, type LifecycleInstance, startLifecycleInstance } from '../test/helpers/lifecycle-instance';

const MiB = 1024 * 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0);
}

async function watchBench(orders = 10_000): Promise<string[]> {
  const prefix = `wechatpay-bench:lifecycle:${randomUUID()}:`;
  const admin = new Redis({ host: '127.0.0.1', port: 6379 });
  const sim = await WechatPaySimulator.start({ notificationMode: 'once' });
  const instances: LifecycleInstance[] = [];
  try {
    const base = {
      prefix,
      moduleOptions: sim.moduleOptions({ notifyUrl: 'http://127.0.0.1:9/wechatpay/notify', timeoutMs: 30_000 }),
      scheduleMs: [200, 600, 2000, 6000],
      expiryGraceMs: 500,
      concurrency: 20,
    };
    for (const name of ['a', 'b']) instances.push(await startLifecycleInstance({ ...base, name }));
    const [a] = instances;
    const memBefore = await usedMemory(admin);
    const service = a.app.get(WechatPayOrdersService);
    const run = randomUUID().replace(/-/g, '').slice(0, 8);
    const start = Date.now();
    const later: Array<Promise<unknown>> = [];
    let next = 0;
    let peakMem = memBefore;
    // 8 creators in parallel (the simulator shares this process): prepay, watch, and pay a third at once.
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let i = next++; i < orders; i = next++) {
          const no = `BW${run}${String(i).padStart(6, '0')}`;
          const time_expire = new Date(Math.ceil((Date.now() + 15_000) / 1000) * 1000);
          await service.nativePrepay({ sub_mchid: '1900000109', description: 'bench', out_trade_no: no, amount: { total: 100 }, time_expire });
          await a.watch.watchOrder({ sub_mchid: '1900000109', out_trade_no: no, time_expire });
          if (i % 3 === 0) await sim.pay(no, { sub_mchid: '1900000109' });
          else if (i % 3 === 1) later.push(sleep(1000).then(() => sim.pay(no, { sub_mchid: '1900000109' })));
        }
      }),
    );
    const created = Date.now();
    peakMem = Math.max(peakMem, await usedMemory(admin));
    await Promise.all(later);
    let pending = await a.watch.pendingWatches();
    while (pending > 0) {
      peakMem = Math.max(peakMem, await usedMemory(admin));
      await sleep(250);
      pending = await a.watch.pendingWatches();
    }
    const final = Date.now();
    const memAfter = await usedMemory(admin);
    const m = instances.map((i) => i.app.get(WechatPayLifecycleMetrics).snapshot());
    const sum = (k: keyof (typeof m)[0]) => m[0][k] + m[1][k];
    const effects = await admin.llen(`${prefix}rec:effects`);
    const closed = await admin.llen(`${prefix}rec:closed`);
    return [
      `- ${orders} orders watched over 2 instances (notifications off): created in ${((created - start) / 1000).toFixed(1)} s; ` +
        `all final ${((final - start) / 1000).toFixed(1)} s after the first (${((final - created) / 1000).toFixed(1)} s after the last was created; expiry is 15 s)`,
      `- handled ${effects} paid (rescued by query ${sum('rescuedByQuery')}), closed at expiry ${closed} (${sum('closedAtExpiry')}); ` +
        `steps per instance ${m[0].queries} / ${m[1].queries}; retries ${sum('retries')}`,
      `- queries per order ${(sum('queries') / orders).toFixed(2)} (${sum('queries')} queries; closes not counted)`,
      `- Redis used_memory: before ${(memBefore / MiB).toFixed(1)} MiB, peak ${(peakMem / MiB).toFixed(1)} MiB ` +
        `(+${((peakMem - memBefore) / MiB).toFixed(1)} MiB, ${((peakMem - memBefore) / orders).toFixed(0)} B per watched order incl. dedupe keys), after ${(memAfter / MiB).toFixed(1)} MiB`,
    ];
  } finally {
    for (const i of instances) await i.close();
    await deleteKeys(admin, prefix);
    admin.disconnect();
    await sim.close();
  }
}

async function writeBill(file: string, count: number): Promise<void> {
  const out = createWriteStream(file);
  for (const chunk of generateTradeBill(syntheticTradeRows(count), { billType: 'ALL' })) if (!out.write(chunk)) await once(out, 'drain');
  out.end();
  await once(out, 'finish');
}

async function billBench(count = 1_000_000): Promise<string[]> {
  const file = join(tmpdir(), `lifecycle-bench-${process.pid}.csv`);
  // Written by a child process, so that the writer's garbage does not count in this process's RSS.
  execFileSync(process.execPath, ['-r', 'ts-node/register/transpile-only', __filename, 'write-bill', file, String(count)], { stdio: 'inherit' });
  const size = statSync(file).size;
  let planted = 0;
  // The local books: the same orders and refunds, with a difference planted every 10,000th record.
  const source = {
    *ordersOfDay(): Generator<LocalOrderRecord> {
      let i = 0;
      for (const r of syntheticTradeRows(count)) {
        if (r.trade_state !== 'SUCCESS') continue;
        i++;
        if (i % 10_000 === 0) continue; // paid_not_local
        yield { sub_mchid: r.sub_mchid, out_trade_no: r.out_trade_no, total: i % 10_000 === 5000 ? Number(r.order_amount) + 1 : Number(r.order_amount), trade_state: 'SUCCESS' };
      }
      yield { sub_mchid: '1900000100', out_trade_no: 'GHOST', total: 1, trade_state: 'SUCCESS' };
    },
    *refundsOfDay(): Generator<LocalRefundRecord> {
      let i = 0;
      for (const r of syntheticTradeRows(count)) {
        if (r.trade_state !== 'REFUND') continue;
        i++;
        yield { sub_mchid: r.sub_mchid, out_refund_no: String(r.out_refund_no), refund: Number(r.refund_amount), status: i % 10_000 === 0 ? 'PROCESSING' : 'SUCCESS' };
      }
    },
  };
  planted = 0;
  if (global.gc) global.gc();
  const rssBefore = process.memoryUsage.rss();
  let peak = rssBefore;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 20);
  const start = process.hrtime.bigint();
  const report = await reconcileTradeBill('2024-05-20', parseTradeBill(createReadStream(file)), source, { onDifference: () => void planted++ });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage.rss());
  unlinkSync(file);
  return [
    `- ${count.toLocaleString('en')} bill rows (${(size / MiB).toFixed(0)} MiB), ${report.localOrders.toLocaleString('en')} local orders + ${report.localRefunds.toLocaleString('en')} refunds: ` +
      `reconciled in ${seconds.toFixed(1)} s (${Math.round(count / seconds).toLocaleString('en')} rows/s), ${report.totalDifferences} differences (${planted} reported to onDifference)`,
    `- counts ${JSON.stringify(report.counts)}`,
    `- RSS before ${(rssBefore / MiB).toFixed(0)} MiB, peak ${(peak / MiB).toFixed(0)} MiB (+${((peak - rssBefore) / MiB).toFixed(0)} MiB); maxRSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`,
  ];
}

/** Both parts, one after the other. */
export async function main(): Promise<string[]> {
  const only = process.argv.slice(2).filter((a) => a === 'watch' || a === 'bill');
  const lines: string[] = [];
  if (!only.length || only.includes('bill')) lines.push(...(await billBench()));
  if (!only.length || only.includes('watch')) lines.push(...(await watchBench()));
  return lines;
}

if (require.main === module && process.argv[2] === 'write-bill') {
  writeBill(process.argv[3], Number(process.argv[4])).then(
    () => process.exit(0),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
} else if (require.main === module) {
  main().then(
    (lines) => {
      for (const l of lines) console.log(l);
      process.exit(0);
    },
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
}
