import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { type WechatPayFieldProblem, WechatPayValidationError } from '../core/errors/wechat-pay.errors';
import type { WechatPayEndpoint } from '../core/http/endpoint';
import { readCapped } from '../core/http/bounded-io';
import { WechatPayClient } from '../client/wechat-pay.client';
import { findFourByteCharacters } from '../core/validation/validate-request';
import type { MediaUploadRequest, MediaUploadResponse } from './dto/media-upload.dto';
import { MEDIA_ENDPOINTS } from './media.endpoints';

/** 5 MB: the image limit of the 平台收付通 upload page (other pages say 2 MB; the server decides). */
export const MEDIA_DEFAULT_MAX_BYTES = 5 * 1024 * 1024;

/** Image extensions and their Content-Type [DOC: JPG, BMP, PNG]. */
export const MEDIA_IMAGE_TYPES: Readonly<Record<string, string>> = Object.freeze({ jpg: 'image/jpeg', bmp: 'image/bmp', png: 'image/png' });

/** Video extensions and their Content-Type [3P wechatpay-im `video_upload.md`]. */
export const MEDIA_VIDEO_TYPES: Readonly<Record<string, string>> = Object.freeze({
  avi: 'video/x-msvideo',
  wmv: 'video/x-ms-wmv',
  mpeg: 'video/mpeg',
  mp4: 'video/mp4',
  mov: 'video/quicktime',
  mkv: 'video/x-matroska',
  flv: 'video/x-flv',
  f4v: 'video/x-f4v',
  m4v: 'video/x-m4v',
  rmvb: 'application/vnd.rn-realmedia-vbr',
});

/**
 * Media uploads (图片上传 / 视频上传): `multipart/form-data` with a `meta` part `{"filename","sha256"}` and a `file`
 * part. The request signature covers exactly the `meta` string sent, not the multipart body (a signature over the
 * body is answered with SIGN_ERROR). Extension and size are checked before anything is sent.
 */
@Injectable()
export class WechatPayMediaService {
  constructor(private readonly client: WechatPayClient) {}

  /** Uploads a jpg, bmp or png image (≤ 5 MB by default) → `media_id`. */
  uploadImage(req: MediaUploadRequest): Promise<MediaUploadResponse> {
    return this.upload(MEDIA_ENDPOINTS.uploadImage, MEDIA_IMAGE_TYPES, 'image upload', req);
  }

  /** Uploads a video (avi, wmv, mpeg, mp4, mov, mkv, flv, f4v, m4v, rmvb; ≤ 5 MB by default) → `media_id`. */
  uploadVideo(req: MediaUploadRequest): Promise<MediaUploadResponse> {
    return this.upload(MEDIA_ENDPOINTS.uploadVideo, MEDIA_VIDEO_TYPES, 'video upload', req);
  }

  private async upload(endpoint: WechatPayEndpoint<string>, types: Readonly<Record<string, string>>, what: string, req: MediaUploadRequest): Promise<MediaUploadResponse> {
    const { filename, contentType, maxBytes = MEDIA_DEFAULT_MAX_BYTES } = req ?? ({} as MediaUploadRequest);
    const problems: WechatPayFieldProblem[] = [];
    const extension = typeof filename === 'string' ? /\.([^./\\]+)$/.exec(filename)?.[1]?.toLowerCase() : undefined;
    if (typeof filename !== 'string' || filename === '') problems.push({ field: 'filename', message: 'is required, e.g. "license.jpg"' });
    else {
      if (extension === undefined || !(extension in types)) {
        problems.push({ field: 'filename', message: `must end with one of .${Object.keys(types).join(', .')} (WeChat Pay checks the extension)` });
      }
      if (/["\\/\r\n]/.test(filename)) problems.push({ field: 'filename', message: 'must be a bare file name, without quotes, slashes, backslashes or line breaks' });
      findFourByteCharacters(filename, 'filename', problems);
    }
    if (contentType !== undefined && (typeof contentType !== 'string' || !/^[\w.+-]+\/[\w.+-]+$/.test(contentType))) {
      problems.push({ field: 'contentType', message: 'must be a MIME type such as image/jpeg' });
    }
    if (!Number.isInteger(maxBytes) || maxBytes < 1) problems.push({ field: 'maxBytes', message: 'must be a positive integer number of bytes' });
    if (!Buffer.isBuffer(req?.file) && !(req?.file instanceof Readable)) problems.push({ field: 'file', message: 'must be a Buffer or a Readable stream' });
    if (problems.length) throw new WechatPayValidationError(problems, what);
    const file = await readLimited(req.file, maxBytes, what);
    const sha256 = createHash('sha256').update(file).digest('hex');
    // The exact string signed and sent as the meta part; only these two keys (extra keys are answered with SIGN_ERROR).
    const meta = JSON.stringify({ filename, sha256 });
    const res = await this.client.upload<MediaUploadResponse>(endpoint, { meta, file, filename, contentType: contentType ?? types[extension as string] });
    return res.data;
  }
}

/** The whole file, refusing an empty one and stopping a stream as soon as it passes the limit. */
async function readLimited(file: Buffer | Readable, maxBytes: number, what: string): Promise<Buffer> {
  const tooLarge = (size: string): WechatPayValidationError =>
    new WechatPayValidationError([{ field: 'file', message: `is ${size}, over the limit of ${maxBytes} bytes (raise maxBytes if WeChat Pay accepts larger files for this upload)` }], what);
  const bytes = await readCapped(file, maxBytes, true);
  if (bytes === undefined) throw tooLarge(Buffer.isBuffer(file) ? `${file.length} bytes` : `more than ${maxBytes} bytes`);
  if (bytes.length === 0) throw new WechatPayValidationError([{ field: 'file', message: 'is empty' }], what);
  return bytes;
}
