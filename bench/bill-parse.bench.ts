/**
 * Bill parsing throughput and memory.
 *
 * 1. A 100k-row ALL trade bill (~28 MiB) in os.tmpdir(), measured in interleaved rounds (median MiB/s):
 *    - limit: fs.createReadStream + StringDecoder + counting '\n' (what any streaming parser must at least do);
 *    - ours: parseTradeBill over a read stream, rows consumed with `for await`, and with `batches()`;
 *    - wechatpay-axios-plugin `Formatter.castCsvBill` on the same file read as one string.
 * 2. A 1,000,000-row (~280 MiB) bill parsed as a stream, reporting peak RSS (sampled per batch) and maxRSS.
 * 3. Verification first, on the GZIP file of the 100k-row bill (what `tradeBillRows()` does after the HTTP GET):
 *    - limit: createReadStream + gunzip + SHA1 of the same bytes (the least any verified download must do);
 *    - ours: gunzip + SHA1 check while spooling to a temporary file, then parseTradeBill over the file (batches);
 *    - ours, unverified: gunzip + SHA1 + parse in one stream (the `unverifiedRows` opt-in).
 *
 * Run: npx ts-node --transpile-only bench/bill-parse.bench.ts
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip, gzipSync } from 'node:zlib';
import { parseTradeBill } from '../lib/bills/bill-parser';
import { BillHashCheck, spoolVerifiedBill } from '../lib/bills/bill-spool';
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

/** The floor of a verified GZIP download: gunzip + SHA1 of the same bytes. Returns MiB/s of uncompressed bill. */
async function gunzipSha1Limit(gz: string, size: number, sha1: string): Promise<number> {
  const start = process.hrtime.bigint();
  const hash = createHash('sha1');
  for await (const chunk of createReadStream(gz).pipe(createGunzip())) hash.update(chunk as Buffer);
  if (hash.digest('hex') !== sha1) throw new Error('sha1 mismatch');
  return size / MiB / since(start);
}

/** gunzip -> SHA1 check, as `download()` returns it. */
function verifiedDownload(gz: string, sha1: string): BillHashCheck {
  const check = new BillHashCheck(sha1);
  pipeline(createReadStream(gz), createGunzip(), check, () => undefined);
  return check;
}

/** Verification first: spool + verify, then parse from the file (`tradeBillRows()`). Returns MiB/s. */
async function oursVerifiedFirst(gz: string, size: number, sha1: string, count: number, dir: string): Promise<number> {
  const start = process.hrtime.bigint();
  const result = parseTradeBill(await spoolVerifiedBill(verifiedDownload(gz, sha1), dir));
  let rows = 0;
  for await (const batch of result.batches()) rows += batch.length;
  if (rows !== count || result.summary.total_count !== count) throw new Error('verified parse returned wrong rows');
  return size / MiB / since(start);
}

/** Rows during the download (`unverifiedRows: true`). Returns MiB/s. */
async function oursUnverified(gz: string, size: number, sha1: string, count: number): Promise<number> {
  const start = process.hrtime.bigint();
  const result = parseTradeBill(verifiedDownload(gz, sha1));
  let rows = 0;
  for await (const batch of result.batches()) rows += batch.length;
  if (rows !== count || result.summary.total_count !== count) throw new Error('unverified parse returned wrong rows');
  return size / MiB / since(start);
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
  const gz = join(dir, `wechatpay-bill-bench-100k-${process.pid}.csv.gz`);
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

    const bytes = readFileSync(small);
    const sha1 = createHash('sha1').update(bytes).digest('hex');
    writeFileSync(gz, gzipSync(bytes));
    const verified = await compare(
      {
        limit: () => gunzipSha1Limit(gz, size, sha1),
        verifiedFirst: () => oursVerifiedFirst(gz, size, sha1, smallCount, dir),
        unverified: () => oursUnverified(gz, size, sha1, smallCount),
      },
      5,
    );
    const vfmt = (label: string, rate: number): string =>
      `${label.padEnd(58)} ${rate.toFixed(0).padStart(6)} MiB/s   ${(rate / verified.limit).toFixed(3)} of limit`;
    out.push(`${smallCount} rows, GZIP (${(statSync(gz).size / MiB).toFixed(1)} MiB), median of 5 interleaved rounds:`);
    out.push(vfmt('  limit: gunzip + SHA1 of the same bytes', verified.limit));
    out.push(vfmt('  ours: verification first (spool + SHA1, then parse)', verified.verifiedFirst));
    out.push(vfmt('  ours: unverifiedRows (gunzip + SHA1 + parse, one pass)', verified.unverified));
  } finally {
    for (const file of [small, large, gz]) {
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
