/**
 * A 1,000,000-row trade bill (~280 MiB of text) parses in flat memory: a child `node` process streams rows from the
 * BUILT writer (dist/testing/bill-writer.js, generateTradeBill) through Readable.from into the BUILT parser
 * (dist/bills/bill-parser.js) and reports `process.resourceUsage().maxRSS`. `npm test` builds dist first; when it is
 * missing (a bare `npx jest`), beforeAll builds it.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..');
const DIST = join(ROOT, 'dist', 'bills');
const DIST_TESTING = join(ROOT, 'dist', 'testing');
const ROWS = 1_000_000;
const MAX_RSS_MB = 150;

/** Runs in the child: CommonJS, only the built package and node builtins. */
const CHILD = `
const { Readable } = require('node:stream');
const { parseTradeBill } = require(${JSON.stringify(join(DIST, 'bill-parser.js'))});
const { generateTradeBill } = require(${JSON.stringify(join(DIST_TESTING, 'bill-writer.js'))});
const n = Number(process.argv[1]);
function* rows() {
  for (let i = 0; i < n; i++) {
    const refund = i % 10 === 9;
    const total = 100 + (i % 100000);
    yield {
      trade_time: '2024-05-20 ' + String(10 + (i % 12)).padStart(2, '0') + ':15:32',
      appid: 'wx8888888888888888', mchid: '1230000109', sub_mchid: i % 2 ? '1900000109' : '1900000110',
      transaction_id: '42000020240520' + String(i).padStart(14, '0'), out_trade_no: 'T' + String(i).padStart(12, '0'),
      openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o', trade_type: 'JSAPI', trade_state: refund ? 'REFUND' : 'SUCCESS',
      bank_type: 'CMB_DEBIT', settlement_total: refund ? 0 : total,
      ...(refund ? { refund_id: '5030' + String(i).padStart(25, '0'), out_refund_no: 'R' + i, refund_amount: total,
        refund_type: 'ORIGINAL', refund_status: 'SUCCESS', applied_refund_amount: total } : {}),
      goods_name: i % 3 ? 'Image形象店-深圳腾大-QQ公仔' : '奶茶,大杯,少冰', attach: 'cart-' + i,
      fee: (refund ? -6 : 6) * total, fee_rate: '0.60%', order_amount: refund ? 0 : total,
    };
  }
}
(async () => {
  const result = parseTradeBill(Readable.from(generateTradeBill(rows(), { billType: 'ALL' })));
  let count = 0, fees = 0, orders = 0;
  for await (const batch of result.batches()) {
    for (const row of batch) { count++; fees += row.fee.value; orders += row.order_amount.value; }
  }
  const s = result.summary;
  process.stdout.write(JSON.stringify({ count, summaryCount: s.total_count, feesMatch: fees === s.fee_total.value,
    ordersMatch: orders === s.order_total.value, maxRssKb: process.resourceUsage().maxRSS }));
})().catch((e) => { process.stderr.write(String(e && e.stack || e)); process.exit(1); });
`;

beforeAll(() => {
  if (!existsSync(join(DIST, 'bill-parser.js')) || !existsSync(join(DIST_TESTING, 'bill-writer.js'))) {
    execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
  }
}, 120_000);

it(`parses a ${ROWS.toLocaleString('en')}-row bill with peak RSS under ${MAX_RSS_MB} MB`, async () => {
  const child = spawn(process.execPath, ['-e', CHILD, String(ROWS)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  expect({ code, err }).toEqual({ code: 0, err: '' });
  const report = JSON.parse(out) as { count: number; summaryCount: number; feesMatch: boolean; ordersMatch: boolean; maxRssKb: number };
  expect(report).toMatchObject({ count: ROWS, summaryCount: ROWS, feesMatch: true, ordersMatch: true });
  expect(report.maxRssKb / 1024).toBeLessThan(MAX_RSS_MB);
}, 60_000);
