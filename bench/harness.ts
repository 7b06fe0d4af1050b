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

/** Formats a result line. */
export function line(label: string, ours: number, limit: number, unit = 'ops/s'): string {
  return `${label.padEnd(44)} ours ${ours.toFixed(0).padStart(9)} ${unit}   limit ${limit.toFixed(0).padStart(9)} ${unit}   ratio ${(ours / limit).toFixed(3)}`;
}
