/**
 * The media book: `POST /v3/merchant/media/upload` and `/video_upload`. The transport verified
 * the signature over the received `meta` part (a signature over the whole multipart body is SIGN_ERROR); the book
 * checks `meta` (`{"filename","sha256"}` and nothing else), the extension, the size and the SHA-256 of the file part,
 * and remembers each upload under a new `media_id` (onboarding will look them up).
 */
import { createHash, randomBytes } from 'node:crypto';
import { MEDIA_ENDPOINTS } from '../../media/media.endpoints';
import { SIMULATOR_ERRORS, SimulatorHttpError } from '../simulator-errors';
import type { SimulatorMultipart } from '../simulator-multipart';
import { json, parseJsonObject, type SimulatorBook, type SimulatorBookContext, type SimulatorRoute } from '../simulator-routes';
import { check, fail, str } from '../simulator-validation';

/** An upload the simulator remembers. Read through `sim.getMedia()`, which returns a copy. */
export interface SimulatedMedia {
  mediaId: string;
  kind: 'image' | 'video';
  filename: string;
  /** Lowercase hex SHA-256 of the bytes. */
  sha256: string;
  /** The file part's Content-Type, as received. */
  contentType?: string;
  size: number;
  /** ms */
  uploadedAt: number;
}

/** Options of the media book. */
export interface MediaBookOptions {
  maxImageBytes: number;
  maxVideoBytes: number;
}

const KINDS = {
  image: ['jpg', 'bmp', 'png'],
  video: ['avi', 'wmv', 'mpeg', 'mp4', 'mov', 'mkv', 'flv', 'f4v', 'm4v', 'rmvb'],
} as const;

const META_SCHEMA = { type: 'object', required: true, fields: { filename: str(1, 256, true), sha256: { type: 'string', required: true, pattern: /^[0-9a-f]{64}$/, issue: 'must be the lowercase hex SHA-256 of the file' } } } as const;

/** Media uploads of one simulated provider. */
export class MediaBook implements SimulatorBook {
  readonly name = 'media';
  private readonly media = new Map<string, SimulatedMedia>();

  constructor(
    private readonly ctx: SimulatorBookContext,
    private readonly options: MediaBookOptions,
  ) {}

  routes(): SimulatorRoute[] {
    return [
      { endpoint: MEDIA_ENDPOINTS.uploadImage, multipart: true, handle: ({ multipart }) => json(200, { media_id: this.upload('image', multipart!) }) },
      { endpoint: MEDIA_ENDPOINTS.uploadVideo, multipart: true, handle: ({ multipart }) => json(200, { media_id: this.upload('video', multipart!) }) },
    ];
  }

  /** A copy of an upload, if the media_id is known. */
  get(mediaId: string): SimulatedMedia | undefined {
    const m = this.media.get(mediaId);
    return m && { ...m };
  }

  exportState(): Record<string, unknown> {
    return { media: [...this.media.values()] };
  }

  /** Files written before media existed have no `media` key. */
  importState(state: Readonly<Record<string, unknown>>): void {
    this.media.clear();
    for (const m of (state.media as SimulatedMedia[] | undefined) ?? []) this.media.set(m.mediaId, { ...m });
  }

  private upload(kind: 'image' | 'video', multipart: SimulatorMultipart): string {
    const metaPart = multipart.part('meta');
    const filePart = multipart.part('file');
    if (!metaPart) fail('/meta', null, 'is required: the multipart body needs a part named meta');
    if (!filePart) fail('/file', null, 'is required: the multipart body needs a part named file');
    const meta = parseJsonObject(metaPart.bytes);
    check(META_SCHEMA, meta, '/meta');
    const filename = meta.filename as string;
    const extension = /\.([^.]+)$/.exec(filename)?.[1]?.toLowerCase() ?? '';
    if (!(KINDS[kind] as readonly string[]).includes(extension)) fail('/meta/filename', filename, `must end with .${KINDS[kind].join(', .')}`);
    const max = kind === 'image' ? this.options.maxImageBytes : this.options.maxVideoBytes;
    if (filePart.bytes.length === 0) fail('/file', null, 'is empty');
    if (filePart.bytes.length > max) fail('/file', null, `is ${filePart.bytes.length} bytes, over the limit of ${max}`);
    const sha256 = createHash('sha256').update(filePart.bytes).digest('hex');
    if (sha256 !== meta.sha256) throw new SimulatorHttpError(SIMULATOR_ERRORS.MEDIA_SHA256_MISMATCH);
    let mediaId: string;
    do mediaId = randomBytes(48).toString('base64url');
    while (this.media.has(mediaId));
    this.media.set(mediaId, { mediaId, kind, filename, sha256, contentType: filePart.contentType, size: filePart.bytes.length, uploadedAt: this.ctx.clock() });
    return mediaId;
  }
}
