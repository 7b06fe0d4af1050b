/**
 * Media uploads end to end (ecommerce spec §4): WechatPayMediaService against the simulator over real HTTP with real
 * keys. The simulator verifies the signature over the `meta` part it received and the SHA-256 of the file part; raw
 * requests show that a tampered file part and a signature over the whole multipart body are refused.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { WechatPayMediaService, WechatPayValidationError } from 'nestjs-wechat-partner-pay';
import { buildMultipart } from '../lib/core/http/multipart';
import { MEDIA_ENDPOINTS } from '../lib/media/media.endpoints';
import { type SimApp, startSimApp } from './helpers/sim-app';

// The smallest PNG: an 8-byte signature and an IHDR chunk are enough for the server, which checks no image content.
const PNG = Buffer.concat([Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489', 'hex'), Buffer.from('pixel data')]);
const MP4 = Buffer.concat([Buffer.from('000000186674797069736f6d', 'hex'), Buffer.alloc(2048, 7)]);
const IMAGE = MEDIA_ENDPOINTS.uploadImage.path;

let app: SimApp;
let media: WechatPayMediaService;
beforeAll(async () => {
  app = await startSimApp();
  media = app.ref.get(WechatPayMediaService);
});
afterAll(() => app?.close());

/** A raw upload to the simulator: `signedOver` decides which bytes the Authorization signature covers. */
async function rawUpload(parts: { meta: string; file: Buffer; filename: string }, signedOver: 'meta' | 'body'): Promise<{ status: number; code: string; message: string }> {
  const { body, contentType } = buildMultipart({ ...parts, contentType: 'image/png' });
  // The signer takes text: a whole body is signed only when it is valid UTF-8, so that exactly its bytes are signed.
  if (signedOver === 'body' && !Buffer.from(body.toString('utf8'), 'utf8').equals(body)) throw new Error('use a UTF-8 file to sign the whole body');
  const authorization = app.sim.authorization('POST', IMAGE, signedOver === 'meta' ? parts.meta : body.toString('utf8'));
  const res = await fetch(`${app.sim.baseUrl}${IMAGE}`, { method: 'POST', headers: { Authorization: authorization, 'Content-Type': contentType, Accept: 'application/json' }, body });
  return { status: res.status, ...((await res.json()) as { code: string; message: string }) };
}

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('WechatPayMediaService', () => {
  it('uploads an image: multipart meta + file, signed over meta; the simulator remembers the media_id', async () => {
    const { media_id } = await media.uploadImage({ filename: '营业执照.png', file: PNG });
    expect(media_id).toMatch(/^[A-Za-z0-9_-]{32,512}$/);
    expect(app.sim.getMedia(media_id)).toMatchObject({ kind: 'image', filename: '营业执照.png', sha256: sha256(PNG), contentType: 'image/png', size: PNG.length });
    expect(app.sim.requests.at(-1)).toMatchObject({ method: 'POST', path: IMAGE, status: 200 });
  });

  it('uploads a video from a stream', async () => {
    const { media_id } = await media.uploadVideo({ filename: 'store.MP4', file: Readable.from([MP4.subarray(0, 100), MP4.subarray(100)]) });
    expect(app.sim.getMedia(media_id)).toMatchObject({ kind: 'video', filename: 'store.MP4', sha256: sha256(MP4), contentType: 'video/mp4', size: MP4.length });
  });

  it('checks the extension and the size before sending anything', async () => {
    const before = app.sim.requests.length;
    await expect(media.uploadImage({ filename: 'a.gif', file: PNG })).rejects.toMatchObject({ problems: [{ field: 'filename', message: expect.stringMatching(/\.jpg, \.bmp, \.png/) }] });
    await expect(media.uploadVideo({ filename: 'a.png', file: MP4 })).rejects.toBeInstanceOf(WechatPayValidationError);
    await expect(media.uploadImage({ filename: 'a.png', file: PNG, maxBytes: 10 })).rejects.toMatchObject({ problems: [{ field: 'file', message: expect.stringMatching(/over the limit of 10 bytes/) }] });
    await expect(media.uploadVideo({ filename: 'a.mp4', file: Readable.from([MP4]), maxBytes: 100 })).rejects.toBeInstanceOf(WechatPayValidationError);
    await expect(media.uploadImage({ filename: 'a.png', file: Buffer.alloc(0) })).rejects.toMatchObject({ problems: [{ field: 'file', message: 'is empty' }] });
    await expect(media.uploadImage({ filename: 'x"y.png', file: PNG })).rejects.toMatchObject({ problems: [{ field: 'filename' }] });
    expect(app.sim.requests.length).toBe(before);
  });
});

describe('the simulator', () => {
  const meta = JSON.stringify({ filename: 'a.png', sha256: sha256(PNG) });

  it('accepts a raw upload signed over the meta part', async () => {
    expect(await rawUpload({ meta, file: PNG, filename: 'a.png' }, 'meta')).toMatchObject({ status: 200 });
  });

  it('refuses a file part whose SHA-256 is not the one in meta', async () => {
    const tampered = Buffer.from(PNG);
    tampered[tampered.length - 1] ^= 1;
    expect(await rawUpload({ meta, file: tampered, filename: 'a.png' }, 'meta')).toMatchObject({ status: 400, code: 'PARAM_ERROR', message: expect.stringMatching(/sha256/) });
  });

  it('refuses an upload signed over the whole multipart body with SIGN_ERROR', async () => {
    const text = Buffer.from('a file that is valid UTF-8, so that the whole body can be signed');
    const textMeta = JSON.stringify({ filename: 'a.png', sha256: sha256(text) });
    expect(await rawUpload({ meta: textMeta, file: text, filename: 'a.png' }, 'body')).toMatchObject({ status: 401, code: 'SIGN_ERROR' });
    expect(await rawUpload({ meta: textMeta, file: text, filename: 'a.png' }, 'meta')).toMatchObject({ status: 200 });
  });

  it('refuses meta keys other than filename and sha256, and a JSON body', async () => {
    const extra = JSON.stringify({ filename: 'a.png', sha256: sha256(PNG), size: PNG.length });
    expect(await rawUpload({ meta: extra, file: PNG, filename: 'a.png' }, 'meta')).toMatchObject({ status: 400, code: 'PARAM_ERROR' });
    const res = await fetch(`${app.sim.baseUrl}${IMAGE}`, { method: 'POST', headers: { Authorization: app.sim.authorization('POST', IMAGE, '{}'), 'Content-Type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(400);
  });
});
