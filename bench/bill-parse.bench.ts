/**
 * Bill parsing throughput and memory.
 *
 * 1. A 100k-row ALL trade bill (~28 MiB) in os.tmpdir(), measured in interleaved rounds (median MiB/s):
 *    - limit: fs.createReadStream + StringDecoder + counting '\n' (what any streaming parser must at least do);
 *    - ours: parseTradeBill over a read stream, rows consumed with `for await`, and with `batches()`;
 *    - wechatpay-axios-plugin `Formatter.castCsvBill` on the same file read as one string.
 * 2. A 1,000,000-row (~280 MiB) bill parsed as a stream, reporting peak RSS (sampled per batch) and maxRSS.
 *
 * Run: npx ts-node --transpile-only bench/bill-parse.bench.ts
 */
import { once } from 'node:events';
import { createReadStream, createWriteStream, readFileSync, statSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { parseTradeBill } from '../lib/bills/bill-parser';
import { generateTradeBill, summarizeTradeBillRows } from '../lib/testing/bill-writer';
import { syntheticTradeRows } from '../test/fixtures/bills/bill-fixtures';
import { compare } from './harness';

interface CastCsvBill {
  castCsvBill(input: string | Buffer): { rows: Record<string, string>[]; summary: Record<string, string> };
}

const MiB = 1024 * 1024;

/** Seconds since `start`. */
function since(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e9;
}

/** Streams a generated ALL bill of `count` rows to `file`; returns its size in bytes. */
async function writeBillFile(file: string, count: number): Promise<number> {
  const out = createWriteStream(file);
  for (const chunk of generateTradeBill(syntheticTradeRows(count), { billType: 'ALL' })) {
    if (!out.write(chunk)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return statSync(file).size;
}

/** The floor: read the file as a stream, decode UTF-8, find every line break. Returns MiB/s. */
async function lineSplitLimit(file: string, size: number, expectedLines: number): Promise<number> {
  const start = process.hrtime.bigint();
  const decoder = new StringDecoder('utf8');
  let lines = 0;
  for await (const chunk of createReadStream(file)) {
    const text = decoder.write(chunk as Buffer);
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) lines++;
  }
  decoder.end();
  if (lines !== expectedLines) throw new Error(`line count ${lines} != ${expectedLines}`);
  return size / MiB / since(start);
}

/** parseTradeBill over a read stream, consuming rows one by one. Returns MiB/s. */
async function oursRows(file: string, size: number, count: number): Promise<number> {
  const start = process.hrtime.bigint();
  const result = parseTradeBill(createReadStream(file));
  let rows = 0;
  let fees = 0;
  for await (const row of result) {
    rows++;
    fees += row.fee.value;
  }
  const seconds = since(start);
  if (rows !== count || result.summary.total_count !== count || fees !== result.summary.fee_total.value) {
    throw new Error('parseTradeBill returned wrong rows');
  }
  return size / MiB / seconds;
}

/** parseTradeBill over a read stream, consuming `batches()`. Returns MiB/s. */
async function oursBatches(file: string, size: number, count: number): Promise<number> {
  const start = process.hrtime.bigint();
  const result = parseTradeBill(createReadStream(file));
  let rows = 0;
  for await (const batch of result.batches()) rows += batch.length;
  const seconds = since(start);
  if (rows !== count || result.summary.total_count !== count)
    throw new Error('parseTradeBill returned wrong rows');
  return size / MiB / seconds;
}

/** wechatpay-axios-plugin: read the file as a string, then castCsvBill. Returns MiB/s (read included). */
function castCsvBill(formatter: CastCsvBill, file: string, size: number, count: number): number {
  const start = process.hrtime.bigint();
  const text = readFileSync(file, 'utf8');
  const { rows, summary } = formatter.castCsvBill(text);
  const seconds = since(start);
  if (rows.length !== count || Number(summary['总交易单数']) !== count)
    throw new Error('castCsvBill returned wrong rows');
  return size / MiB / seconds;
}

/** Streams a large bill through parseTradeBill and reports throughput and memory. */
async function largeStreamingParse(file: string, size: number, count: number): Promise<string[]> {
  const rssBefore = process.memoryUsage.rss();
  let peakRss = rssBefore;
  const start = process.hrtime.bigint();
  const result = parseTradeBill(createReadStream(file));
  let rows = 0;
  let orderTotal = 0;
  for await (const batch of result.batches()) {
    for (let i = 0; i < batch.length; i++) orderTotal += batch[i].order_amount.value;
    rows += batch.length;
    const rss = process.memoryUsage.rss();
    if (rss > peakRss) peakRss = rss;
  }
  const seconds = since(start);
  if (rows !== count || result.summary.order_total.value !== orderTotal)
    throw new Error('large parse went wrong');
  return [
    `streaming parse of ${count.toLocaleString('en')} rows (${(size / MiB).toFixed(0)} MiB): ` +
      `${(size / MiB / seconds).toFixed(0)} MiB/s, ${seconds.toFixed(2)} s`,
    `  RSS before ${(rssBefore / MiB).toFixed(0)} MiB, peak during parse ${(peakRss / MiB).toFixed(0)} MiB ` +
      `(+${((peakRss - rssBefore) / MiB).toFixed(0)} MiB); process maxRSS so far ` +
      `${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`,
  ];
}

/** Runs the bill benchmarks and returns the report lines. */
export async function main(): Promise<string[]> {
  const out: string[] = [];
  const dir = tmpdir();
  const small = join(dir, `wechatpay-bill-bench-100k-${process.pid}.csv`);
  const large = join(dir, `wechatpay-bill-bench-1m-${process.pid}.csv`);
  const smallCount = 100_000;
  const largeCount = 1_000_000;
  try {
    let start = process.hrtime.bigint();
    const largeSize = await writeBillFile(large, largeCount);
    out.push(
      `generated ${large}: ${(largeSize / MiB).toFixed(1)} MiB in ${since(start).toFixed(1)} s (streaming writer)`,
    );
    // Memory first, before the comparison below grows the heap with castCsvBill's in-memory arrays.
    out.push(...(await largeStreamingParse(large, largeSize, largeCount)));
    unlinkSync(large);

    start = process.hrtime.bigint();
    const size = await writeBillFile(small, smallCount);
    out.push(
      `generated ${small}: ${(size / MiB).toFixed(1)} MiB, ${smallCount} rows in ${since(start).toFixed(1)} s`,
    );
    const expected = summarizeTradeBillRows(syntheticTradeRows(smallCount));
    if (expected.total_count !== smallCount) throw new Error('fixture generator is broken');

    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const { Formatter } = require('wechatpay-axios-plugin') as { Formatter: CastCsvBill };
    const lines = smallCount + 3; // header, rows, summary header, summary values
    const rates = await compare(
      {
        limit: () => lineSplitLimit(small, size, lines),
        oursRows: () => oursRows(small, size, smallCount),
        oursBatches: () => oursBatches(small, size, smallCount),
        castCsvBill: () => castCsvBill(Formatter, small, size, smallCount),
      },
      5,
    );
    const fmt = (label: string, rate: number): string =>
      `${label.padEnd(58)} ${rate.toFixed(0).padStart(6)} MiB/s   ${(rate / rates.limit).toFixed(3)} of limit`;
    out.push(`${smallCount} rows, median of 5 interleaved rounds:`);
    out.push(fmt('  limit: createReadStream + StringDecoder + count \\n', rates.limit));
    out.push(fmt('  ours: parseTradeBill(stream), for await of rows', rates.oursRows));
    out.push(fmt('  ours: parseTradeBill(stream).batches()', rates.oursBatches));
    out.push(fmt('  wechatpay-axios-plugin Formatter.castCsvBill (readFile)', rates.castCsvBill));
    out.push(
      `  ours (rows) / castCsvBill: ${(rates.oursRows / rates.castCsvBill).toFixed(2)}x; ` +
        `castCsvBill returns untyped strings (no money, no escapes, position-based summary)`,
    );
  } finally {
    for (const file of [small, large]) {
      try {
        unlinkSync(file);
      } catch {
        // already removed
      }
    }
  }
  return out;
}

if (require.main === module) {
  const start = process.hrtime.bigint();
  main().then(
    (lines) => {
      console.log(`bill-parse bench (node ${process.version})`);
      for (const l of lines) console.log(l);
      console.log(`total ${since(start).toFixed(1)} s`);
    },
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
