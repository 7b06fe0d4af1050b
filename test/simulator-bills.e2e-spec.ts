/**
 * The simulator's bills over real HTTP (spec §7, §12.5), without the module: requests are signed with the core
 * (buildRequestMessage + rsaSign + formatAuthorization) at the simulator clock and sent with fetch; apply answers are
 * verified with buildResponseMessage + rsaVerify; files are checked byte for byte and parsed with the package parser.
 */
import { constants, createDecipheriv, createHash, privateDecrypt } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { parseFundFlowBill, parseTradeBill } from '../lib/bills/bill-parser';
import { beijingDate } from '../lib/core/time';
import { type SimulatorOptions, WechatPaySimulator } from '../lib/testing';
import { signedCall, verifiesSigned } from './helpers/sim-http';

const SUB = '1900000109';
const SUB2 = '1900000110';
const DAY = 86_400_000;
const MINUTE = 60_000;
/** Today at 12:00 Beijing time: yesterday's bill exists, whatever the real time of the run. */
const NOON = Date.parse(`${beijingDate(new Date())}T12:00:00+08:00`);
const YESTERDAY = beijingDate(new Date(NOON - DAY));
const running: WechatPaySimulator[] = [];
let seq = 0;

/** A simulator whose clock starts at NOON and runs; `set(ms)` moves it. */
async function simulator(options: SimulatorOptions = {}): Promise<WechatPaySimulator & { set(ms: number): void }> {
  let offset = NOON - Date.now();
  const sim = await WechatPaySimulator.start({ clock: () => Date.now() + offset, notificationMode: 'once', refundMode: 'manual', ...options });
  running.push(sim);
  return Object.assign(sim, { set: (ms: number) => void (offset = ms - Date.now()) });
}

const call = signedCall;

/** The signed-request target of a download_url: its path and query. */
function target(downloadUrl: string): string {
  const u = new URL(downloadUrl);
  return u.pathname + u.search;
}

function sha1(b: Buffer): string {
  return createHash('sha1').update(b).digest('hex');
}

/** Creates and pays a Native order `at` (ms); returns its out_trade_no. */
async function paid(sim: WechatPaySimulator, total: number, at: number, sub = SUB): Promise<string> {
  const c = sim.credentials;
  const outTradeNo = `B${Date.now()}${String(++seq).padStart(4, '0')}`;
  const body = { sp_appid: c.spAppid, sp_mchid: c.spMchid, sub_mchid: sub, description: `账单,测试 ${seq}`, out_trade_no: outTradeNo, notify_url: 'http://127.0.0.1:9/n', amount: { total }, attach: 'a\\b' };
  expect((await call(sim, 'POST', '/v3/pay/partner/transactions/native', { body })).status).toBe(200);
  await sim.pay(outTradeNo, { sub_mchid: sub, at });
  return outTradeNo;
}

/** Accepts a refund while the clock is at `at`. */
async function refunded(sim: WechatPaySimulator & { set(ms: number): void }, outTradeNo: string, refund: number, total: number, at: number): Promise<string> {
  const outRefundNo = `RF${seq++}_${Date.now()}`;
  sim.set(at);
  const r = await call(sim, 'POST', '/v3/refund/domestic/refunds', { body: { sub_mchid: SUB, out_trade_no: outTradeNo, out_refund_no: outRefundNo, amount: { refund, total, currency: 'CNY' } } });
  sim.set(NOON);
  expect(r.status).toBe(200);
  return outRefundNo;
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});

describe('GET /v3/bill/tradebill + /v3/billdownload/file', () => {
  it('applies (signed answer), downloads an unsigned text/plain file whose SHA1 matches, and the file is what the orders say', async () => {
    const sim = await simulator();
    const a = await paid(sim, 10000, NOON - DAY - 2 * 3600_000);
    const b = await paid(sim, 2550, NOON - DAY - 3600_000, SUB2);
    await paid(sim, 777, NOON - 60_000); // today: not in yesterday's bill
    const rf = await refunded(sim, a, 3000, 10000, NOON - DAY);
    sim.completeRefund(rf);

    const apply = await call(sim, 'GET', `/v3/bill/tradebill?bill_date=${YESTERDAY}&bill_type=ALL`);
    expect(apply.status).toBe(200);
    expect(Object.keys(apply.json)).toEqual(['hash_type', 'hash_value', 'download_url']);
    expect(apply.json.hash_type).toBe('SHA1');
    expect(apply.json.hash_value).toMatch(/^[0-9a-f]{40}$/);
    expect(String(apply.json.download_url)).toMatch(new RegExp(`^${sim.baseUrl}/v3/billdownload/file\\?token=[\\w-]{64}$`));
    const h = (n: string) => apply.headers.get(n) ?? '';
    expect(verifiesSigned(sim, h, apply.raw)).toBe(true);

    const file = await call(sim, 'GET', target(String(apply.json.download_url)));
    expect(file.status).toBe(200);
    expect(file.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect([...file.headers.keys()].filter((k) => k.startsWith('wechatpay-'))).toEqual([]);
    expect(file.headers.get('request-id')).toMatch(/-0$/);
    expect(sha1(file.raw)).toBe(apply.json.hash_value);
    expect(file.raw.subarray(0, 3).toString('hex')).toBe('efbbbf');
    // header, 3 rows, summary header, summary values, each ending with CRLF
    expect(file.raw.toString('utf8').split('\r\n')).toHaveLength(7);
    expect(file.raw.toString('utf8').endsWith('\r\n')).toBe(true);

    const { rows, summary } = await parseTradeBill(file.raw).collect();
    expect(rows.map((r) => [r.out_trade_no, r.sub_mchid, r.trade_state, r.order_amount.value, r.refund_amount?.value, r.fee.text])).toEqual([
      [a, SUB, 'SUCCESS', 10000, 0, '0.60000'],
      [b, SUB2, 'SUCCESS', 2550, 0, '0.15300'],
      [a, SUB, 'REFUND', 0, 3000, '-0.18000'],
    ]);
    const refundRow = rows[2];
    expect(refundRow).toMatchObject({ refund_id: sim.getRefund(rf)!.refundId, out_refund_no: rf, refund_type: 'ORIGINAL', refund_status: 'SUCCESS', fee_rate: '0.60%', attach: 'a\\b' });
    expect(rows[0].goods_name).toMatch(/^账单,测试/);
    expect(rows[0].transaction_id).toBe(sim.getOrder(SUB, a)!.transactionId);
    expect(rows.map((r) => r.trade_time)).toEqual([`${YESTERDAY} 10:00:00`, `${YESTERDAY} 11:00:00`, `${YESTERDAY} 12:00:00`]);
    expect(summary).toMatchObject({ total_count: 3, order_total: { value: 12550 }, refund_total: { value: 3000 }, fee_total: { value: 60000 + 15300 - 18000 } });
    expect(rows.map((r) => r.out_trade_no)).toEqual(sim.tradeBillRows(YESTERDAY).map((r) => r.out_trade_no));
  });

  it('filters by sub_mchid and bill_type, with the 20 / 29 column layouts; NO_STATEMENT_EXIST for an empty selection', async () => {
    const sim = await simulator();
    const a = await paid(sim, 100, NOON - DAY);
    await paid(sim, 200, NOON - DAY, SUB2);
    await refunded(sim, a, 100, 100, NOON - DAY + MINUTE);
    const rowsOf = async (query: string) => {
      const apply = await call(sim, 'GET', `/v3/bill/tradebill?bill_date=${YESTERDAY}${query}`);
      expect(apply.status).toBe(200);
      const file = await call(sim, 'GET', target(String(apply.json.download_url)));
      const text = file.raw.toString('utf8');
      return { header: text.slice(1, text.indexOf('\r\n')).split(','), rows: (await parseTradeBill(file.raw).collect()).rows };
    };
    const success = await rowsOf(`&sub_mchid=${SUB}&bill_type=SUCCESS`);
    expect(success.header).toHaveLength(20);
    expect(success.rows.map((r) => [r.out_trade_no, r.trade_state])).toEqual([[a, 'SUCCESS']]);
    const refund = await rowsOf('&bill_type=REFUND');
    expect(refund.header).toHaveLength(29);
    expect(refund.rows.map((r) => [r.out_trade_no, r.trade_state, r.refund_status, r.refund_apply_time])).toEqual([[a, 'REFUND', 'PROCESSING', `${YESTERDAY} ${refund.rows[0].trade_time.slice(11)}`]]);
    expect(refund.rows[0].refund_success_time).toBe('');
    expect((await rowsOf(`&sub_mchid=${SUB2}`)).rows).toHaveLength(1);

    const none = await call(sim, 'GET', `/v3/bill/tradebill?bill_date=${YESTERDAY}&sub_mchid=${SUB2}&bill_type=REFUND`);
    expect([none.status, none.json.code]).toEqual([400, 'NO_STATEMENT_EXIST']);
    const empty = await call(sim, 'GET', `/v3/bill/tradebill?bill_date=${beijingDate(new Date(NOON - 2 * DAY))}`);
    expect([empty.status, empty.json.code]).toEqual([400, 'NO_STATEMENT_EXIST']);
  });

  it('serves application/x-gzip with tar_type=GZIP; the SHA1 is of the uncompressed bytes', async () => {
    const sim = await simulator();
    await paid(sim, 100, NOON - DAY);
    const apply = await call(sim, 'GET', `/v3/bill/tradebill?bill_date=${YESTERDAY}&tar_type=GZIP`);
    expect(String(apply.json.download_url)).toContain('&tartype=gzip');
    const file = await call(sim, 'GET', target(String(apply.json.download_url)));
    expect(file.headers.get('content-type')).toBe('application/x-gzip');
    expect(file.raw.subarray(0, 2).toString('hex')).toBe('1f8b');
    expect(sha1(gunzipSync(file.raw))).toBe(apply.json.hash_value);
  });

  it('requires a signed download by the applying merchant within 5 minutes of the simulator clock', async () => {
    const sim = await simulator();
    await paid(sim, 100, NOON - DAY);
    const appliedAt = sim.now();
    const url = target(String((await call(sim, 'GET', `/v3/bill/tradebill?bill_date=${YESTERDAY}`)).json.download_url));
    const unsigned = await call(sim, 'GET', url, { unsigned: true });
    expect([unsigned.status, unsigned.json.code]).toEqual([401, 'SIGN_ERROR']);
    const other = await call(sim, 'GET', url, { mchid: '1230000999' });
    expect([other.status, other.json.code]).toEqual([403, 'NO_AUTH']);
    const unknown = await call(sim, 'GET', '/v3/billdownload/file?token=nope');
    expect([unknown.status, unknown.json.code]).toEqual([400, 'INVALID_REQUEST']);

    sim.set(appliedAt + 5 * MINUTE - 1000);
    expect((await call(sim, 'GET', url)).status).toBe(200);
    sim.set(appliedAt + 5 * MINUTE + 1000);
    const expired = await call(sim, 'GET', url);
    expect([expired.status, expired.json.code]).toEqual([400, 'INVALID_REQUEST']);
    expect(expired.json.message).toContain('apply for the bill again');
  });

  it('answers STATEMENT_CREATING before 10:00 Beijing time of the next day (billReadyHour configurable)', async () => {
    const sim = await simulator();
    await paid(sim, 100, NOON - DAY);
    const today10 = Date.parse(`${beijingDate(new Date(NOON))}T10:00:00+08:00`);
    sim.set(today10 - 1000);
    const early = await call(sim, 'GET', `/v3/bill/tradebill?bill_date=${YESTERDAY}`);
    expect([early.status, early.json.code]).toEqual([400, 'STATEMENT_CREATING']);
    sim.set(today10);
    expect((await call(sim, 'GET', `/v3/bill/tradebill?bill_date=${YESTERDAY}`)).status).toBe(200);

    const at9 = await simulator({ billReadyHour: 9, credentials: sim.credentials });
    await paid(at9, 100, NOON - DAY);
    at9.set(today10 - 3600_000);
    expect((await call(at9, 'GET', `/v3/bill/tradebill?bill_date=${YESTERDAY}`)).status).toBe(200);
  });

  it.each<[string, string, number, string, string | undefined]>([
    ['bad format', 'bill_date=20240520', 400, 'PARAM_ERROR', '/bill_date'],
    ['not a calendar date', 'bill_date=2024-02-30', 400, 'PARAM_ERROR', '/bill_date'],
    ['missing', 'bill_type=ALL', 400, 'PARAM_ERROR', '/bill_date'],
    ['today', `bill_date=${beijingDate(new Date(NOON))}`, 400, 'INVALID_REQUEST', '/bill_date'],
    ['the future', `bill_date=${beijingDate(new Date(NOON + 3 * DAY))}`, 400, 'INVALID_REQUEST', '/bill_date'],
    ['over 3 months ago', `bill_date=${beijingDate(new Date(NOON - 100 * DAY))}`, 400, 'INVALID_REQUEST', '/bill_date'],
    ['unknown bill_type', `bill_date=${YESTERDAY}&bill_type=ALL_SPECIAL`, 400, 'PARAM_ERROR', '/bill_type'],
    ['lower-case tar_type', `bill_date=${YESTERDAY}&tar_type=gzip`, 400, 'PARAM_ERROR', '/tar_type'],
    ['unknown parameter', `bill_date=${YESTERDAY}&billtype=ALL`, 400, 'PARAM_ERROR', '/billtype'],
    ['unknown sub_mchid', `bill_date=${YESTERDAY}&sub_mchid=1900000000`, 400, 'MCH_NOT_EXISTS', undefined],
    ['unauthorized sub_mchid', `bill_date=${YESTERDAY}&sub_mchid=1900000199`, 403, 'NO_AUTH', undefined],
  ])('refuses %s', async (_name, query, status, code, field) => {
    const sim = await simulator();
    const r = await call(sim, 'GET', `/v3/bill/tradebill?${query}`);
    expect([r.status, r.json.code]).toEqual([status, code]);
    if (field) expect(r.json.detail).toMatchObject({ field, location: 'query' });
  });

  it('writes LF without BOM and another fee rate when configured', async () => {
    const sim = await simulator({ billBom: false, billEol: '\n', feeRate: 0.0038 });
    await paid(sim, 10000, NOON - DAY);
    const file = await call(sim, 'GET', target(String((await call(sim, 'GET', `/v3/bill/tradebill?bill_date=${YESTERDAY}`)).json.download_url)));
    const text = file.raw.toString('utf8');
    expect(text.startsWith('交易时间,')).toBe(true);
    expect(text).not.toContain('\r');
    const { rows } = await parseTradeBill(file.raw).collect();
    expect([rows[0].fee.text, rows[0].fee_rate]).toEqual(['0.38000', '0.38%']);
  });

  it('flipBillByte corrupts the served bill (plain and GZIP alike) while hash_value stays that of the real one', async () => {
    const sim = await simulator();
    await paid(sim, 100, NOON - DAY);
    for (const tar of ['', '&tar_type=GZIP']) {
      const apply = await call(sim, 'GET', `/v3/bill/tradebill?bill_date=${YESTERDAY}${tar}`);
      sim.faults.next({ path: '/v3/billdownload/file', flipBillByte: true });
      const bad = await call(sim, 'GET', target(String(apply.json.download_url)));
      const bytes = tar ? gunzipSync(bad.raw) : bad.raw;
      expect(sha1(bytes)).not.toBe(apply.json.hash_value);
      const good = await call(sim, 'GET', target(String(apply.json.download_url)));
      expect(sha1(tar ? gunzipSync(good.raw) : good.raw)).toBe(apply.json.hash_value);
    }
  });
});

describe('GET /v3/bill/fundflowbill', () => {
  it('lists payments (收入), fees and refunds (支出) with running balances; FEES has the fees only; OPERATION is empty', async () => {
    const sim = await simulator();
    const a = await paid(sim, 10000, NOON - 2 * DAY); // before the bill day: only in the opening balance
    const b = await paid(sim, 5000, NOON - DAY);
    await refunded(sim, a, 1000, 10000, NOON - DAY + MINUTE);
    const apply = await call(sim, 'GET', `/v3/bill/fundflowbill?bill_date=${YESTERDAY}&tar_type=GZIP`);
    expect(apply.status).toBe(200);
    const file = gunzipSync((await call(sim, 'GET', target(String(apply.json.download_url)))).raw);
    expect(sha1(file)).toBe(apply.json.hash_value);
    const { rows, summary } = await parseFundFlowBill(file).collect();
    const opening = 10000 - 60;
    expect(rows.map((r) => [r.business_type, r.income_type, r.amount.value, r.balance.value, r.remark])).toEqual([
      ['交易', '收入', 5000, opening + 5000, b],
      ['扣除交易手续费', '支出', 30, opening + 4970, b],
      ['退款', '支出', 1000, opening + 3970, rows[2].remark],
    ]);
    expect(summary).toMatchObject({ total_count: 3, income_count: 1, income_amount: { value: 5000 }, expense_count: 2, expense_amount: { value: 1030 } });
    expect(rows.map((r) => r.flow_no)).toEqual(sim.fundFlowBillRows(YESTERDAY).map((r) => r.flow_no));

    const fees = await call(sim, 'GET', `/v3/bill/fundflowbill?bill_date=${YESTERDAY}&account_type=FEES`);
    const feeRows = (await parseFundFlowBill((await call(sim, 'GET', target(String(fees.json.download_url)))).raw).collect()).rows;
    expect(feeRows.map((r) => [r.amount.value, r.balance.value])).toEqual([[30, -90]]);
    const operation = await call(sim, 'GET', `/v3/bill/fundflowbill?bill_date=${YESTERDAY}&account_type=OPERATION`);
    expect([operation.status, operation.json.code]).toEqual([400, 'NO_STATEMENT_EXIST']);
  });
});

describe('GET /v3/bill/sub-merchant-fundflowbill (encrypted, spec §7.4)', () => {
  type Part = { bill_sequence: number; hash_type: string; hash_value: string; download_url: string; encrypt_key: string; nonce: string };
  const query = (extra = '', sub = SUB) => `/v3/bill/sub-merchant-fundflowbill?sub_mchid=${sub}&bill_date=${YESTERDAY}&account_type=BASIC&algorithm=AEAD_AES_256_GCM${extra}`;

  /** Decrypts one downloaded file with node:crypto alone (not the package's client), as configured. */
  function decrypt(sim: WechatPaySimulator, part: Part, file: Buffer, o: { key?: (plain: Buffer) => Buffer; tag?: 'end' | 'start'; aad?: string } = {}): Buffer {
    const plain = privateDecrypt({ key: sim.credentials.merchantPrivateKeyPem, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, Buffer.from(part.encrypt_key, 'base64'));
    const key = (o.key ?? ((p: Buffer) => p))(plain);
    const tagAtEnd = (o.tag ?? 'end') === 'end';
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(part.nonce, 'utf8'));
    decipher.setAuthTag(tagAtEnd ? file.subarray(-16) : file.subarray(0, 16));
    decipher.setAAD(Buffer.from(o.aad ?? '', 'utf8'));
    return Buffer.concat([decipher.update(tagAtEnd ? file.subarray(0, -16) : file.subarray(16)), decipher.final()]);
  }

  /** Pays 3 orders of SUB (one refunded) and 1 of SUB2 yesterday. */
  async function seed(sim: WechatPaySimulator & { set(ms: number): void }): Promise<void> {
    const a = await paid(sim, 10000, NOON - DAY - 3600_000);
    await paid(sim, 2550, NOON - DAY);
    await paid(sim, 999, NOON - DAY + MINUTE);
    await paid(sim, 4000, NOON - DAY, SUB2);
    await refunded(sim, a, 1000, 10000, NOON - DAY + 2 * MINUTE);
  }

  it('answers signed {download_bill_count, download_bill_list}; each file is unsigned octet-stream, AES-256-GCM (tag appended, no AAD) under a 32-character text key encrypted for the merchant certificate', async () => {
    const sim = await simulator();
    await seed(sim);
    for (const [extra, gzip] of [['', false], ['&tar_type=GZIP', true]] as const) {
      const apply = await call(sim, 'GET', query(extra));
      expect(apply.status).toBe(200);
      expect(verifiesSigned(sim, (n) => apply.headers.get(n) ?? '', apply.raw)).toBe(true);
      expect(Object.keys(apply.json)).toEqual(['download_bill_count', 'download_bill_list']);
      const list = apply.json.download_bill_list as Part[];
      expect(apply.json.download_bill_count).toBe(1);
      expect(Object.keys(list[0])).toEqual(['bill_sequence', 'hash_type', 'hash_value', 'download_url', 'encrypt_key', 'nonce']);
      expect(list[0]).toMatchObject({ bill_sequence: 1, hash_type: 'SHA1', nonce: expect.stringMatching(/^[0-9A-Za-z]{12}$/) });
      expect(String(list[0].download_url).includes('&tartype=gzip')).toBe(gzip);

      const file = await call(sim, 'GET', target(list[0].download_url));
      expect(file.status).toBe(200);
      expect(file.headers.get('content-type')).toBe('application/octet-stream');
      expect([...file.headers.keys()].filter((k) => k.startsWith('wechatpay-'))).toEqual([]);
      const keyText = privateDecrypt({ key: sim.credentials.merchantPrivateKeyPem, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, Buffer.from(list[0].encrypt_key, 'base64')).toString('utf8');
      expect(keyText).toMatch(/^[0-9A-Za-z]{32}$/);
      const decrypted = decrypt(sim, list[0], file.raw);
      const bill = gzip ? gunzipSync(decrypted) : decrypted;
      expect(decrypted.subarray(0, 2).toString('hex')).toBe(gzip ? '1f8b' : 'efbb');
      expect(sha1(bill)).toBe(list[0].hash_value);
      const { rows, summary } = await parseFundFlowBill(bill).collect();
      expect(rows.map((r) => r.flow_no)).toEqual(sim.subMerchantFundFlowBillRows(YESTERDAY, SUB).map((r) => r.flow_no));
      expect(rows.map((r) => [r.business_type, r.amount.value])).toEqual([
        ['交易', 10000], ['扣除交易手续费', 60], ['交易', 2550], ['扣除交易手续费', 15], ['交易', 999], ['扣除交易手续费', 6], ['退款', 1000],
      ]);
      expect(summary).toMatchObject({ total_count: 7, income_count: 3, income_amount: { value: 13549 } });
    }
    // SUB2's bill has SUB2's money only, its balances running from its own first event.
    const other = (await call(sim, 'GET', query('', SUB2))).json.download_bill_list as Part[];
    const rows = (await parseFundFlowBill(decrypt(sim, other[0], (await call(sim, 'GET', target(other[0].download_url))).raw)).collect()).rows;
    expect(rows.map((r) => [r.amount.value, r.balance.value])).toEqual([[4000, 4000], [24, 3976]]);
  });

  it('splits into files of at most maxPartBytes (after a line break, or exactly with splitAt byte), each with its own key and nonce', async () => {
    for (const [splitAt, max] of [['line', 400], ['byte', 160]] as const) {
      const sim = await simulator({ encryptedBill: { maxPartBytes: max, splitAt } });
      await seed(sim);
      const apply = await call(sim, 'GET', query('&tar_type=GZIP'));
      const list = apply.json.download_bill_list as Part[];
      expect(apply.json.download_bill_count).toBe(list.length);
      expect(list.length).toBeGreaterThan(2);
      expect(list.map((p) => p.bill_sequence)).toEqual(list.map((_, i) => i + 1));
      expect(new Set(list.map((p) => p.nonce)).size).toBe(list.length);
      const parts: Buffer[] = [];
      for (const p of list) {
        const bytes = gunzipSync(decrypt(sim, p, (await call(sim, 'GET', target(p.download_url))).raw));
        expect(sha1(bytes)).toBe(p.hash_value);
        expect(bytes.length).toBeLessThanOrEqual(max);
        parts.push(bytes);
      }
      if (splitAt === 'line') expect(parts.every((b) => b.at(-1) === 0x0a)).toBe(true);
      else expect(parts.slice(0, -1).every((b) => b.length === max)).toBe(true);
      const { rows } = await parseFundFlowBill(Buffer.concat(parts)).collect();
      expect(rows.map((r) => r.flow_no)).toEqual(sim.subMerchantFundFlowBillRows(YESTERDAY, SUB).map((r) => r.flow_no));
    }
  });

  it.each<[string, SimulatorOptions['encryptedBill'], NonNullable<Parameters<typeof decrypt>[3]>]>([
    ['a raw 32-byte key', { keyEncoding: 'raw' }, {}],
    ['a Base64 key', { keyEncoding: 'base64' }, { key: (p) => Buffer.from(p.toString('utf8'), 'base64') }],
    ['the tag first', { tagPosition: 'start' }, { tag: 'start' }],
    ['an AAD', { associatedData: 'fundflowbill' }, { aad: 'fundflowbill' }],
  ])('UNVERIFIED details are configurable: %s', async (_name, encryptedBill, how) => {
    const sim = await simulator({ encryptedBill });
    await seed(sim);
    const [part] = (await call(sim, 'GET', query())).json.download_bill_list as Part[];
    const file = (await call(sim, 'GET', target(part.download_url))).raw;
    expect(sha1(decrypt(sim, part, file, how))).toBe(part.hash_value);
    expect(() => decrypt(sim, part, file, how.aad ? {} : { ...how, tag: how.tag === 'start' ? 'end' : 'start' })).toThrow();
  });

  it('flipBillByte corrupts the ciphertext: AES-GCM authentication fails', async () => {
    const sim = await simulator();
    await seed(sim);
    const [part] = (await call(sim, 'GET', query())).json.download_bill_list as Part[];
    sim.faults.next({ path: '/v3/billdownload/file', flipBillByte: true });
    const bad = (await call(sim, 'GET', target(part.download_url))).raw;
    expect(() => decrypt(sim, part, bad)).toThrow(/authenticate/);
  });

  it.each<[string, string, number, string, string | undefined]>([
    ['missing sub_mchid', `bill_date=${YESTERDAY}&account_type=BASIC&algorithm=AEAD_AES_256_GCM`, 400, 'PARAM_ERROR', '/sub_mchid'],
    ['missing bill_date', `sub_mchid=${SUB}&account_type=BASIC&algorithm=AEAD_AES_256_GCM`, 400, 'PARAM_ERROR', '/bill_date'],
    ['missing account_type', `sub_mchid=${SUB}&bill_date=${YESTERDAY}&algorithm=AEAD_AES_256_GCM`, 400, 'PARAM_ERROR', '/account_type'],
    ['missing algorithm', `sub_mchid=${SUB}&bill_date=${YESTERDAY}&account_type=BASIC`, 400, 'PARAM_ERROR', '/algorithm'],
    ['unknown account_type', `sub_mchid=${SUB}&bill_date=${YESTERDAY}&account_type=ALL&algorithm=AEAD_AES_256_GCM`, 400, 'PARAM_ERROR', '/account_type'],
    ['unknown algorithm', `sub_mchid=${SUB}&bill_date=${YESTERDAY}&account_type=BASIC&algorithm=AES_GCM`, 400, 'PARAM_ERROR', '/algorithm'],
    ['bad bill_date', `sub_mchid=${SUB}&bill_date=2024-02-30&account_type=BASIC&algorithm=AEAD_AES_256_GCM`, 400, 'PARAM_ERROR', '/bill_date'],
    ['lower-case tar_type', `sub_mchid=${SUB}&bill_date=${YESTERDAY}&account_type=BASIC&algorithm=AEAD_AES_256_GCM&tar_type=gzip`, 400, 'PARAM_ERROR', '/tar_type'],
    ['unknown parameter', `sub_mchid=${SUB}&bill_date=${YESTERDAY}&account_type=BASIC&algorithm=AEAD_AES_256_GCM&bill_type=ALL`, 400, 'PARAM_ERROR', '/bill_type'],
    ['today', `sub_mchid=${SUB}&bill_date=${beijingDate(new Date(NOON))}&account_type=BASIC&algorithm=AEAD_AES_256_GCM`, 400, 'INVALID_REQUEST', '/bill_date'],
    ['unknown sub_mchid', `sub_mchid=1900000000&bill_date=${YESTERDAY}&account_type=BASIC&algorithm=AEAD_AES_256_GCM`, 400, 'MCH_NOT_EXISTS', undefined],
    ['unauthorized sub_mchid', `sub_mchid=1900000199&bill_date=${YESTERDAY}&account_type=BASIC&algorithm=AEAD_AES_256_GCM`, 403, 'NO_AUTH', undefined],
    ['the provider itself', `sub_mchid=1230000109&bill_date=${YESTERDAY}&account_type=BASIC&algorithm=AEAD_AES_256_GCM`, 400, 'INVALID_REQUEST', undefined],
    ['DEPOSIT (accepted, empty)', `sub_mchid=${SUB}&bill_date=${YESTERDAY}&account_type=DEPOSIT&algorithm=AEAD_AES_256_GCM`, 400, 'NO_STATEMENT_EXIST', undefined],
    ['SM4_GCM [the simulator cannot encrypt it]', `sub_mchid=${SUB}&bill_date=${YESTERDAY}&account_type=BASIC&algorithm=SM4_GCM`, 400, 'INVALID_REQUEST', '/algorithm'],
  ])('refuses %s', async (_name, q, status, code, field) => {
    const sim = await simulator();
    await paid(sim, 100, NOON - DAY);
    const r = await call(sim, 'GET', `/v3/bill/sub-merchant-fundflowbill?${q}`);
    expect([r.status, r.json.code]).toEqual([status, code]);
    if (field) expect(r.json.detail).toMatchObject({ field, location: 'query' });
    if (code === 'PARAM_ERROR') expect(String(r.json.message)).toContain(field!);
  });

  it('rejects invalid encryptedBill options at start', async () => {
    await expect(WechatPaySimulator.start({ encryptedBill: { keyEncoding: 'hex' as 'raw', maxPartBytes: 0, tagPosition: 'middle' as 'end' } })).rejects.toThrow(
      /keyEncoding.*tagPosition.*maxPartBytes/,
    );
  });
});
