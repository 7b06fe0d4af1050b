import { aesGcmDecrypt } from '../crypto/aes-gcm';
import type { HeadersLike } from '../crypto/headers';
import type { WechatPayVerifier } from '../crypto/verifier';
import { WechatPaySignatureError } from '../errors/wechat-pay.errors';
import { eventTypeMatches } from './event-type';
import { WechatPayNotificationError } from './notification.errors';
import type { NotificationEventRegistry } from './notification-event-registry';
import type {
  ParsedWechatPayNotification,
  WechatPayEventType,
  WechatPayNotificationBody,
  WechatPayNotificationEnvelope,
} from './notification.types';
import { validateNotificationResource } from './resource-validation';

/** The only encryption algorithm of notification resources. */
export const NOTIFICATION_ALGORITHM = 'AEAD_AES_256_GCM';

/** Options of `parse()`. */
export interface ParseNotificationOptions {
  /** Accepted event types: exact names or `PREFIX.*` (e.g. `REFUND.*`). Default: every event type. */
  eventTypes?: readonly WechatPayEventType[];
  /** Accepted resource kinds (registry entry names). Default: every registered kind. */
  resources?: readonly string[];
}

/** What the parser needs: the provider's identity and keys, the verifier and the registry of resource kinds. */
export interface NotificationParserConfig {
  spMchid: string;
  apiV3Key: Buffer;
  maxBodyBytes: number;
  verifier: WechatPayVerifier;
  registry: NotificationEventRegistry;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Checks the envelope's shape without echoing any of it. */
function checkEnvelope(body: unknown): WechatPayNotificationBody {
  if (!isRecord(body) || !isRecord(body.resource))
    throw new WechatPayNotificationError('INVALID_ENVELOPE', 'resource object missing');
  for (const field of ['id', 'event_type'] as const) {
    if (typeof body[field] !== 'string' || body[field] === '')
      throw new WechatPayNotificationError('INVALID_ENVELOPE', `${field} missing`);
  }
  for (const field of ['create_time', 'resource_type', 'summary'] as const) {
    if (body[field] !== undefined && typeof body[field] !== 'string')
      throw new WechatPayNotificationError('INVALID_ENVELOPE', `${field} is not a string`);
  }
  const r = body.resource;
  if (typeof r.ciphertext !== 'string' || typeof r.nonce !== 'string') {
    throw new WechatPayNotificationError('INVALID_ENVELOPE', 'resource.ciphertext and resource.nonce must be strings');
  }
  if (r.associated_data !== undefined && r.associated_data !== null && typeof r.associated_data !== 'string')
    throw new WechatPayNotificationError('INVALID_ENVELOPE', 'resource.associated_data is not a string');
  if (r.original_type !== undefined && typeof r.original_type !== 'string')
    throw new WechatPayNotificationError('INVALID_ENVELOPE', 'resource.original_type is not a string');
  return body as unknown as WechatPayNotificationBody;
}

/**
 * Headers + raw bytes in, verified, decrypted and typed resource out. Framework-free: the Nest guard and
 * `WechatPayNotificationService.parse()` both call it.
 */
export class WechatPayNotificationParser {
  constructor(private readonly config: NotificationParserConfig) {}

  /**
   * Checks a notification in the documented order: size, headers, timestamp window, key by serial, RSA signature
   * over the raw bytes, JSON, envelope, algorithm, AES-GCM decryption, `sp_mchid`, resource kind, DTO validation,
   * event type, resource kind of the route. Throws a `WechatPayNotificationError` (with the HTTP status to reply)
   * on the first failure.
   */
  async parse<R extends object = object>(
    headers: HeadersLike,
    rawBody: Buffer | string,
    options: ParseNotificationOptions = {},
  ): Promise<ParsedWechatPayNotification<R>> {
    const { config } = this;
    if (typeof rawBody !== 'string' && !Buffer.isBuffer(rawBody)) {
      // A parsed object would have to be re-serialized, which never reproduces the signed bytes.
      throw new WechatPayNotificationError(
        'RAW_BODY_MISSING',
        'parse() needs the raw body as a Buffer or string, not a parsed object',
      );
    }
    const size = typeof rawBody === 'string' ? Buffer.byteLength(rawBody) : rawBody.length;
    if (size > config.maxBodyBytes)
      throw new WechatPayNotificationError('BODY_TOO_LARGE', `${size} bytes > ${config.maxBodyBytes}`);
    try {
      // Known keys verify synchronously; only an unknown certificate serial needs the (async) refresh.
      try {
        config.verifier.verifySync(headers, rawBody);
      } catch (e) {
        if (!(e instanceof WechatPaySignatureError && e.reason === 'UNKNOWN_SERIAL')) throw e;
        await config.verifier.verify(headers, rawBody);
      }
    } catch (e) {
      if (e instanceof WechatPaySignatureError) throw new WechatPayNotificationError(e.reason, e.message, { cause: e });
      throw e;
    }
    const json = parseJson(typeof rawBody === 'string' ? rawBody : rawBody.toString('utf8'));
    if (json === undefined) throw new WechatPayNotificationError('INVALID_JSON');
    const body = checkEnvelope(json);
    if (body.resource.algorithm !== NOTIFICATION_ALGORITHM) throw new WechatPayNotificationError('UNSUPPORTED_ALGORITHM');
    let plaintext: Buffer;
    try {
      plaintext = aesGcmDecrypt(config.apiV3Key, body.resource);
    } catch (e) {
      // The signature proved the ciphertext came from WeChat Pay: failing to decrypt it means our APIv3 key is wrong.
      throw new WechatPayNotificationError('DECRYPTION_FAILED', (e as Error).message, { cause: e });
    }
    const plain = parseJson(plaintext.toString('utf8'));
    if (!isRecord(plain))
      throw new WechatPayNotificationError('INVALID_RESOURCE', 'decrypted resource is not a JSON object');
    const spMchidMismatch = plain.sp_mchid !== config.spMchid;
    if ('sp_mchid' in plain && spMchidMismatch) throw spMchidError();
    const entry = config.registry.find(body.event_type, body.resource.original_type, plain);
    if (!entry) {
      // Field names only: they say which shape arrived without revealing decrypted values.
      throw new WechatPayNotificationError(
        'UNKNOWN_RESOURCE_SHAPE',
        `event_type ${body.event_type.slice(0, 64)}, original_type ${String(body.resource.original_type).slice(0, 32)}, ` +
          `fields: ${Object.keys(plain).slice(0, 20).join(', ').slice(0, 300)}`,
      );
    }
    if (entry.requireSpMchid && spMchidMismatch) throw spMchidError();
    const resource = entry.resourceClass ? validateNotificationResource(entry.resourceClass, plain) : plain;
    if (options.eventTypes?.length && !eventTypeMatches(body.event_type, options.eventTypes))
      throw new WechatPayNotificationError('EVENT_TYPE_NOT_ALLOWED', `received ${body.event_type.slice(0, 64)}, accepted: ${options.eventTypes.join(', ')}`);
    if (options.resources && !options.resources.includes(entry.name)) throw this.kindNotAllowed(entry.name, options.resources);
    const envelope: WechatPayNotificationEnvelope = {
      id: body.id,
      create_time: body.create_time ?? '',
      event_type: body.event_type,
      resource_type: body.resource_type ?? '',
      summary: body.summary ?? '',
    };
    return { envelope, resource: resource as R, kind: entry.name };
  }

  private kindNotAllowed(kind: string, accepted: readonly string[]): WechatPayNotificationError {
    const unknown = accepted.filter((n) => !this.config.registry.get(n));
    return new WechatPayNotificationError(
      'RESOURCE_KIND_NOT_ALLOWED',
      `got ${kind}, accepted: ${accepted.join(', ') || '(none)'}` +
        (unknown.length ? `; not registered (check the route's resources): ${unknown.join(', ')}` : ''),
    );
  }
}

function spMchidError(): WechatPayNotificationError {
  return new WechatPayNotificationError('SP_MCHID_MISMATCH', 'resource.sp_mchid differs from the configured spMchid');
}
