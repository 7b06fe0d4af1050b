/**
 * Verification before rows: a bill is written to a temporary file while its SHA1 is computed, and only once the hash
 * matched is it handed to the parser, read back from that file. Memory stays flat (one chunk at a time) and no row of
 * a corrupt or altered bill is ever yielded.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { WechatPayBillHashMismatchError } from './bills.errors';

export { WechatPayBillHashMismatchError } from './bills.errors';

/** Computes SHA1 of the bytes passing through and fails the stream at the end when it differs. */
export class BillHashCheck extends Transform {
  private readonly hash = createHash('sha1');

  constructor(private readonly expected: string) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    const actual = this.hash.digest('hex');
    cb(actual === this.expected.toLowerCase() ? null : new WechatPayBillHashMismatchError(this.expected.toLowerCase(), actual));
  }
}

/**
 * Writes `source` (a stream that fails when its hash does not match, as `download()` returns) to a new temporary file
 * in `directory` (mode 0600), and resolves once it ended without error, with the file's bytes as a single-use async
 * iterable. The file is deleted when reading ends, fails or is abandoned (`break`), and when writing failed. On POSIX
 * systems it is unlinked as soon as it is open for reading, so not even a crash leaves it behind.
 */
export async function spoolVerifiedBill(source: Readable, directory: string = tmpdir()): Promise<AsyncIterable<Buffer>> {
  const path = join(directory, `wechatpay-bill-${randomBytes(9).toString('hex')}.part`);
  try {
    const out = await open(path, 'wx', 0o600);
    await pipeline(source, out.createWriteStream());
  } catch (e) {
    source.destroy();
    await unlink(path).catch(() => undefined);
    throw e;
  }
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (e) {
    await unlink(path).catch(() => undefined);
    throw e;
  }
  // Unlinked now where the OS allows it (the open handle keeps the bytes); otherwise when reading ends.
  const unlinked = await unlink(path).then(
    () => true,
    () => false,
  );
  const file = handle;
  return (async function* read(): AsyncGenerator<Buffer, void, undefined> {
    try {
      for await (const chunk of file.createReadStream({ autoClose: false, highWaterMark: 1 << 16 })) yield chunk as Buffer;
    } finally {
      await file.close().catch(() => undefined);
      if (!unlinked) await unlink(path).catch(() => undefined);
    }
  })();
}

/** Streams into a temporary file beside `path`, renamed to `path` only when the stream ended without error. */
export async function saveBillToFile(openSource: () => Promise<Readable>, path: string): Promise<void> {
  const tmp = `${path}.${randomBytes(6).toString('hex')}.part`;
  try {
    await pipeline(await openSource(), createWriteStream(tmp, { flags: 'wx', mode: 0o600 }));
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
}
