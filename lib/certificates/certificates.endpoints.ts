import { defineEndpoint } from '../core/http/endpoint';

/** Platform certificates. */
export const CERTIFICATE_ENDPOINTS = {
  /** The answer is signed by one of the certificates it lists: the service verifies it after decrypting them. */
  list: defineEndpoint({ name: 'certificates.list', method: 'GET', path: '/v3/certificates', idempotent: true, response: 'json' }),
} as const;
