/**
 * `multipart/form-data` bodies of the media uploads: a `meta` part holding the JSON string that
 * is signed, and a `file` part with the bytes. Built into one Buffer, so that a retry resends identical bytes.
 */
import { randomBytes } from 'node:crypto';
import { WechatPayError } from '../errors/wechat-pay.errors';

/** A multipart upload: the signature covers exactly `meta`, the JSON string sent as the `meta` part. */
export interface WechatPayUpload {
  /** The `meta` part, e.g. `{"filename":"a.jpg","sha256":"…"}`: signed and sent byte for byte. */
  meta: string;
  /** The `file` part's bytes. */
  file: Buffer;
  /** The `filename` of the `file` part's Content-Disposition. */
  filename: string;
  /** The `file` part's Content-Type, e.g. `image/jpeg`. */
  contentType: string;
}

/** A built multipart body and the Content-Type header that names its boundary. */
export interface MultipartBody {
  body: Buffer;
  contentType: string;
}

/** Characters that would end a quoted header value or the header itself. */
const UNSAFE_HEADER_VALUE = /["\r\n\\]/;

/** Builds the two-part body WeChat Pay's media uploads expect. */
export function buildMultipart(upload: WechatPayUpload, boundary = `WechatPayBoundary${randomBytes(12).toString('hex')}`): MultipartBody {
  if (UNSAFE_HEADER_VALUE.test(upload.filename)) throw new WechatPayError('upload filename must not contain quotes, backslashes or line breaks');
  if (UNSAFE_HEADER_VALUE.test(upload.contentType)) throw new WechatPayError('upload contentType must not contain quotes, backslashes or line breaks');
  const meta = Buffer.from(upload.meta, 'utf8');
  // The boundary must not occur in the content; with 96 random bits this checks a practically impossible case.
  if (meta.includes(boundary) || upload.file.includes(boundary)) return buildMultipart(upload);
  const head = (disposition: string, type: string): Buffer =>
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; ${disposition}\r\nContent-Type: ${type}\r\n\r\n`, 'utf8');
  const body = Buffer.concat([
    head('name="meta"', 'application/json'),
    meta,
    Buffer.from('\r\n'),
    head(`name="file"; filename="${upload.filename}"`, upload.contentType),
    upload.file,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { body, contentType: `multipart/form-data; boundary=${boundary}` };
}
