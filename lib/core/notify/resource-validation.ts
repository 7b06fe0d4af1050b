import { WechatPayNotificationError } from './notification.errors';
import type { NotificationResourceClass } from './notification.types';
import { readResource } from './resource-reader';

/**
 * `plainToInstance` + `validateSync(…, { forbidUnknownValues: true })` of a decrypted resource (through the
 * benchmarked fast path of `readResource`). Unknown fields are kept (WeChat Pay adds fields over time); a failure is
 * `INVALID_RESOURCE` naming the invalid fields, never their values.
 */
export function validateNotificationResource<T extends object>(
  cls: NotificationResourceClass<T>,
  plain: Record<string, unknown>,
): T {
  const read = readResource(cls, plain);
  if (!read.ok)
    throw new WechatPayNotificationError('INVALID_RESOURCE', `invalid fields: ${read.invalidFields.join(', ')}`);
  return read.value;
}
