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
 * (no scheme or host); `body` is the exact body string ('' when there is none).
 */
export function buildRequestMessage(
  method: string,
  url: string,
  timestamp: string | number,
  nonce: string,
  body: string,
): string {
  return `${method.toUpperCase()}\n${url}\n${timestamp}\n${nonce}\n${body}\n`;
}

/**
 * `TIMESTAMP\nNONCE\nBODY\n` for a response or a notification, over the raw body bytes.
 * Returns a Buffer so that the raw body is never decoded and re-encoded.
 */
export function buildResponseMessage(timestamp: string, nonce: string, body: Buffer | string): Buffer {
  const head = `${timestamp}\n${nonce}\n`;
  const raw = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const headLength = Buffer.byteLength(head, 'utf8');
  const out = Buffer.allocUnsafe(headLength + raw.length + 1);
  out.write(head, 0, 'utf8');
  raw.copy(out, headLength);
  out[out.length - 1] = 0x0a;
  return out;
}
