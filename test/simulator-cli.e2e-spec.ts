/**
 * The `wechatpay-partner-simulator` CLI, run in-process: credentials file (mode 0600, no secrets on stdout), a live
 * server that answers signed requests, and orders kept in the state file across restarts.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildRequestMessage, formatAuthorization, generateNonce, loadPrivateKey, rsaSign } from '../lib/core/crypto';
import { type CliHandle, main, parseCliArgs, type SandboxFile } from '../lib/testing/cli';

let dir: string;
const handles: CliHandle[] = [];

let logs: string[] = [];

async function run(args: string[]): Promise<{ handle: CliHandle; stdout: string }> {
  const out: string[] = [];
  logs = [];
  const handle = await main(args, { out: (l) => out.push(l), err: (l) => logs.push(l), installSignalHandlers: false });
  if (!handle) throw new Error('main() did not start a simulator');
  handles.push(handle);
  return { handle, stdout: out.join('\n') };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'wechatpay-sim-cli-'));
});

afterEach(async () => {
  await Promise.all(handles.splice(0).map((h) => h.close()));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('wechatpay-partner-simulator CLI', () => {
  it('starts, writes a 0600 credentials file, prints only what to configure, and answers signed requests', async () => {
    const credentialsOut = join(dir, 'sandbox.json');
    const stateFile = join(dir, 'state.json');
    const { handle, stdout } = await run(['--port', '0', '--credentials-out', credentialsOut, '--state-file', stateFile, '--verbose']);
    const baseUrl = handle.simulator.baseUrl;

    expect(statSync(credentialsOut).mode & 0o777).toBe(0o600);
    const file = JSON.parse(readFileSync(credentialsOut, 'utf8')) as SandboxFile;
    expect(file.baseUrl).toBe(baseUrl);
    expect(file.env).toMatchObject({
      WECHATPAY_BASE_URL: baseUrl,
      WECHATPAY_SP_MCHID: file.credentials.spMchid,
      WECHATPAY_SERIAL_NO: file.credentials.merchantSerialNo,
      WECHATPAY_PRIVATE_KEY: expect.stringContaining('BEGIN PRIVATE KEY'),
      WECHATPAY_API_V3_KEY: expect.stringMatching(/^.{32}$/),
      WECHATPAY_PUBLIC_KEY_ID: expect.stringMatching(/^PUB_KEY_ID_/),
      WECHATPAY_PUBLIC_KEY: expect.stringContaining('BEGIN PUBLIC KEY'),
    });

    expect(stdout).toContain(baseUrl);
    expect(stdout).toContain(`WECHATPAY_BASE_URL=${baseUrl}`);
    expect(stdout).toContain(`WECHATPAY_SP_MCHID=${file.credentials.spMchid}`);
    expect(stdout).toContain('WECHATPAY_PRIVATE_KEY');
    expect(stdout).not.toContain('PRIVATE KEY-----');
    expect(stdout).not.toContain(file.credentials.apiV3Key);

    const health = await fetch(`${baseUrl}/__sim/health`);
    expect(await health.json()).toEqual({ ok: true, baseUrl });

    // A signed order with the credentials from the file.
    const c = file.credentials;
    const path = '/v3/pay/partner/transactions/native';
    const body = JSON.stringify({ sp_appid: c.spAppid, sp_mchid: c.spMchid, sub_mchid: file.env.WECHATPAY_SUB_MCHID, description: 'cli', out_trade_no: 'CLI0000001', notify_url: 'https://m.example.com/n', amount: { total: 1 } });
    const timestamp = String(Math.floor(Date.now() / 1000));
    const nonce = generateNonce();
    const signature = rsaSign(buildRequestMessage('POST', path, timestamp, nonce, body), loadPrivateKey(c.merchantPrivateKeyPem));
    const res = await fetch(baseUrl + path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: formatAuthorization({ mchid: c.spMchid, nonce_str: nonce, timestamp, serial_no: c.merchantSerialNo, signature }) },
      body,
    });
    expect(res.status).toBe(200);
    // --verbose logs one line per request: method, path, status; never headers or bodies.
    expect(logs).toEqual(['GET /__sim/health 200', 'POST /v3/pay/partner/transactions/native 200']);
    await handle.close();
    expect(JSON.parse(readFileSync(stateFile, 'utf8')).orders).toEqual([expect.objectContaining({ outTradeNo: 'CLI0000001', tradeState: 'NOTPAY' })]);

    // A restart reuses the credentials file and the orders.
    const again = await run(['--port=0', `--credentials-out=${credentialsOut}`, `--state-file=${stateFile}`]);
    expect(again.stdout).toContain('Credentials reused from');
    expect(again.handle.simulator.credentials.merchantSerialNo).toBe(c.merchantSerialNo);
    expect(again.handle.simulator.getOrder(file.env.WECHATPAY_SUB_MCHID, 'CLI0000001')?.tradeState).toBe('NOTPAY');
    expect(statSync(credentialsOut).mode & 0o777).toBe(0o600);
  });

  it('parses options and rejects unknown ones', async () => {
    expect(parseCliArgs(['--port', '8090', '--public-key-only', '--sign-with=platformCertificate'])).toEqual({ port: 8090, 'public-key-only': true, 'sign-with': 'platformCertificate' });
    expect(() => parseCliArgs(['--nope'])).toThrow(/Unknown option --nope/);
    expect(() => parseCliArgs(['--port', 'abc'])).toThrow(/number/);
    await expect(main(['--sign-with', 'rsa', '--credentials-out', join(dir, 'x.json')], { out: () => undefined, installSignalHandlers: false })).rejects.toThrow(/--sign-with/);
    // The encrypted-bill flags reach the simulator's options (and its checks).
    await expect(main(['--bill-key-encoding', 'hex', '--credentials-out', join(dir, 'x.json')], { out: () => undefined, installSignalHandlers: false })).rejects.toThrow(/--bill-key-encoding must be one of text, raw, base64/);
    await expect(main(['--bill-tag-position', 'middle', '--credentials-out', join(dir, 'x.json')], { out: () => undefined, installSignalHandlers: false })).rejects.toThrow(/--bill-tag-position/);
    await expect(main(['--bill-max-part-bytes', '0.5', '--port', '0', '--credentials-out', join(dir, 'x.json')], { out: () => undefined, installSignalHandlers: false })).rejects.toThrow(/encryptedBill.maxPartBytes must be an integer >= 1/);
    const help: string[] = [];
    expect(await main(['--help'], { out: (l) => help.push(l) })).toBeUndefined();
    expect(help.join('\n')).toContain('--credentials-out');
    expect(help.join('\n')).toContain('--bill-max-part-bytes');
    expect(existsSync(join(dir, 'wechatpay-sandbox.json'))).toBe(false);
  });
});
