/**
 * The one place where WeChat Pay's signed messages are built. Every line ends with LF, the last one too.
 * The request signer, the invoke-parameter signer, the verifier and the simulator all call these.
 */

/** Joins lines the WeChat Pay way: each line followed by `\n`, including the last. */
export function joinSignedLines(lines: readonly string[]): string {
  let out = '';
  for (const line of lines) out += line + '\n';
  return out;
}

/**
 * `METHOD\nURL\nTIMESTAMP\nNONCE\nBODY\n` for a request. `url` is the raw path plus raw query exactly as sent
 * (no scheme or host); `body` is the exact body ('' when there is none). A string body gives a string; a Buffer body
 * (the bytes a server received) gives a Buffer, so that bytes that are not valid UTF-8 are never altered by decoding.
 */
export function buildRequestMessage(method: string, url: string, timestamp: string | number, nonce: string, body: string): string;
export function buildRequestMessage(method: string, url: string, timestamp: string | number, nonce: string, body: Buffer): Buffer;
export function buildRequestMessage(
  method: string,
  url: string,
  timestamp: string | number,
  nonce: string,
  body: string | Buffer,
): string | Buffer {
  const head = `${method.toUpperCase()}\n${url}\n${timestamp}\n${nonce}\n`;
  return typeof body === 'string' ? `${head}${body}\n` : appendBody(head, body);
}

/**
 * `TIMESTAMP\nNONCE\nBODY\n` for a response or a notification, over the raw body bytes.
 * Returns a Buffer so that the raw body is never decoded and re-encoded.
 */
export function buildResponseMessage(timestamp: string, nonce: string, body: Buffer | string): Buffer {
  return appendBody(`${timestamp}\n${nonce}\n`, typeof body === 'string' ? Buffer.from(body, 'utf8') : body);
}

/** `head` (UTF-8) + the raw body bytes + `\n`, in one allocation. */
function appendBody(head: string, raw: Buffer): Buffer {
  const headLength = Buffer.byteLength(head, 'utf8');
  const out = Buffer.allocUnsafe(headLength + raw.length + 1);
  out.write(head, 0, 'utf8');
  raw.copy(out, headLength);
  out[out.length - 1] = 0x0a;
  return out;
}
