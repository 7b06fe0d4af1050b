/**
 * Bounds on what the transport reads from WeChat Pay: a size cap enforced while receiving, an idle timeout for
 * streamed bodies, `Retry-After` parsing, and caps on the texts WeChat Pay puts in error answers.
 */
import { type Readable, Transform, type TransformCallback } from 'node:stream';
import type { WechatPayErrorDetail } from '../errors/wechat-pay.errors';

/** Longest WeChat Pay text (`message`, a `detail` value) copied into an error. */
export const MAX_ERROR_TEXT = 512;

/**
 * Reads a body up to `limit` bytes. Past the limit the stream is destroyed (the rest is never received) and the
 * result is `undefined` when `strict`, else the first `limit` bytes.
 */
export async function readCapped(body: Buffer | Readable, limit: number, strict: boolean): Promise<Buffer | undefined> {
  if (Buffer.isBuffer(body)) return body.length <= limit ? body : strict ? undefined : body.subarray(0, limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
    if (size + b.length > limit) {
      body.destroy();
      if (strict) return undefined;
      chunks.push(b.subarray(0, limit - size));
      return Buffer.concat(chunks);
    }
    size += b.length;
    chunks.push(b);
  }
  return Buffer.concat(chunks, size);
}

/**
 * A pass-through that fails with `onIdle()` when no byte arrives for `ms` while the consumer is waiting for data.
 * While the consumer is not reading (its buffer is full) the clock stops: a slow consumer is not a silent server.
 */
export class IdleTimeout extends Transform {
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly ms: number,
    private readonly onIdle: () => Error,
  ) {
    super();
    this.arm();
  }

  private arm(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.destroy(this.onIdle()), this.ms);
  }

  override _read(size: number): void {
    if (!this.destroyed && !this.writableFinished) this.arm();
    super._read(size);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    cb(null, chunk);
    if (this.readableLength >= this.readableHighWaterMark) clearTimeout(this.timer);
    else this.arm();
  }

  override _flush(cb: TransformCallback): void {
    clearTimeout(this.timer);
    cb();
  }

  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    clearTimeout(this.timer);
    cb(err);
  }
}

/**
 * Milliseconds a `Retry-After` header asks to wait (delta-seconds or an HTTP-date, RFC 9110 §10.2.3), or undefined
 * when absent or unreadable.
 */
export function retryAfterMs(header: string | undefined, now: number): number | undefined {
  if (header === undefined) return undefined;
  const v = header.trim();
  if (/^\d{1,10}$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  if (!/[a-z]/i.test(v) || Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

/** `text` cut to `max` characters (marked with an ellipsis). */
export function capText(text: string, max = MAX_ERROR_TEXT): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/**
 * WeChat Pay's `detail` with every string capped, at most 16 keys, and nested values kept only when their JSON is
 * short: an error must stay small whatever the answer held.
 */
export function capErrorDetail(detail: Record<string, unknown>): WechatPayErrorDetail {
  const out: WechatPayErrorDetail = {};
  for (const [key, value] of Object.entries(detail).slice(0, 16)) {
    const k = capText(key, 64);
    if (typeof value === 'string') out[k] = capText(value);
    else if (typeof value === 'number' || typeof value === 'boolean' || value === null) out[k] = value;
    else if (typeof value === 'object') {
      const json = JSON.stringify(value);
      out[k] = json.length <= MAX_ERROR_TEXT ? value : capText(json);
    }
  }
  return out;
}

/** `code` and the start of `message` of an error answer that is not valid JSON (cut at the size limit). */
export function errorFieldsOf(text: string): { code?: string; message?: string } {
  const code = /"code"\s*:\s*"([A-Za-z0-9_]{1,64})"/.exec(text)?.[1];
  const quoted = /"message"\s*:\s*"((?:[^"\\]|\\.){0,600})/.exec(text)?.[1];
  let message: string | undefined;
  if (quoted !== undefined) {
    try {
      message = capText(JSON.parse(`"${quoted.replace(/\\$/, '')}"`) as string);
    } catch {
      message = undefined;
    }
  }
  return { code, message };
}
