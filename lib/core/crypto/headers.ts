/** Anything that looks like HTTP headers: Node's IncomingHttpHeaders, a Fetch Headers, axios headers, a plain record. */
export type HeadersLike =
  | { get(name: string): string | null | undefined }
  | Record<string, string | string[] | number | undefined | null | unknown>;

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
  let v = rec[name.toLowerCase()];
  if (v === undefined) {
    const lower = name.toLowerCase();
    for (const k of Object.keys(rec)) {
      if (k.toLowerCase() === lower) {
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
