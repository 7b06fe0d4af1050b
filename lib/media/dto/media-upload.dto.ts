import type { Readable } from 'node:stream';

/** A file to upload with `WechatPayMediaService.uploadImage()` / `uploadVideo()`. */
export interface MediaUploadRequest {
  /**
   * The file name sent in `meta` and in the file part, e.g. `license.jpg`. Its extension must be one WeChat Pay
   * accepts for the endpoint (images: jpg, bmp, png; videos: avi, wmv, mpeg, mp4, mov, mkv, flv, f4v, m4v, rmvb).
   */
  filename: string;
  /** The bytes, as a Buffer or a stream (read up to the size limit, then sent in one request). */
  file: Buffer | Readable;
  /** The file part's Content-Type. Default: from the extension (`image/jpeg`, `video/mp4`, …). */
  contentType?: string;
  /**
   * Client-side size limit in bytes. Default 5 MB (images: the 平台收付通 upload page, 2024‑11‑18; videos: only a
   * third-party table says 5 MB [UNVERIFIED], hence this override). WeChat Pay's own answer decides in the end.
   */
  maxBytes?: number;
}

/** The answer of a media upload. */
export interface MediaUploadResponse {
  /** Up to 512 characters; how long it stays valid is not documented [UNVERIFIED]. */
  media_id: string;
}
