/**
 * `wechatpay-partner-simulator`: runs the simulator as a local sandbox for development. Credentials go to a file
 * written with mode 0600 (never to stdout); stdout only says where the server is and which variables to set.
 */
import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { generateSimulatorCredentials, type SimulatorCredentials } from './simulator-credentials';
import { type SimulatorOptions, WechatPaySimulator } from './simulator';

/** Where the CLI writes; injectable for tests. */
export interface CliIo {
  out(line: string): void;
  err(line: string): void;
  /** Stop on SIGINT/SIGTERM. Default true. */
  installSignalHandlers: boolean;
}

/** A running CLI simulator. */
export interface CliHandle {
  simulator: WechatPaySimulator;
  credentialsFile: string;
  /** The dotenv file written (`--env-out`). */
  envFile: string;
  /** Saves the state file (if any) and stops the simulator. */
  close(): Promise<void>;
}

/** Content of the credentials file. */
export interface SandboxFile {
  baseUrl: string;
  /** Ready-to-use environment values (multi-line PEMs included). */
  env: Record<string, string>;
  credentials: SimulatorCredentials;
}

const USAGE = `Usage: wechatpay-partner-simulator [options]
  --port <n>                    port (default 8090; 0 = random)
  --host <addr>                 address (default 127.0.0.1)
  --credentials-out <file>      credentials file, mode 0600 (default wechatpay-sandbox.json); reused when it exists
  --env-out <file>              a ready dotenv file, mode 0600 (default: the credentials file with .env,
                                wechatpay-sandbox.env), for ConfigModule.forRoot({ envFilePath: 'wechatpay-sandbox.env' })
  --state-file <file>           keep orders across restarts in this JSON file
  --sign-with <mode>            publicKey | platformCertificate (default publicKey)
  --public-key-only             no platform certificates (/v3/certificates answers 404)
  --platform-certificates <n>   1 or 2 (default 1)
  --notification-time-scale <x> multiplies WeChat's retry delays (default 0.01)
  --notification-mode <mode>    retry | once (default retry)
  --probe-rate <x>              0..1, share of WECHATPAY/SIGNTEST/ probes (default 0)
  --notification-loss-rate <x>  0..1, share of notifications lost as a whole: never sent, only a query finds
                                the payment (default 0); POST /__sim/pay {"lose_notification":true} loses one
  --strict-out-trade-no-scope   out_trade_no unique across sub-merchants
  --require-user-agent          reject requests without User-Agent
  --refund-mode <mode>          auto | manual (default auto: refunds succeed after --refund-delay-ms;
                                manual: POST /__sim/refunds/complete {"out_refund_no","status"?})
  --refund-delay-ms <n>         how long refunds stay PROCESSING in auto mode (default 2000)
  --fee-rate <x>                fee rate written in bills (default 0.006 = 0.60%)
  --bill-ready-hour <h>         Beijing hour of the next day from which a day's bill exists (default 10)
  --product <p>                 partner | ecommerce: the provider's WeChat Pay product (default partner); set the
                                module's product option (WECHATPAY_PRODUCT) to the same value
  --advance-refund-permission   ecommerce: the platform may advance refunds (REFUND_SOURCE_PARTNER_ADVANCE)
  Encrypted sub-merchant fund-flow bills (wire details WeChat Pay does not document):
  --bill-key-encoding <e>       text | raw | base64: the RSA-OAEP plaintext of encrypt_key (default text)
  --bill-aad <text>             AES-GCM associated data of the files (default empty)
  --bill-tag-position <p>       end | start: where the GCM tag sits in a file (default end)
  --bill-max-part-bytes <n>     split bills into files of at most n bytes (default: one file)
  --verbose                     one line per request on stderr (method, path, status), and one per
                                notification delivery attempt (event, id, URL, reply status)
  --help`;

type Flag = { kind: 'string' | 'number' | 'boolean' };
const FLAGS: Record<string, Flag> = {
  port: { kind: 'number' },
  host: { kind: 'string' },
  'credentials-out': { kind: 'string' },
  'env-out': { kind: 'string' },
  'state-file': { kind: 'string' },
  'sign-with': { kind: 'string' },
  'public-key-only': { kind: 'boolean' },
  'platform-certificates': { kind: 'number' },
  'notification-time-scale': { kind: 'number' },
  'notification-mode': { kind: 'string' },
  'probe-rate': { kind: 'number' },
  'notification-loss-rate': { kind: 'number' },
  'strict-out-trade-no-scope': { kind: 'boolean' },
  'require-user-agent': { kind: 'boolean' },
  'refund-mode': { kind: 'string' },
  'refund-delay-ms': { kind: 'number' },
  'fee-rate': { kind: 'number' },
  'bill-ready-hour': { kind: 'number' },
  product: { kind: 'string' },
  'advance-refund-permission': { kind: 'boolean' },
  'bill-key-encoding': { kind: 'string' },
  'bill-aad': { kind: 'string' },
  'bill-tag-position': { kind: 'string' },
  'bill-max-part-bytes': { kind: 'number' },
  verbose: { kind: 'boolean' },
  help: { kind: 'boolean' },
};

/** Parses `--name value`, `--name=value` and boolean `--name`. */
export function parseCliArgs(argv: readonly string[]): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) throw new Error(`Unexpected argument "${arg}"\n${USAGE}`);
    const [name, inline] = arg.slice(2).split(/=(.*)/s, 2);
    const flag = FLAGS[name];
    if (!flag) throw new Error(`Unknown option --${name}\n${USAGE}`);
    if (flag.kind === 'boolean') {
      out[name] = inline === undefined ? true : inline !== 'false';
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined) throw new Error(`--${name} needs a value`);
    if (flag.kind === 'number') {
      const n = Number(value);
      if (!Number.isFinite(n)) throw new Error(`--${name} must be a number, got "${value}"`);
      out[name] = n;
    } else out[name] = value;
  }
  return out;
}

function oneOf<T extends string>(name: string, value: unknown, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!allowed.includes(value as T)) throw new Error(`--${name} must be one of ${allowed.join(', ')}`);
  return value as T;
}

/** Writes a file atomically with mode 0600 (the mode is forced even when the file existed). */
function writePrivateFile(file: string, content: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, content, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

function sandboxEnv(baseUrl: string, c: SimulatorCredentials, product: 'ecommerce' | 'partner'): Record<string, string> {
  const sub = c.subMerchants.find((s) => s.authorized);
  return {
    WECHATPAY_PRODUCT: product,
    WECHATPAY_BASE_URL: baseUrl,
    WECHATPAY_SP_MCHID: c.spMchid,
    WECHATPAY_SP_APPID: c.spAppid,
    WECHATPAY_SERIAL_NO: c.merchantSerialNo,
    WECHATPAY_PRIVATE_KEY: c.merchantPrivateKeyPem,
    WECHATPAY_MERCHANT_CERTIFICATE: c.merchantCertificatePem,
    WECHATPAY_API_V3_KEY: c.apiV3Key,
    WECHATPAY_PUBLIC_KEY_ID: c.publicKeyId,
    WECHATPAY_PUBLIC_KEY: c.publicKeyPem,
    ...(sub ? { WECHATPAY_SUB_MCHID: sub.subMchid } : {}),
    ...(sub?.subAppid ? { WECHATPAY_SUB_APPID: sub.subAppid } : {}),
  };
}

/**
 * A dotenv file: one `NAME="value"` line per variable, newlines written as `\n` (which dotenv, and so
 * `@nestjs/config`, expands inside double quotes). Values with `"` or `\` cannot be written that way and are refused.
 */
export function toDotenv(env: Record<string, string>): string {
  const lines = ['# WeChat Pay partner simulator sandbox: private keys and the APIv3 key of the SIMULATOR only. Keep out of git.'];
  for (const [name, value] of Object.entries(env)) {
    if (/["\\]/.test(value)) throw new Error(`${name} holds a quote or backslash and cannot be written to a dotenv file`);
    lines.push(`${name}="${value.replace(/\r?\n/g, '\\n')}"`);
  }
  return `${lines.join('\n')}\n`;
}

function loadCredentials(file: string): SimulatorCredentials | undefined {
  if (!existsSync(file)) return undefined;
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<SandboxFile>;
  if (!parsed.credentials?.merchantPrivateKeyPem) throw new Error(`${file} exists but holds no simulator credentials; delete it or choose another --credentials-out`);
  return parsed.credentials;
}

/** Runs the simulator CLI; resolves once it listens (undefined for --help). */
export async function main(argv: readonly string[] = process.argv.slice(2), io: Partial<CliIo> = {}): Promise<CliHandle | undefined> {
  const out = io.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const err = io.err ?? ((line: string) => process.stderr.write(`${line}\n`));
  const args = parseCliArgs(argv);
  if (args.help) {
    out(USAGE);
    return undefined;
  }
  const credentialsFile = resolve(String(args['credentials-out'] ?? 'wechatpay-sandbox.json'));
  // Beside the credentials file by default: wechatpay-sandbox.json → wechatpay-sandbox.env.
  const envFile = resolve(String(args['env-out'] ?? credentialsFile.replace(/\.json$/i, '') + '.env'));
  const stateFile = args['state-file'] === undefined ? undefined : resolve(String(args['state-file']));
  // Every option is checked before the (slow) key generation.
  const signWith = oneOf('sign-with', args['sign-with'], ['publicKey', 'platformCertificate'] as const);
  const notificationMode = oneOf('notification-mode', args['notification-mode'], ['retry', 'once'] as const);
  const refundMode = oneOf('refund-mode', args['refund-mode'], ['auto', 'manual'] as const);
  const product = oneOf('product', args.product, ['partner', 'ecommerce'] as const) ?? 'partner';
  const platformCount = oneOf('platform-certificates', args['platform-certificates'] === undefined ? undefined : String(args['platform-certificates']), ['1', '2'] as const);
  const encryptedBill = {
    keyEncoding: oneOf('bill-key-encoding', args['bill-key-encoding'], ['text', 'raw', 'base64'] as const),
    associatedData: args['bill-aad'] === undefined ? undefined : String(args['bill-aad']),
    tagPosition: oneOf('bill-tag-position', args['bill-tag-position'], ['end', 'start'] as const),
    maxPartBytes: args['bill-max-part-bytes'] === undefined ? undefined : Number(args['bill-max-part-bytes']),
  };
  const existing = loadCredentials(credentialsFile);
  const credentials = existing ?? (await generateSimulatorCredentials({ platformCertificateCount: platformCount === '2' ? 2 : 1 }));

  let saveTimer: NodeJS.Timeout | undefined;
  const options: SimulatorOptions = {
    port: args.port === undefined ? 8090 : Number(args.port),
    host: String(args.host ?? '127.0.0.1'),
    credentials,
    signWith,
    publicKeyOnly: args['public-key-only'] === true,
    notificationTimeScale: args['notification-time-scale'] === undefined ? 0.01 : Number(args['notification-time-scale']),
    notificationMode,
    probeRate: args['probe-rate'] === undefined ? 0 : Number(args['probe-rate']),
    notificationLossRate: args['notification-loss-rate'] === undefined ? undefined : Number(args['notification-loss-rate']),
    strictOutTradeNoScope: args['strict-out-trade-no-scope'] === true,
    requireUserAgent: args['require-user-agent'] === true,
    refundMode,
    refundDelayMs: args['refund-delay-ms'] === undefined ? 2000 : Number(args['refund-delay-ms']),
    feeRate: args['fee-rate'] === undefined ? undefined : Number(args['fee-rate']),
    billReadyHour: args['bill-ready-hour'] === undefined ? undefined : Number(args['bill-ready-hour']),
    encryptedBill,
    product,
    ecommerce: { advanceRefundPermission: args['advance-refund-permission'] === true },
    logger: args.verbose === true ? err : undefined,
    onDelivery:
      args.verbose === true
        ? (d) =>
            err(
              d.lost
                ? `notify ${d.eventType} ${d.notificationId} -> ${d.url}: LOST (never sent)`
                : `notify ${d.probe ? 'probe ' : ''}${d.eventType} ${d.notificationId} attempt ${d.attempt} -> ${d.url}: ` +
                  `${d.status ? `HTTP ${d.status}` : (d.error ?? 'no reply')} (${d.elapsedMs} ms after it was scheduled)`,
            )
        : undefined,
    onStateChange: () => {
      if (!stateFile) return;
      // Debounced: a burst of requests writes the file once.
      clearTimeout(saveTimer);
      saveTimer = setTimeout(saveState, 100);
    },
  };
  const simulator = await WechatPaySimulator.start(options);
  // Referenced by onStateChange, which only runs once requests arrive, i.e. after this line.
  const saveState = (): void => {
    if (stateFile) writeFileSync(stateFile, JSON.stringify(simulator.exportState(), null, 2));
  };
  if (stateFile && existsSync(stateFile)) simulator.importState(JSON.parse(readFileSync(stateFile, 'utf8')));

  // A public-key-only run shows no platform certificates; keep them in the file for later runs without the flag.
  const c = options.publicKeyOnly ? credentials : (simulator.credentials as SimulatorCredentials);
  const env = sandboxEnv(simulator.baseUrl, c, product);
  writePrivateFile(credentialsFile, JSON.stringify({ baseUrl: simulator.baseUrl, env, credentials: c } satisfies SandboxFile, null, 2));
  writePrivateFile(envFile, toDotenv(env));

  out(`WeChat Pay partner simulator listening on ${simulator.baseUrl}`);
  out(`Credentials ${existing ? 'reused from' : 'written to'} ${credentialsFile} (mode 0600: private keys and the APIv3 key; keep it out of git)`);
  out('');
  out('Configure your app with:');
  for (const name of ['WECHATPAY_PRODUCT', 'WECHATPAY_BASE_URL', 'WECHATPAY_SP_MCHID', 'WECHATPAY_SP_APPID', 'WECHATPAY_SERIAL_NO', 'WECHATPAY_PUBLIC_KEY_ID', 'WECHATPAY_SUB_MCHID', 'WECHATPAY_SUB_APPID']) {
    if (env[name] !== undefined) out(`  ${name}=${env[name]}`);
  }
  out(`  WECHATPAY_PRIVATE_KEY, WECHATPAY_MERCHANT_CERTIFICATE, WECHATPAY_API_V3_KEY, WECHATPAY_PUBLIC_KEY: from "env" in ${credentialsFile}`);
  out(`All of them, ready for @nestjs/config: ${envFile} (mode 0600)`);
  out('');
  out(`Sub-merchants: ${c.subMerchants.map((s) => `${s.subMchid}${s.subAppid ? ` (sub_appid ${s.subAppid})` : ''}${s.authorized ? '' : ' [not authorized]'}`).join(', ')}`);
  out(`Pay an order: POST ${simulator.baseUrl}/__sim/pay {"sub_mchid":"…","out_trade_no":"…"}, or open its h5_url / ${simulator.baseUrl}/__sim/cashier?pr=<code_url pr>`);
  if (stateFile) out(`Orders are kept in ${stateFile}`);

  let closing: Promise<void> | undefined;
  const onSignal = (): void => void handle.close();
  const handle: CliHandle = {
    simulator,
    credentialsFile,
    envFile,
    close: () =>
      (closing ??= (async () => {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        clearTimeout(saveTimer);
        saveState();
        await simulator.close();
      })()),
  };
  if (io.installSignalHandlers !== false) {
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  }
  return handle;
}
