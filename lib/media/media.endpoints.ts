import { defineEndpoint } from '../core/http/endpoint';

/**
 * Media uploads (图片/视频上传): multipart bodies whose signature covers the `meta` part only. The
 * answer's `media_id` is used by onboarding (进件) and other calls.
 */
export const MEDIA_ENDPOINTS = {
  // Storing the same file again has no effect beyond another media_id, so a retry after a network error is safe.
  uploadImage: defineEndpoint({ name: 'media.uploadImage', method: 'POST', path: '/v3/merchant/media/upload', idempotent: true, response: 'json' }),
  uploadVideo: defineEndpoint({ name: 'media.uploadVideo', method: 'POST', path: '/v3/merchant/media/video_upload', idempotent: true, response: 'json' }),
} as const;
