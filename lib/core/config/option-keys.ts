/**
 * Unknown option keys, with a "did you mean" suggestion. A misspelt optional key (`notifyURL`, `retry.attemps`) is
 * otherwise silently ignored and its default applies, which is found only when the behaviour differs in production.
 */
import type {
  BothVerification,
  PlatformCertificateVerification,
  PublicKeyVerification,
  WechatPartnerPayModuleOptions,
  WechatPayBootCheckOptions,
  WechatPayNotificationOptions,
  WechatPayRetryOptions,
} from '../../interfaces';

// Typed as records of the interfaces' keys, so that a new option added to an interface and not here fails to compile.
const TOP: Record<keyof WechatPartnerPayModuleOptions, true> = {
  spMchid: true,
  spAppid: true,
  merchantSerialNo: true,
  privateKey: true,
  merchantCertificate: true,
  apiV3Key: true,
  verification: true,
  notifyUrl: true,
  refundNotifyUrl: true,
  baseUrl: true,
  backupBaseUrl: true,
  timeoutMs: true,
  retry: true,
  clockSkewSeconds: true,
  threadpoolSigning: true,
  clock: true,
  notifications: true,
  verifyOnBoot: true,
};
const RETRY: Record<keyof WechatPayRetryOptions, true> = {
  attempts: true,
  baseDelayMs: true,
  maxDelayMs: true,
  failover: true,
};
const NOTIFICATIONS: Record<keyof WechatPayNotificationOptions, true> = {
  maxBodyBytes: true,
  dedupeStore: true,
  dedupeTtlMs: true,
  dedupeLockMs: true,
  dedupeKey: true,
  routeCheck: true,
  storeTimeoutMs: true,
  replyBudgetMs: true,
  events: true,
};
const BOOT_CHECK: Record<keyof WechatPayBootCheckOptions, true> = { subMchid: true };
const PUBLIC_KEY: Record<keyof PublicKeyVerification, true> = {
  mode: true,
  publicKeyId: true,
  publicKey: true,
};
const CERTIFICATE: Record<keyof PlatformCertificateVerification, true> = {
  mode: true,
  refreshIntervalMs: true,
  certificates: true,
};
const BOTH: Record<keyof BothVerification, true> = {
  mode: true,
  publicKeyId: true,
  publicKey: true,
  refreshIntervalMs: true,
  certificates: true,
  prefer: true,
};
const VERIFICATION_BY_MODE: Record<string, readonly string[]> = {
  publicKey: Object.keys(PUBLIC_KEY),
  platformCertificate: Object.keys(CERTIFICATE),
  both: Object.keys(BOTH),
};

/** Keys other SDKs and WeChat's own docs use for the same things. */
const ALIASES: Record<string, string> = {
  mchid: 'spMchid',
  appid: 'spAppid',
  serialno: 'merchantSerialNo',
  certserialno: 'merchantSerialNo',
  apiclientkey: 'privateKey',
  apiclientcert: 'merchantCertificate',
  apikey: 'apiV3Key',
  apiv3secret: 'apiV3Key',
};

function normalise(key: string): string {
  return key.replace(/[_-]/g, '').toLowerCase();
}

/** Levenshtein distance, stopping early above `max`. */
export function editDistance(a: string, b: string, max = Number.POSITIVE_INFINITY): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      best = Math.min(best, cur[j]);
    }
    if (best > max) return max + 1;
    prev = cur;
  }
  return prev[b.length];
}

/**
 * The known key closest to `key`: same letters ignoring case, `_` and `-`; then a known alias; then an edit distance
 * of at most 2 (1 for short keys) on the lower-cased names.
 */
export function closestKey(key: string, known: readonly string[]): string | undefined {
  const n = normalise(key);
  const exact = known.find((k) => normalise(k) === n);
  if (exact) return exact;
  const alias = ALIASES[n];
  if (alias && known.includes(alias)) return alias;
  const max = n.length <= 5 ? 1 : 2;
  let best: string | undefined;
  let bestDistance = max + 1;
  for (const k of known) {
    const d = editDistance(n, normalise(k), max);
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  return best;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describeKey(key: string): string {
  return JSON.stringify(key.length > 40 ? `${key.slice(0, 40)}…` : key);
}

/** Problems for unknown keys of one object; `nested` are the paths one level down where a top-level key may belong. */
function unknownIn(
  problems: string[],
  where: string,
  value: Record<string, unknown>,
  known: readonly string[],
  nested: Record<string, readonly string[]> = {},
): void {
  for (const key of Object.keys(value)) {
    if (known.includes(key)) continue;
    const name = where ? `${where}.${key}` : key;
    if (!where && key === 'isGlobal') {
      problems.push(
        'isGlobal is an argument of forRoot()/forRootAsync() itself, not an option returned by useFactory: move it next to useFactory',
      );
      continue;
    }
    const suggestion = closestKey(key, known);
    if (suggestion) {
      problems.push(
        `unknown option ${describeKey(name)}: did you mean ${where ? `${where}.` : ''}${suggestion}?`,
      );
      continue;
    }
    const inner = Object.entries(nested)
      .map(([parent, keys]) => [parent, closestKey(key, keys)] as const)
      .find(([, k]) => k !== undefined);
    if (inner)
      problems.push(
        `unknown option ${describeKey(name)}: did you mean ${inner[0]}.${inner[1]}? (it belongs inside ${inner[0]})`,
      );
    else
      problems.push(
        `unknown option ${describeKey(name)}: known options${where ? ` of ${where}` : ''} are ${known.join(', ')}`,
      );
  }
}

/** Every unknown key of the module options, nested `verification`, `retry`, `notifications` and `verifyOnBoot` included. */
export function unknownOptionProblems(options: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const verificationKeys = Object.keys(BOTH);
  unknownIn(problems, '', options, Object.keys(TOP), {
    verification: verificationKeys,
    retry: Object.keys(RETRY),
    notifications: Object.keys(NOTIFICATIONS),
  });
  if (isObject(options.retry)) unknownIn(problems, 'retry', options.retry, Object.keys(RETRY));
  if (isObject(options.notifications))
    unknownIn(problems, 'notifications', options.notifications, Object.keys(NOTIFICATIONS));
  if (isObject(options.verifyOnBoot))
    unknownIn(problems, 'verifyOnBoot', options.verifyOnBoot, Object.keys(BOOT_CHECK));
  const v = options.verification;
  if (isObject(v)) {
    const mode = typeof v.mode === 'string' ? v.mode : undefined;
    const forMode = mode ? VERIFICATION_BY_MODE[mode] : undefined;
    if (!forMode) unknownIn(problems, 'verification', v, verificationKeys);
    else {
      for (const key of Object.keys(v)) {
        if (forMode.includes(key)) continue;
        if (verificationKeys.includes(key)) {
          const modes = Object.keys(VERIFICATION_BY_MODE).filter((m) =>
            VERIFICATION_BY_MODE[m].includes(key),
          );
          problems.push(
            `verification.${key} is not used in mode '${mode}': it belongs to mode ${modes.map((m) => `'${m}'`).join(' or ')}`,
          );
        } else unknownIn(problems, 'verification', { [key]: v[key] }, forMode);
      }
    }
  }
  return problems;
}
