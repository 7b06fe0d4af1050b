/**
 * The encrypted sub-merchant fund-flow bill end to end (spec §7.4): WechatPayBillsService in a Nest module against the
 * simulator over real HTTP, with real RSA keys and real AES-256-GCM. Orders of two sub-merchants are paid "yesterday"
 * (Beijing time) and one is partly refunded; each sub-merchant's bill is applied for, downloaded file by file,
 * decrypted, gunzipped, hash-checked and parsed, and compared with the rows the simulator says it holds.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import {
  beijingDate,
  type FundFlowBillRow,
  parseFundFlowBill,
  type SubMerchantFundFlowBillInfo,
  type SubMerchantFundFlowBillQuery,
  WechatPayApiError,
  WechatPayBillDecryptionError,
  WechatPayBillHashMismatchError,
  WechatPayBillsService,
  WechatPayClient,
  WechatPayDecryptionError,
  WechatPayOrdersService,
  WechatPayRefundsService,
  WechatPayValidationError,
} from 'nestjs-wechat-partner-pay';
import { loadPublicKey, rsaOaepEncrypt } from 'nestjs-wechat-partner-pay/crypto';
import type { SimulatorOptions } from 'nestjs-wechat-partner-pay/testing';
import { billClock, DAY } from './helpers/bill-clock';
import { type SimApp, startSimApp } from './helpers/sim-app';

const SUB = '1900000109';
const SUB2 = '1900000110';
const REFUND = 1500;
/** One clock for the simulator and the module (request timestamps must agree); `setNow` moves both. */
const { noon: NOON, yesterday: YESTERDAY, now: clock, setNow } = billClock();

const apps: SimApp[] = [];
let seq = 0;

/** A simulator + module with, yesterday, 6 orders of SUB (one partly refunded) and 2 of SUB2. */
async function seeded(simOptions: SimulatorOptions = {}): Promise<SimApp> {
  const app = await startSimApp(
    { clock, notifyUrl: 'http://127.0.0.1:9/wechatpay/notify', retry: { attempts: 2, baseDelayMs: 10, maxDelayMs: 20 }, timeoutMs: 3000 },
    { clock, notificationMode: 'once', refundMode: 'manual', ...simOptions },
  );
  apps.push(app);
  const orders = app.ref.get(WechatPayOrdersService);
  setNow(NOON - DAY + 2 * 3600_000);
  const paid: string[] = [];
  for (const [sub, total] of [[SUB, 10000], [SUB, 2550], [SUB, 1], [SUB, 8800], [SUB, 199], [SUB, 123456], [SUB2, 7000], [SUB2, 300]] as const) {
    const no = `SMB${Date.now()}${seq++}`;
    await orders.nativePrepay({ sub_mchid: sub, description: `资金账单, 测试 ${seq}`, out_trade_no: no, amount: { total } });
    await app.sim.pay(no, { sub_mchid: sub });
    if (sub === SUB) paid.push(no);
  }
  const refund = await app.ref.get(WechatPayRefundsService).create({
    sub_mchid: SUB,
    out_trade_no: paid[0],
    out_refund_no: `RSMB${Date.now()}${seq++}`,
    amount: { refund: REFUND, total: 10000, currency: 'CNY' },
  });
  app.sim.completeRefund(refund.out_refund_no);
  setNow(NOON);
  return app;
}

/** A parsed row in the simulator's terms (amounts in fen). */
function plain(r: FundFlowBillRow): Record<string, unknown> {
  return {
    accounting_time: r.accounting_time,
    business_no: r.business_no,
    flow_no: r.flow_no,
    business_name: r.business_name,
    business_type: r.business_type,
    income_type: r.income_type,
    amount: r.amount.value,
    balance: r.balance.value,
    applicant: r.applicant,
    remark: r.remark,
    voucher_no: r.voucher_no,
  };
}

/** What the simulator says a sub-merchant's bill of yesterday holds. */
function expectedRows(app: SimApp, sub: string, account: 'BASIC' | 'FEES' = 'BASIC'): Record<string, unknown>[] {
  return app.sim.subMerchantFundFlowBillRows(YESTERDAY, sub, account).map((r) => ({ applicant: '', remark: '', voucher_no: '', ...r }));
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function sha1(b: Buffer): string {
  return createHash('sha1').update(b).digest('hex');
}

let app: SimApp;
let bills: WechatPayBillsService;

beforeAll(async () => {
  app = await seeded();
  bills = app.ref.get(WechatPayBillsService);
});

afterAll(async () => {
  await Promise.all(apps.map((a) => a.close()));
});

describe('one file (the default)', () => {
  it.each([undefined, 'GZIP'] as const)('tar_type %s: decrypted rows and summary are what the simulator holds, per sub-merchant', async (tar_type) => {
    for (const sub of [SUB, SUB2]) {
      const info = await bills.applySubMerchantFundFlowBill({ sub_mchid: sub, bill_date: YESTERDAY, account_type: 'BASIC', tar_type });
      expect(info).toMatchObject({ download_bill_count: 1, algorithm: 'AEAD_AES_256_GCM', tar_type });
      const [part] = info.download_bill_list;
      expect(part).toMatchObject({ bill_sequence: 1, hash_type: 'SHA1' });
      expect(part.hash_value).toMatch(/^[0-9a-f]{40}$/);
      expect(part.nonce).toMatch(/^[0-9A-Za-z]{12}$/);
      expect(Buffer.from(part.encrypt_key, 'base64')).toHaveLength(256); // RSA-2048 ciphertext

      const bytes = await readAll(await bills.downloadSubMerchantFundFlowBill(info));
      expect(sha1(bytes)).toBe(part.hash_value);
      expect(bytes.subarray(0, 3).toString('hex')).toBe('efbbbf');
      const { rows, summary } = await parseFundFlowBill(bytes).collect();
      expect(rows.map(plain)).toEqual(expectedRows(app, sub));
      expect(summary.total_count).toBe(rows.length);
      expect(summary.income_amount.value).toBe(rows.filter((r) => r.income_type === '收入').reduce((a, r) => a + r.amount.value, 0));
      expect(rows.every((r) => r.accounting_time.startsWith(`${YESTERDAY} `))).toBe(true);
    }
  });

  it('subMerchantFundFlowBillRows(): apply + download + decrypt + parse in one call; the refund is an expense of its sub-merchant only', async () => {
    const result = await bills.subMerchantFundFlowBillRows({ sub_mchid: SUB, bill_date: new Date(NOON - DAY), account_type: 'BASIC', tar_type: 'GZIP' });
    const rows: FundFlowBillRow[] = [];
    for await (const row of result) rows.push(row);
    expect(rows.filter((r) => r.business_type === '退款').map((r) => r.amount.value)).toEqual([REFUND]);
    expect(result.summary).toMatchObject({ income_count: 6, expense_count: rows.length - 6 });
    expect(rows.at(-1)!.balance.value).toBe(expectedRows(app, SUB).at(-1)!.balance);

    const other = await (await bills.subMerchantFundFlowBillRows({ sub_mchid: SUB2, bill_date: YESTERDAY, account_type: 'BASIC' })).collect();
    expect(other.rows.some((r) => r.business_type === '退款')).toBe(false);
    expect(other.summary.income_amount.value).toBe(7300);
  });

  it('account_type FEES has the fees only; DEPOSIT and OPERATION are empty days (NO_STATEMENT_EXIST)', async () => {
    const { rows } = await (await bills.subMerchantFundFlowBillRows({ sub_mchid: SUB, bill_date: YESTERDAY, account_type: 'FEES' })).collect();
    expect(rows.map(plain)).toEqual(expectedRows(app, SUB, 'FEES'));
    expect(rows.every((r) => r.business_type === '扣除交易手续费')).toBe(true);
    for (const account_type of ['DEPOSIT', 'OPERATION'] as const) {
      const err = await bills.applySubMerchantFundFlowBill({ sub_mchid: SUB, bill_date: YESTERDAY, account_type }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WechatPayApiError);
      expect(err).toMatchObject({ status: 400, code: 'NO_STATEMENT_EXIST', retryable: false });
    }
  });

  it('downloadSubMerchantFundFlowBillToFile() writes the decrypted bill; a tampered file leaves nothing behind', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wechatpay-sub-bill-'));
    try {
      const info = await bills.applySubMerchantFundFlowBill({ sub_mchid: SUB, bill_date: YESTERDAY, account_type: 'BASIC', tar_type: 'GZIP' });
      app.sim.faults.next({ path: '/v3/billdownload/file', flipBillByte: true });
      await expect(bills.downloadSubMerchantFundFlowBillToFile(info, join(dir, 'bill.csv'))).rejects.toBeInstanceOf(WechatPayBillDecryptionError);
      expect(await readdir(dir)).toEqual([]);
      await bills.downloadSubMerchantFundFlowBillToFile(info, join(dir, 'bill.csv'));
      const bytes = await readFile(join(dir, 'bill.csv'));
      expect(sha1(bytes)).toBe(info.download_bill_list[0].hash_value);
      expect((await parseFundFlowBill(bytes).collect()).rows.map(plain)).toEqual(expectedRows(app, SUB));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('several files', () => {
  let multi: SimApp;
  let byByte: SimApp;

  beforeAll(async () => {
    multi = await seeded({ encryptedBill: { maxPartBytes: 400 } });
    byByte = await seeded({ encryptedBill: { maxPartBytes: 97, splitAt: 'byte' } });
  });

  it.each([undefined, 'GZIP'] as const)('tar_type %s: files in bill_sequence order, each with its own key, concatenate to the bill', async (tar_type) => {
    const service = multi.ref.get(WechatPayBillsService);
    const info = await service.applySubMerchantFundFlowBill({ sub_mchid: SUB, bill_date: YESTERDAY, account_type: 'BASIC', tar_type });
    const n = info.download_bill_count;
    expect(n).toBeGreaterThan(2);
    expect(info.download_bill_list.map((p) => p.bill_sequence)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    expect(new Set(info.download_bill_list.map((p) => p.encrypt_key)).size).toBe(n);
    expect(new Set(info.download_bill_list.map((p) => p.nonce)).size).toBe(n);

    // The list order does not matter: bill_sequence does.
    const shuffled: SubMerchantFundFlowBillInfo = { ...info, download_bill_list: [...info.download_bill_list].reverse() };
    const bytes = await readAll(await service.downloadSubMerchantFundFlowBill(shuffled));
    const { rows, summary } = await parseFundFlowBill(bytes).collect();
    expect(rows.map(plain)).toEqual(expectedRows(multi, SUB));
    expect(summary.total_count).toBe(rows.length);
    // Files were cut after line breaks, each at most 400 bytes of the uncompressed bill.
    let at = 0;
    const parts: Buffer[] = [];
    const text = bytes.toString('utf8');
    expect(text.split('\r\n').length - 1).toBeGreaterThan(n);
    for (const p of info.download_bill_list) {
      const single = await readAll(await service.downloadSubMerchantFundFlowBill({ ...info, download_bill_count: 1, download_bill_list: [{ ...p, bill_sequence: 1 }] }));
      expect(single.length).toBeLessThanOrEqual(400);
      expect(single.at(-1)).toBe(0x0a);
      expect(sha1(single)).toBe(p.hash_value);
      parts.push(single);
      at += single.length;
    }
    expect(at).toBe(bytes.length);
    expect(Buffer.concat(parts).equals(bytes)).toBe(true);
  });

  it('files cut anywhere (inside a UTF-8 character) still decrypt, join and parse', async () => {
    const service = byByte.ref.get(WechatPayBillsService);
    for (const tar_type of [undefined, 'GZIP'] as const) {
      const result = await service.subMerchantFundFlowBillRows({ sub_mchid: SUB, bill_date: YESTERDAY, account_type: 'BASIC', tar_type });
      expect((await result.collect()).rows.map(plain)).toEqual(expectedRows(byByte, SUB));
    }
    const info = await service.applySubMerchantFundFlowBill({ sub_mchid: SUB, bill_date: YESTERDAY, account_type: 'BASIC' });
    expect(info.download_bill_count).toBeGreaterThan(10);
  });

  it('the first file is checked before the promise resolves; a later tampered file errors the stream before any of its bytes', async () => {
    const service = multi.ref.get(WechatPayBillsService);
    const info = await service.applySubMerchantFundFlowBill({ sub_mchid: SUB, bill_date: YESTERDAY, account_type: 'BASIC' });
    const first = await readAll(await service.downloadSubMerchantFundFlowBill({ ...info, download_bill_count: 1, download_bill_list: [info.download_bill_list[0]] }));

    const stream = await service.downloadSubMerchantFundFlowBill(info);
    multi.sim.faults.next({ path: '/v3/billdownload/file', flipBillByte: true }); // hits file 2
    const received: Buffer[] = [];
    const err = await (async () => {
      for await (const chunk of stream) received.push(chunk as Buffer);
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WechatPayBillDecryptionError);
    expect(err).toMatchObject({ reason: 'AUTHENTICATION_FAILED', billSequence: 2 });
    expect(Buffer.concat(received).equals(first)).toBe(true);
  });

  it('an expired download_url of a later file fails the stream with 400 INVALID_REQUEST (apply again)', async () => {
    const service = multi.ref.get(WechatPayBillsService);
    const info = await service.applySubMerchantFundFlowBill({ sub_mchid: SUB, bill_date: YESTERDAY, account_type: 'BASIC' });
    const stream = await service.downloadSubMerchantFundFlowBill(info);
    setNow(NOON + 6 * 60_000);
    try {
      const err = await readAll(stream).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WechatPayApiError);
      expect(err).toMatchObject({ status: 400, code: 'INVALID_REQUEST' });
    } finally {
      setNow(NOON);
    }
  });

  it('a download list with a missing file, or none, is refused before any download', async () => {
    const service = multi.ref.get(WechatPayBillsService);
    const info = await service.applySubMerchantFundFlowBill({ sub_mchid: SUB, bill_date: YESTERDAY, account_type: 'BASIC' });
    const before = multi.sim.requests.length;
    const gap = { ...info, download_bill_list: info.download_bill_list.filter((p) => p.bill_sequence !== 2) };
    const err = await service.downloadSubMerchantFundFlowBill(gap).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WechatPayValidationError);
    expect((err as WechatPayValidationError).problems.map((p) => p.field)).toEqual(['download_bill_list', 'download_bill_count']);
    await expect(service.downloadSubMerchantFundFlowBill({ ...info, download_bill_list: [] })).rejects.toBeInstanceOf(WechatPayValidationError);
    expect(multi.sim.requests.length).toBe(before);
  });

  it('stopping early closes everything without an error', async () => {
    const service = multi.ref.get(WechatPayBillsService);
    const result = await service.subMerchantFundFlowBillRows({ sub_mchid: SUB, bill_date: YESTERDAY, account_type: 'BASIC', tar_type: 'GZIP' });
    for await (const row of result) {
      expect(row.accounting_time.startsWith(YESTERDAY)).toBe(true);
      break;
    }
    const again = await (await service.subMerchantFundFlowBillRows({ sub_mchid: SUB, bill_date: YESTERDAY, account_type: 'BASIC' })).collect();
    expect(again.rows.length).toBe(expectedRows(multi, SUB).length);
  });
});

describe('the UNVERIFIED wire details: the client copes with each simulator setting', () => {
  it.each<[string, SimulatorOptions['encryptedBill']]>([
    ['a raw 32-byte key', { keyEncoding: 'raw' }],
    ['a Base64 key', { keyEncoding: 'base64' }],
    ['the tag before the ciphertext', { tagPosition: 'start', keyEncoding: 'raw' }],
  ])('%s', async (_name, encryptedBill) => {
    const other = await seeded({ encryptedBill });
    const service = other.ref.get(WechatPayBillsService);
    for (const tar_type of [undefined, 'GZIP'] as const) {
      const { rows } = await (await service.subMerchantFundFlowBillRows({ sub_mchid: SUB, bill_date: YESTERDAY, account_type: 'BASIC', tar_type })).collect();
      expect(rows.map(plain)).toEqual(expectedRows(other, SUB));
    }
  });

  it('an AAD must be given to the client: without it authentication fails', async () => {
    const other = await seeded({ encryptedBill: { associatedData: 'fundflowbill' } });
    const service = other.ref.get(WechatPayBillsService);
    const query: SubMerchantFundFlowBillQuery = { sub_mchid: SUB, bill_date: YESTERDAY, account_type: 'BASIC' };
    const err = await service.subMerchantFundFlowBillRows(query).catch((e: unknown) => e);
    expect(err).toMatchObject({ reason: 'AUTHENTICATION_FAILED', billSequence: 1 });
    const { rows } = await (await service.subMerchantFundFlowBillRows(query, { associatedData: 'fundflowbill' })).collect();
    expect(rows.map(plain)).toEqual(expectedRows(other, SUB));
  });
});

describe('typed errors', () => {
  const query: SubMerchantFundFlowBillQuery = { sub_mchid: SUB, bill_date: YESTERDAY, account_type: 'BASIC' };

  it.each([undefined, 'GZIP'] as const)('tampered ciphertext (tar_type %s) -> WechatPayBillDecryptionError AUTHENTICATION_FAILED, nothing emitted', async (tar_type) => {
    const info = await bills.applySubMerchantFundFlowBill({ ...query, tar_type });
    app.sim.faults.next({ path: '/v3/billdownload/file', flipBillByte: true });
    const err = await bills.downloadSubMerchantFundFlowBill(info).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WechatPayBillDecryptionError);
    expect(err).toBeInstanceOf(WechatPayDecryptionError);
    expect(err).toMatchObject({ reason: 'AUTHENTICATION_FAILED', billSequence: 1 });
    const message = (err as Error).message;
    expect(message).toMatch(/^Bill file 1: AES-256-GCM authentication failed/);
    for (const secret of [info.download_bill_list[0].encrypt_key, info.download_bill_list[0].nonce]) expect(message).not.toContain(secret);
    // The same download_url, untouched, still works within its 5 minutes.
    expect(sha1(await readAll(await bills.downloadSubMerchantFundFlowBill(info)))).toBe(info.download_bill_list[0].hash_value);
  });

  it.each([undefined, 'GZIP'] as const)('a hash_value that does not match (tar_type %s) -> WechatPayBillHashMismatchError', async (tar_type) => {
    const info = await bills.applySubMerchantFundFlowBill({ ...query, tar_type });
    const real = info.download_bill_list[0].hash_value;
    const wrong = `${real.slice(0, -1)}${real.endsWith('0') ? '1' : '0'}`;
    const err = await bills.downloadSubMerchantFundFlowBill({ ...info, download_bill_list: [{ ...info.download_bill_list[0], hash_value: wrong.toUpperCase() }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WechatPayBillHashMismatchError);
    expect(err).toMatchObject({ expected: wrong, actual: real, billSequence: 1 });
    expect((err as Error).message).toContain('in file 1');
  });

  it('an encrypt_key for another key -> KEY_DECRYPTION_FAILED; one that is not an AES-256 key -> INVALID_KEY; before any download', async () => {
    const info = await bills.applySubMerchantFundFlowBill(query);
    const part = info.download_bill_list[0];
    const before = app.sim.requests.length;
    const otherKey = rsaOaepEncrypt(randomBytes(32), loadPublicKey(app.sim.credentials.publicKeyPem));
    const merchantKey = loadPublicKey(app.sim.credentials.merchantCertificatePem);
    const cases = [
      [otherKey, 'KEY_DECRYPTION_FAILED'],
      ['not base64 at all', 'KEY_DECRYPTION_FAILED'],
      [rsaOaepEncrypt(randomBytes(16), merchantKey), 'INVALID_KEY'],
      [rsaOaepEncrypt('short text key', merchantKey), 'INVALID_KEY'],
    ] as const;
    for (const [encrypt_key, reason] of cases) {
      const err = await bills.downloadSubMerchantFundFlowBill({ ...info, download_bill_list: [{ ...part, encrypt_key }] }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WechatPayBillDecryptionError);
      expect(err).toMatchObject({ reason, billSequence: 1 });
    }
    // A key that decrypts but belongs to another file: the file does not authenticate.
    const foreign = rsaOaepEncrypt(randomBytes(32), merchantKey);
    await expect(bills.downloadSubMerchantFundFlowBill({ ...info, download_bill_list: [{ ...part, encrypt_key: foreign }] })).rejects.toMatchObject({ reason: 'AUTHENTICATION_FAILED' });
    expect(app.sim.requests.length).toBe(before + 1);
  });

  it('SM4_GCM is refused by the client before anything is sent, saying only AEAD_AES_256_GCM is supported', async () => {
    const before = app.sim.requests.length;
    const err = await bills.applySubMerchantFundFlowBill({ ...query, algorithm: 'SM4_GCM' as 'AEAD_AES_256_GCM' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WechatPayValidationError);
    expect((err as WechatPayValidationError).problems).toEqual([{ field: 'algorithm', message: expect.stringMatching(/^only AEAD_AES_256_GCM is supported: SM4_GCM/) }]);
    const info = await bills.applySubMerchantFundFlowBill(query);
    const download = await bills.downloadSubMerchantFundFlowBill({ ...info, algorithm: 'SM4_GCM' as 'AEAD_AES_256_GCM' }).catch((e: unknown) => e);
    expect(download).toBeInstanceOf(WechatPayBillDecryptionError);
    expect(download).toMatchObject({ reason: 'UNSUPPORTED_ALGORITHM', message: expect.stringContaining('only AEAD_AES_256_GCM is supported') });
    expect(app.sim.requests.length).toBe(before + 1);
  });

  it('a missing or malformed query is refused before anything is sent, every problem at once', async () => {
    const before = app.sim.requests.length;
    const err = await bills
      .applySubMerchantFundFlowBill({ bill_date: beijingDate(new Date(NOON)), tar_type: 'gzip' } as unknown as SubMerchantFundFlowBillQuery)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WechatPayValidationError);
    expect((err as WechatPayValidationError).problems.map((p) => p.field)).toEqual(['sub_mchid', 'bill_date', 'account_type', 'tar_type']);
    expect(app.sim.requests.length).toBe(before);
  });

  it("the simulator's 400 PARAM_ERROR reaches the caller as WechatPayApiError with WeChat's detail", async () => {
    // account_type is checked for its shape only (WeChat's list varies between sources): WeChat Pay judges the value.
    const bad = await bills.applySubMerchantFundFlowBill({ ...query, account_type: 'ALL' as 'BASIC' }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(WechatPayApiError);
    expect(bad).toMatchObject({ status: 400, code: 'PARAM_ERROR', retryable: false, detail: { field: '/account_type', value: 'ALL', location: 'query' } });

    // Parameters the service always sends, left out through the same signed client.
    const client = app.ref.get(WechatPayClient);
    const full: Array<[string, string]> = [['sub_mchid', SUB], ['bill_date', YESTERDAY], ['account_type', 'BASIC'], ['algorithm', 'AEAD_AES_256_GCM']];
    for (const [name] of full) {
      const err = await client
        .request({ method: 'GET', path: '/v3/bill/sub-merchant-fundflowbill', query: full.filter(([k]) => k !== name) })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WechatPayApiError);
      expect(err).toMatchObject({ status: 400, code: 'PARAM_ERROR', detail: { field: `/${name}`, issue: 'is required', location: 'query' } });
    }
  });

  it('unknown and unauthorized sub-merchants answer as on the other endpoints (400 MCH_NOT_EXISTS, 403 NO_AUTH)', async () => {
    const unknown = await bills.applySubMerchantFundFlowBill({ ...query, sub_mchid: '1900000000' }).catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(WechatPayApiError);
    expect(unknown).toMatchObject({ status: 400, code: 'MCH_NOT_EXISTS' });
    const unauthorized = await bills.applySubMerchantFundFlowBill({ ...query, sub_mchid: '1900000199' }).catch((e: unknown) => e);
    expect(unauthorized).toMatchObject({ status: 403, code: 'NO_AUTH' });
  });
});
