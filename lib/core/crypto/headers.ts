/** Anything that looks like HTTP headers: Node's IncomingHttpHeaders, a Fetch Headers, axios headers, a plain record. */
export type HeadersLike =
  | { get(name: string): string | null | undefined }
  | Record<string, string | string[] | number | undefined | null | unknown>;

const lowerCaseNames = new Map<string, string>();

/** `name.toLowerCase()`, remembered for the few constant names this package looks up. */
function lowerCaseName(name: string): string {
  let lower = lowerCaseNames.get(name);
  if (lower === undefined) {
    lower = name.toLowerCase();
    if (lowerCaseNames.size < 64) lowerCaseNames.set(name, lower);
  }
  return lower;
}

/** Case-insensitive header lookup; the first value of a repeated header. */
export function getHeader(headers: HeadersLike, name: string): string | undefined {
  if (typeof (headers as { get?: unknown }).get === 'function') {
    const v = (headers as { get(n: string): unknown }).get(name);
    if (typeof v === 'string') return v;
    if (Array.isArray(v)) return typeof v[0] === 'string' ? v[0] : undefined;
    if (typeof v === 'number') return String(v);
    return undefined;
  }
  const rec = headers as Record<string, unknown>;
  const lower = lowerCaseName(name);
  let v = rec[lower];
  if (v === undefined) {
    // Node lower-cases header names; other records may not. Lengths first: most names differ there.
    for (const k in rec) {
      if (k.length === lower.length && k.toLowerCase() === lower && Object.hasOwn(rec, k)) {
        v = rec[k];
        break;
      }
    }
  }
  if (Array.isArray(v)) v = v[0];
  if (typeof v === 'number') return String(v);
  return typeof v === 'string' ? v : undefined;
}

/** Header names of signed WeChat Pay messages. */
export const WECHATPAY_HEADERS = {
  timestamp: 'Wechatpay-Timestamp',
  nonce: 'Wechatpay-Nonce',
  signature: 'Wechatpay-Signature',
  serial: 'Wechatpay-Serial',
  signatureType: 'Wechatpay-Signature-Type',
  requestId: 'Request-ID',
} as const;
