/** Tiny benchmark harness: interleaved rounds, median ops/s, so that both sides see the same machine state. */

/** Measures a synchronous function: calls per second over `ms`. */
export function opsPerSecondSync(fn: () => unknown, ms: number): number {
  const end = process.hrtime.bigint() + BigInt(ms) * 1_000_000n;
  const start = process.hrtime.bigint();
  let n = 0;
  while (process.hrtime.bigint() < end) {
    for (let i = 0; i < 16; i++) fn();
    n += 16;
  }
  return n / (Number(process.hrtime.bigint() - start) / 1e9);
}

/** Measures an async function with `concurrency` calls in flight: completions per second over `ms`. */
export async function opsPerSecondAsync(fn: () => Promise<unknown>, ms: number, concurrency: number): Promise<number> {
  const start = process.hrtime.bigint();
  const end = start + BigInt(ms) * 1_000_000n;
  let n = 0;
  async function worker(): Promise<void> {
    while (process.hrtime.bigint() < end) {
      await fn();
      n++;
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  return n / (Number(process.hrtime.bigint() - start) / 1e9);
}

/** Median of numbers. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Runs `rounds` interleaved rounds of each candidate and returns the median per candidate. */
export async function compare(
  candidates: Record<string, () => number | Promise<number>>,
  rounds = 5,
): Promise<Record<string, number>> {
  const results: Record<string, number[]> = {};
  for (let r = 0; r < rounds; r++) {
    for (const [name, run] of Object.entries(candidates)) (results[name] ??= []).push(await run());
  }
  return Object.fromEntries(Object.entries(results).map(([k, v]) => [k, median(v)]));
}

/** Result of `comparePaired`: medians of each side and the median of the per-round ratios, with its quartiles. */
export interface PairedResult {
  ours: number;
  limit: number;
  /** Median of ours/limit over the rounds. */
  ratio: number;
  /** First and third quartile of the per-round ratios: the spread the machine allowed. */
  q1: number;
  q3: number;
}

/**
 * Runs `rounds` rounds of both candidates back to back (which one goes first alternates) and compares them round by
 * round: on a shared or throttled machine the speed drifts between rounds, and a ratio of neighbours cancels it where
 * two separate medians would not.
 */
export async function comparePaired(
  ours: () => number | Promise<number>,
  limit: () => number | Promise<number>,
  rounds: number,
): Promise<PairedResult> {
  const o: number[] = [];
  const l: number[] = [];
  const ratios: number[] = [];
  for (let r = 0; r < rounds; r++) {
    let a: number;
    let b: number;
    if (r % 2 === 0) {
      a = await ours();
      b = await limit();
    } else {
      b = await limit();
      a = await ours();
    }
    o.push(a);
    l.push(b);
    ratios.push(a / b);
  }
  const sorted = [...ratios].sort((x, y) => x - y);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { ours: median(o), limit: median(l), ratio: median(ratios), q1: at(0.25), q3: at(0.75) };
}

/** Formats a result line of `comparePaired`. */
export function pairedLine(label: string, r: PairedResult, unit = 'ops/s'): string {
  return `${label.padEnd(44)} ours ${r.ours.toFixed(0).padStart(9)} ${unit}   limit ${r.limit.toFixed(0).padStart(9)} ${unit}   ratio ${r.ratio.toFixed(3)} (quartiles ${r.q1.toFixed(3)}–${r.q3.toFixed(3)})`;
}

/** Formats a result line. */
export function line(label: string, ours: number, limit: number, unit = 'ops/s'): string {
  return `${label.padEnd(44)} ours ${ours.toFixed(0).padStart(9)} ${unit}   limit ${limit.toFixed(0).padStart(9)} ${unit}   ratio ${(ours / limit).toFixed(3)}`;
}
