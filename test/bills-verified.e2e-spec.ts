/**
 * Rows only after the hash: the row helpers spool the bill, check its SHA1 and only then yield rows. A bill server
 * over real HTTP answers the application (signed with the simulator's WeChat Pay public key, which the module
 * verifies) with a `hash_value` the test chooses, and serves a 5,000-row bill written by the package's bill writer.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Test, type TestingModule } from '@nestjs/testing';
import {
  WechatPartnerPayModule,
  WechatPayBillDecryptionError,
  WechatPayBillHashMismatchError,
  WechatPayBillsService,
  WechatPayNetworkError,
  WechatPayOrdersService,
  WechatPayResponseTooLargeError,
} from 'nestjs-wechat-partner-pay';
import { buildResponseMessage, generateNonce, loadPrivateKey, rsaSign } from 'nestjs-wechat-partner-pay/crypto';
import { WechatPaySimulator } from 'nestjs-wechat-partner-pay/testing';
import { writeTradeBill } from '../lib/testing/bill-writer';
import { syntheticTradeRows } from './fixtures/bills/bill-fixtures';
import { billClock, DAY } from './helpers/bill-clock';
import { type SimApp, startSimApp } from './helpers/sim-app';

const ROWS = 5000;
const BILL = Buffer.from(writeTradeBill(syntheticTradeRows(ROWS), { billType: 'ALL' }), 'utf8');
const SHA1 = createHash('sha1').update(BILL).digest('hex');
const { noon: NOON, yesterday: YESTERDAY, now: clock, setNow } = billClock();

/** Serves the trade bill application and its file. */
class BillServer {
  hashValue = SHA1;
  /** Bytes of the file after which the connection is cut (undefined: the whole file). */
  cutAfter?: number;
  private server?: Server;
  url = '';

  constructor(private readonly sim: WechatPaySimulator) {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const path = (req.url ?? '').split('?')[0];
      if (path === '/v3/bill/tradebill') {
        const gzip = (req.url ?? '').includes('tar_type=GZIP');
        const body = JSON.stringify({ hash_type: 'SHA1', hash_value: this.hashValue, download_url: `${this.url}/v3/billdownload/file?token=T${gzip ? 'G' : ''}` });
        const c = this.sim.credentials;
        const timestamp = String(Math.floor(clock() / 1000));
        const nonce = generateNonce();
        res.writeHead(200, {
          'Content-Type': 'application/json',
          'Wechatpay-Timestamp': timestamp,
          'Wechatpay-Nonce': nonce,
          'Wechatpay-Serial': c.publicKeyId,
          'Wechatpay-Signature': rsaSign(buildResponseMessage(timestamp, nonce, body), loadPrivateKey(c.publicKeyPrivateKeyPem, 'k')),
          'Wechatpay-Signature-Type': 'WECHATPAY2-SHA256-RSA2048',
        });
        return void res.end(body);
      }
      if (path === '/v3/billdownload/file') {
        const file = (req.url ?? '').endsWith('G') ? gzipSync(BILL) : BILL;
        res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': String(file.length) });
        if (this.cutAfter === undefined) return void res.end(file);
        return void res.write(file.subarray(0, this.cutAfter), () => setTimeout(() => res.socket?.destroy(), 20));
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    return new Promise((r) => {
      this.server?.closeAllConnections();
      this.server?.close(() => r());
    });
  }
}

let sim: WechatPaySimulator;
let server: BillServer;
let ref: TestingModule;
let bills: WechatPayBillsService;
let spool: string;

beforeAll(async () => {
  sim = await WechatPaySimulator.start({ clock });
  server = new BillServer(sim);
  await server.start();
  spool = await mkdtemp(join(tmpdir(), 'wechatpay-spool-'));
  ref = await Test.createTestingModule({
    imports: [
      WechatPartnerPayModule.forRoot(sim.moduleOptions({ baseUrl: server.url, clock, retry: { attempts: 1 }, bills: { spoolDirectory: spool } })),
    ],
  }).compile();
  await ref.init();
  bills = ref.get(WechatPayBillsService);
});
afterAll(async () => {
  await ref?.close();
  await server?.close();
  await sim?.close();
  await rm(spool, { recursive: true, force: true });
});
afterEach(() => {
  server.hashValue = SHA1;
  server.cutAfter = undefined;
});

async function count(iterable: AsyncIterable<unknown>): Promise<{ rows: number; error?: unknown }> {
  let rows = 0;
  try {
    for await (const row of iterable) {
      void row;
      rows++;
    }
    return { rows };
  } catch (error) {
    return { rows, error };
  }
}

describe.each([undefined, 'GZIP'] as const)('tradeBillRows() (tar_type %s)', (tar_type) => {
  it(`yields all ${ROWS} rows of a bill whose hash matches, and leaves no temporary file`, async () => {
    const result = await bills.tradeBillRows({ bill_date: YESTERDAY, tar_type });
    expect(await readdir(spool)).toEqual([]);
    expect(await count(result)).toEqual({ rows: ROWS });
    expect(result.summary.total_count).toBe(ROWS);
    expect(await readdir(spool)).toEqual([]);
  });

  it('a wrong hash_value yields zero rows: the call rejects with WechatPayBillHashMismatchError', async () => {
    server.hashValue = '0'.repeat(40);
    let rows = 0;
    const err = await bills
      .tradeBillRows({ bill_date: YESTERDAY, tar_type })
      .then(async (result) => {
        for await (const row of result) {
          void row;
          rows++;
        }
      })
      .catch((e: unknown) => e);
    expect(rows).toBe(0);
    expect(err).toBeInstanceOf(WechatPayBillHashMismatchError);
    expect(err).toMatchObject({ expected: '0'.repeat(40), actual: SHA1 });
    expect(await readdir(spool)).toEqual([]);
  });

  it('a connection cut mid-download yields zero rows and a WechatPayNetworkError', async () => {
    server.cutAfter = 10_000;
    const err = await bills.tradeBillRows({ bill_date: YESTERDAY, tar_type }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WechatPayNetworkError);
    expect(await readdir(spool)).toEqual([]);
  });

  it('a consumer that stops early leaves no temporary file', async () => {
    const result = await bills.tradeBillRows({ bill_date: YESTERDAY, tar_type });
    let rows = 0;
    for await (const row of result) {
      void row;
      if (++rows === 10) break;
    }
    expect(rows).toBe(10);
    expect(await readdir(spool)).toEqual([]);
  });
});

describe('unverifiedRows: the explicit opt-in to rows during the download', () => {
  it('streams rows of a bill whose hash is wrong and fails only at the end', async () => {
    server.hashValue = '0'.repeat(40);
    const result = await bills.tradeBillRows({ bill_date: YESTERDAY }, { unverifiedRows: true });
    const { rows, error } = await count(result);
    // Rows were handed out before the hash was known (the error may cut the last chunk's rows).
    expect(rows).toBeGreaterThan(ROWS / 2);
    expect(error).toBeInstanceOf(WechatPayBillHashMismatchError);
  });
});

describe('encrypted sub-merchant fund-flow bills (simulator, several files)', () => {
  const SUB = '1900000109';
  let app: SimApp;
  let capped: SimApp;
  let dir: string;

  async function seed(a: SimApp): Promise<void> {
    setNow(NOON - DAY + 3600_000);
    for (const total of [10000, 2550, 199, 8800]) {
      const no = `VER${Date.now()}${total}`;
      await a.ref.get(WechatPayOrdersService).nativePrepay({ sub_mchid: SUB, description: '资金账单, 校验', out_trade_no: no, amount: { total } });
      await a.sim.pay(no, { sub_mchid: SUB });
    }
    setNow(NOON);
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wechatpay-spool-'));
    const common = { clock, notifyUrl: 'http://127.0.0.1:9/wechatpay/notify', retry: { attempts: 1 } };
    app = await startSimApp({ ...common, bills: { spoolDirectory: dir } }, { clock, encryptedBill: { maxPartBytes: 200 } });
    capped = await startSimApp({ ...common, bills: { maxEncryptedFileBytes: 64 } }, { clock });
    await seed(app);
    await seed(capped);
  });
  afterAll(async () => {
    await app?.close();
    await capped?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('subMerchantFundFlowBillRows() yields the rows of every file once all are verified', async () => {
    const result = await app.ref.get(WechatPayBillsService).subMerchantFundFlowBillRows({ sub_mchid: SUB, bill_date: YESTERDAY, account_type: 'BASIC' });
    const { rows } = await count(result);
    expect(rows).toBe(result.summary.total_count);
    expect(rows).toBeGreaterThanOrEqual(4);
    expect(await readdir(dir)).toEqual([]);
  });

  it('a tampered second file yields zero rows: no row of the first file is handed out before it', async () => {
    // The first download passes untouched (a 1 ms delay is its fault), the second is corrupted.
    app.sim.faults.next({ path: '/v3/billdownload/file', delayMs: 1 });
    app.sim.faults.next({ path: '/v3/billdownload/file', flipBillByte: true });
    let rows = 0;
    const err = await app.ref
      .get(WechatPayBillsService)
      .subMerchantFundFlowBillRows({ sub_mchid: SUB, bill_date: YESTERDAY, account_type: 'BASIC' })
      .then(async (result) => {
        for await (const row of result) {
          void row;
          rows++;
        }
      })
      .catch((e: unknown) => e);
    app.sim.faults.clear();
    expect(rows).toBe(0);
    expect(err).toBeInstanceOf(WechatPayBillDecryptionError);
    expect(err).toMatchObject({ billSequence: 2 });
    expect(await readdir(dir)).toEqual([]);
  });

  it('a file larger than bills.maxEncryptedFileBytes fails with WechatPayResponseTooLargeError while receiving', async () => {
    const bills = capped.ref.get(WechatPayBillsService);
    const info = await bills.applySubMerchantFundFlowBill({ sub_mchid: SUB, bill_date: YESTERDAY, account_type: 'BASIC' });
    const err = await bills.downloadSubMerchantFundFlowBill(info).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WechatPayResponseTooLargeError);
    expect(err).toMatchObject({ limit: 64, path: '/v3/billdownload/file' });
    expect((err as Error).message).toMatch(/bills\.maxEncryptedFileBytes/);
  });
});
