/**
 * Runs every benchmark in one process, one after the other, and prints their lines with the machine they ran on:
 * the figures that go into BENCHMARKS.md. `npm run bench`.
 */
import { cpus, totalmem } from 'node:os';

const suites: Array<[string, string]> = [
  ['Signing and verification', './crypto.bench'],
  ['Notification parse', './notification.bench'],
  ['Notification HTTP route', './notification-http.bench'],
  ['Bill parsing', './bill-parse.bench'],
];

async function run(): Promise<void> {
  const only = process.argv.slice(2);
  console.log(
    `# ${new Date().toISOString()} · Node ${process.versions.node} · ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'} · ${(totalmem() / 2 ** 30).toFixed(0)} GiB`,
  );
  for (const [title, path] of suites) {
    if (only.length && !only.some((o) => path.includes(o))) continue;
    const mod = (await import(path)) as { main(): Promise<string[]> };
    console.log(`\n## ${title}`);
    for (const l of await mod.main()) console.log(l);
  }
}

run().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
