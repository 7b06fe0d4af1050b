/**
 * The lifecycle at scale (not a test; figures for BENCHMARKS.md).
 *
 * 1. `watch`: 10,000 watched orders over two app instances, each a child process (bench/lifecycle-child.ts: a Nest
 *    app with WechatPayLifecycleModule on BullMQ, concurrency 20, and the RedisNotificationDedupeStore, on the real
 *    Redis at 127.0.0.1:6379 under a unique prefix, deleted afterwards), against the simulator in this process with
 *    notifications off so that every order is settled by the watch. This process hands the orders out to the two
 *    children (4 in flight each, as a load balancer would); a child makes the prepay and `watchOrder`; this process
 *    pays a third at once, a third about a second later, a third never (closed at expiry). The default schedule
 *    (+1, +3, +10, +30 min) is scaled down 1:300 (+200 ms, +600 ms, +2 s, +6 s) and time_expire is 15 s after
 *    creation. Reports the time until every watch is final, steps / queries, CPU time and peak RSS per instance,
 *    queries per order, Redis memory (used_memory) at the peak and after, and checks from the children's records
 *    that every paid order was handled once and every unpaid one closed once.
 *    Then, in the same run, the raw limit: two fresh child processes with WechatPartnerPayModule alone (no
 *    lifecycle, no queue, no Redis) make the same HTTP work as fast as they can: the same prepays, the same number
 *    of queries the watch made, the same closes. Every query of the watch is a signed call that it cannot avoid;
 *    what the bare calls take is the floor of its CPU and of its time on this machine.
 * 2. `kill`: the same 10,000 orders, and one child SIGKILLed once half of them are handed out (after its orders in
 *    flight were watched, so that every order it created is under watch): the other child creates the rest and
 *    takes over the killed one's running steps once their locks lapse. Reports the time until all final and, from
 *    the records the children wrote, lost or repeated effects, handler calls and closes.
 * 3. `bill`: a 1,000,000-row ALL trade bill (synthetic, ~280 MiB, in os.tmpdir()) reconciled by
 *    `reconcileTradeBill` against a streamed local source of the same orders and refunds with planted differences;
 *    reports time, peak RSS (sampled) and maxRSS. The verified download of such a bill is measured in the Bills
 *    section.
 *
 * Run: npx ts-node --transpile-only bench/lifecycle.bench.ts [watch|kill|bill]   (all three by default)
 */
import { type ChildProcess, execFileSync, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream, statSync, unlinkSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { parseTradeBill } from '../lib/bills/bill-parser';
import { reconcileTradeBill, type LocalOrderRecord, type LocalRefundRecord } from '../lib/lifecycle';
import { MARKER_ID } from '../lib/lifecycle/bullmq.scheduler';
import { generateTradeBill } from '../lib/testing/bill-writer';
import { WechatPaySimulator } from '../lib/testing';
import { syntheticTradeRows } from '../test/fixtures/bills/bill-fixtures';
import { deleteKeys, type LifecycleInstanceConfig, records } from '../test/helpers/lifecycle-instance';
import type { ChildReply, ChildRequest, ChildStats } from './lifecycle-child';

const MiB = 1024 * 1024;
// 10,000 for the published figures; smaller for a quick try.
const ORDERS = Number(process.env.LIFECYCLE_BENCH_ORDERS ?? 10_000);
const SUB = '1900000109';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const s1 = (ms: number) => (ms / 1000).toFixed(1);
const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');

async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0);
}

/** An app instance in a child process, driven over its IPC channel. */
class Child {
  private readonly waiting = new Map<number, { resolve(r: ChildReply): void; reject(e: Error): void }>();
  private nextId = 0;
  readonly exited: Promise<void>;
  /** The last stats answered (a killed child keeps the ones taken just before the kill). */
  last?: ChildStats;

  private constructor(
    readonly name: string,
    private readonly proc: ChildProcess,
  ) {
    proc.on('message', (m: ChildReply) => {
      const w = this.waiting.get(m.id);
      this.waiting.delete(m.id);
      if (m.ok) w?.resolve(m);
      else w?.reject(new Error(`instance ${name}: ${m.error}`));
    });
    this.exited = new Promise((resolve) =>
      proc.once('exit', () => {
        for (const w of this.waiting.values()) w.reject(new Error(`instance ${name} exited`));
        this.waiting.clear();
        resolve();
      }),
    );
  }

  static async fork(mode: 'lifecycle' | 'raw', config: LifecycleInstanceConfig): Promise<Child> {
    const proc = fork(join(__dirname, 'lifecycle-child.ts'), [], {
      execArgv: ['-r', 'ts-node/register/transpile-only'],
      env: { ...process.env, BENCH_CHILD_MODE: mode, LIFECYCLE_INSTANCE: JSON.stringify(config), TS_NODE_PROJECT: join(__dirname, '..', 'tsconfig.json') },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    await new Promise<void>((resolve, reject) => {
      proc.once('message', () => resolve());
      proc.once('exit', (code) => reject(new Error(`instance ${config.name} exited (${code}) before it was ready`)));
    });
    return new Child(config.name, proc);
  }

  call(op: ChildRequest['op'], no?: string): Promise<ChildReply> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.proc.send({ id, op, no } satisfies ChildRequest);
    });
  }

  async stats(): Promise<ChildStats> {
    const r = await this.call('stats');
    this.last = r.stats!;
    return this.last;
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    await this.call('stop').catch(() => undefined);
    await Promise.race([this.exited, sleep(10_000)]);
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL');
  }

  async kill(): Promise<void> {
    this.proc.kill('SIGKILL');
    await this.exited;
  }
}

/**
 * Runs `work` for items 0..count-1 with `inFlight` at once per child, each child taking the next item when it is
 * free, until `stop(child, next)` says that child takes no more; resolves per child when its last item is done.
 */
function handOut(children: Child[], inFlight: number, count: number, work: (c: Child, i: number) => Promise<void>, stop?: (c: Child, next: number) => boolean): Array<Promise<void>> {
  let next = 0;
  return children.map(async (c) => {
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        while (next < count && !stop?.(c, next)) await work(c, next++);
      }),
    );
  });
}

// Steps are the queries less the second query of each close at expiry (a step queries once; the expiry step queries
// again after its close); a retried step would count twice, and there were none in the published runs.
const cpuMs = (s: ChildStats) => (s.cpuUserUs + s.cpuSystemUs) / 1000;
const instanceLine = (s: ChildStats, name: string, extra = '') =>
  `  - instance ${name}: ${s.watched} watched, ${s.queries} queries in ${s.queries - s.closedAtExpiry} steps, ${s.rescuedByQuery} paid found, ${s.closedAtExpiry} closed, ${s.retries} retries; ` +
  `CPU ${s1(cpuMs(s))} s (user ${s1(s.cpuUserUs / 1000)} + system ${s1(s.cpuSystemUs / 1000)}); RSS ${(s.readyRss / MiB).toFixed(0)} MiB when ready, peak ${(s.maxRss / MiB).toFixed(0)} MiB${extra}`;

/**
 * Per out_trade_no, how many entries of a record list name it (entries are `no|…` or `no`).
 */
function tally(entries: string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const e of entries) {
    const no = e.split('|')[0];
    m.set(no, (m.get(no) ?? 0) + 1);
  }
  return m;
}

interface WatchResult {
  lines: string[];
  queries: number;
  allFinalMs: number;
}

async function watchBench(orders: number, kill: boolean): Promise<WatchResult> {
  const prefix = `wechatpay-bench:lifecycle:${randomUUID()}:`;
  const admin = new Redis({ host: '127.0.0.1', port: 6379 });
  const sim = await WechatPaySimulator.start({ notificationMode: 'once' });
  const connection = { host: '127.0.0.1', port: 6379 };
  const queue = new Queue('wechatpay-lifecycle', { connection, prefix: `${prefix}bull` });
  const events = new QueueEvents('wechatpay-lifecycle', { connection, prefix: `${prefix}bull` });
  let stalled = 0;
  events.on('stalled', () => void stalled++);
  const children: Child[] = [];
  const loadBefore = load();
  const cpuBefore = process.cpuUsage();
  try {
    await events.waitUntilReady();
    const base = {
      prefix,
      moduleOptions: sim.moduleOptions({ notifyUrl: 'http://127.0.0.1:9/wechatpay/notify', timeoutMs: 30_000 }),
      scheduleMs: [200, 600, 2000, 6000],
      expiryGraceMs: 500,
      concurrency: 20,
    };
    children.push(...(await Promise.all(['a', 'b'].map((name) => Child.fork('lifecycle', { ...base, name })))));
    const [a, b] = children;
    const memBefore = await usedMemory(admin);
    let peakMem = memBefore;
    let sampling = Promise.resolve();
    const sampler = setInterval(() => {
      sampling = sampling.then(async () => void (peakMem = Math.max(peakMem, await usedMemory(admin))));
    }, 200);
    const run = randomUUID().replace(/-/g, '').slice(0, 8);
    const no = (i: number) => `BW${run}${String(i).padStart(6, '0')}`;
    const createdBy = new Map<string, string>();
    const later: Array<Promise<unknown>> = [];
    const half = Math.floor(orders / 2);
    let killedAt = 0;
    let killedCalls = 0;
    let activeAtKill = 0;
    const start = Date.now();
    // The kill: b gets no more orders once half are handed out; once the last ones it took are watched, SIGKILL.
    const perChild = handOut(
      children,
      4,
      orders,
      async (c, i) => {
        await c.call('create', no(i));
        createdBy.set(no(i), c.name);
        if (i % 3 === 0) await sim.pay(no(i), { sub_mchid: SUB });
        else if (i % 3 === 1) later.push(sleep(1000).then(() => sim.pay(no(i), { sub_mchid: SUB })));
      },
      (c, next) => kill && c === b && next >= half,
    );
    const killing = kill
      ? perChild[1].then(async () => {
          await b.stats();
          killedCalls = (await admin.lrange(records(prefix).calls, 0, -1)).filter((c) => c.endsWith('|b')).length;
          activeAtKill = (await queue.getJobCounts('active')).active;
          await b.kill();
          killedAt = Date.now();
        })
      : Promise.resolve();
    await Promise.all(perChild);
    const created = Date.now();
    await killing;
    await Promise.all(later);
    // Every job of the queue but the scheduler's marker (a delayed job that never runs).
    const pending = async () =>
      Object.values(await queue.getJobCounts('waiting', 'delayed', 'active', 'prioritized', 'waiting-children')).reduce((x, y) => x + y, 0) -
      ((await queue.getJobState(MARKER_ID)) === 'delayed' ? 1 : 0);
    const deadline = Date.now() + 10 * 60_000;
    while ((await pending()) > 0) {
      if (Date.now() > deadline) throw new Error('watches still pending after 10 min');
      await sleep(100);
    }
    const final = Date.now();
    clearInterval(sampler);
    await sampling;
    peakMem = Math.max(peakMem, await usedMemory(admin));
    const memAfter = await usedMemory(admin);
    const alive = kill ? [a] : children;
    for (const c of alive) await c.stats();
    const stats = children.map((c) => c.last!);
    const simCpu = process.cpuUsage(cpuBefore);

    // What the children recorded: every handler call, every business effect (SET NX per order), every close.
    const rec = records(prefix);
    const calls = await admin.lrange(rec.calls, 0, -1);
    const effects = await admin.lrange(rec.effects, 0, -1);
    const closed = await admin.lrange(rec.closed, 0, -1);
    const paidNos = [...createdBy.keys()].filter((n) => Number(n.slice(-6)) % 3 !== 2);
    const unpaidNos = [...createdBy.keys()].filter((n) => Number(n.slice(-6)) % 3 === 2);
    const [callsBy, effectsBy, closedBy] = [tally(calls), tally(effects), tally(closed)];
    // The effect keys themselves (SET NX per order: the business state), beside the list the same script appends to.
    const effectKey = new Map<string, string | null>();
    const all = [...createdBy.keys()];
    for (let k = 0; k < all.length; k += 1000) {
      const chunk = all.slice(k, k + 1000);
      (await admin.mget(...chunk.map((n) => rec.effect(n)))).forEach((v, j) => effectKey.set(chunk[j], v));
    }
    const lostPaid = paidNos.filter((n) => !effectKey.get(n)).length;
    const listMismatch = all.filter((n) => !!effectKey.get(n) !== effectsBy.has(n)).length;
    const lostUnpaid = unpaidNos.filter((n) => !closedBy.has(n)).length;
    const effectTwice = [...effectsBy.values()].filter((n) => n > 1).length;
    const closedTwice = [...closedBy.values()].filter((n) => n > 1).length;
    const callsTwice = [...callsBy.values()].filter((n) => n > 1).length;
    const wrong = unpaidNos.filter((n) => effectKey.get(n)).length + effects.filter((n) => Number(n.slice(-6)) % 3 === 2).length + closed.filter((c) => Number(c.split('|')[0].slice(-6)) % 3 !== 2 || c.split('|')[1] !== 'CLOSED').length;
    const byInstance = (list: string[], name: string) => list.filter((c) => c.endsWith(`|${name}`)).length;
    const queries = stats.reduce((x, s) => x + s.queries, 0);
    const retries = stats.reduce((x, s) => x + s.retries, 0);
    const lines = [
      `- load average before ${loadBefore}, after ${load()} (${cpus().length} cores)`,
      `- ${createdBy.size} orders watched over 2 instances in child processes${kill ? ', instance b SIGKILLed' : ''} (notifications off): created in ${s1(created - start)} s; ` +
        `all final ${s1(final - start)} s after the first (${s1(final - created)} s after the last was created; expiry is 15 s)`,
    ];
    if (kill)
      lines.push(
        `- b killed ${s1(killedAt - start)} s after the start, once ${half} orders were handed out (b created ${[...createdBy.values()].filter((v) => v === 'b').length}, a ${[...createdBy.values()].filter((v) => v === 'a').length}); ` +
          `${activeAtKill} steps running over both at the kill; ${stalled} stalled jobs taken over; all final ${s1(final - killedAt)} s after the kill`,
      );
    lines.push(
      `- from the records: ${paidNos.length - lostPaid} paid effects for ${paidNos.length} paid orders (lost ${lostPaid}, twice ${effectTwice}; effect list and keys differ on ${listMismatch}), ${closed.length} closes for ${unpaidNos.length} unpaid orders (lost ${lostUnpaid}, twice ${closedTwice}), ${wrong} on the wrong order or state; ` +
        `handler calls ${calls.length} (a ${byInstance(calls, 'a')}, b ${byInstance(calls, 'b')}${kill ? `, ${killedCalls} of b's before the kill` : ''}; ${callsTwice} with the handler run twice), closes a ${byInstance(closed, 'a')} / b ${byInstance(closed, 'b')}`,
      `- per instance (CPU and RSS of each child from when it was ready${kill ? "; b's counters as of just before the kill" : ''}):`,
      instanceLine(stats[0], 'a'),
      instanceLine(stats[1], 'b', kill ? ' (at the kill)' : ''),
      `  - this process (the simulator: verifies and signs every call; the driver): CPU ${s1((simCpu.user + simCpu.system) / 1000)} s`,
      `- queries per order ${(queries / orders).toFixed(2)} (${queries} queries${kill ? ", b's as of the kill" : ''}; closes not counted); ${retries} retries`,
      `- Redis used_memory: before ${(memBefore / MiB).toFixed(1)} MiB, peak ${(peakMem / MiB).toFixed(1)} MiB ` +
        `(+${((peakMem - memBefore) / MiB).toFixed(1)} MiB, ${((peakMem - memBefore) / orders).toFixed(0)} B per watched order incl. dedupe keys), after ${(memAfter / MiB).toFixed(1)} MiB`,
    );
    return { lines, queries, allFinalMs: final - start };
  } finally {
    for (const c of children) await c.stop();
    await events.close();
    await queue.close();
    await deleteKeys(admin, prefix);
    admin.disconnect();
    await sim.close();
  }
}

/**
 * The raw limit of the watch in the same run: the same HTTP work from two bare processes (prepays with the same
 * payments, then `queries` queries spread over the orders, then the closes of the unpaid third), nothing else.
 */
async function rawBench(orders: number, queries: number, watched: WatchResult): Promise<string[]> {
  const sim = await WechatPaySimulator.start({ notificationMode: 'once' });
  const children: Child[] = [];
  const cpuBefore = process.cpuUsage();
  try {
    const config = {
      prefix: 'unused:',
      moduleOptions: sim.moduleOptions({ notifyUrl: 'http://127.0.0.1:9/wechatpay/notify', timeoutMs: 30_000 }),
      scheduleMs: [],
      expiryGraceMs: 0,
    };
    children.push(...(await Promise.all(['a', 'b'].map((name) => Child.fork('raw', { ...config, name })))));
    const run = randomUUID().replace(/-/g, '').slice(0, 8);
    const no = (i: number) => `BR${run}${String(i).padStart(6, '0')}`;
    const start = Date.now();
    await Promise.all(
      handOut(children, 4, orders, async (c, i) => {
        await c.call('prepay', no(i));
        if (i % 3 !== 2) await sim.pay(no(i), { sub_mchid: SUB });
      }),
    );
    const prepaid = Date.now();
    await Promise.all(handOut(children, 20, queries, (c, q) => c.call('query', no(q % orders)).then(() => undefined)));
    const unpaid = Array.from({ length: orders }, (_, i) => i).filter((i) => i % 3 === 2);
    await Promise.all(handOut(children, 20, unpaid.length, (c, k) => c.call('close-order', no(unpaid[k])).then(() => undefined)));
    const end = Date.now();
    const stats = await Promise.all(children.map((c) => c.stats()));
    const simCpu = process.cpuUsage(cpuBefore);
    const childCpu = stats.reduce((x, s) => x + cpuMs(s), 0);
    const bound = Math.max(end - start, prepaid - start + 15_500);
    return [
      `- raw limit, same run: 2 child processes with WechatPartnerPayModule alone make the same ${orders} prepays, ${queries} queries and ${unpaid.length} closes: ` +
        `${s1(end - start)} s (prepays ${s1(prepaid - start)} s, queries ${s1(end - prepaid)} s incl. closes)`,
      `  - instance a: CPU ${s1(cpuMs(stats[0]))} s, RSS ${(stats[0].readyRss / MiB).toFixed(0)} MiB when ready, peak ${(stats[0].maxRss / MiB).toFixed(0)} MiB; ` +
        `instance b: CPU ${s1(cpuMs(stats[1]))} s, peak ${(stats[1].maxRss / MiB).toFixed(0)} MiB; this process (the simulator) CPU ${s1((simCpu.user + simCpu.system) / 1000)} s`,
      `  - all final cannot come sooner than max(the raw calls, raw prepays + 15 s expiry + 0.5 s grace) = ${s1(bound)} s; the watch took ${s1(watched.allFinalMs)} s (ratio ${(watched.allFinalMs / bound).toFixed(2)}); ` +
        `children CPU per order: raw ${(childCpu / orders).toFixed(2)} ms`,
      `- load average after ${load()}`,
    ];
  } finally {
    for (const c of children) await c.stop();
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

/** The parts named on the command line (all by default), one after the other. */
export async function main(): Promise<string[]> {
  const only = process.argv.slice(2).filter((a) => a === 'watch' || a === 'kill' || a === 'bill');
  const want = (p: (typeof only)[number]) => !only.length || only.includes(p);
  const lines: string[] = [];
  const say = (ls: string[]) => {
    for (const l of ls) console.log(l);
    lines.push(...ls);
  };
  if (want('bill')) say(['## bill', ...(await billBench())]);
  if (want('watch')) {
    const w = await watchBench(ORDERS, false);
    say(['## watch', ...w.lines]);
    say(await rawBench(ORDERS, w.queries, w));
  }
  if (want('kill')) say(['## kill', ...(await watchBench(ORDERS, true)).lines]);
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
    () => process.exit(0),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
}
