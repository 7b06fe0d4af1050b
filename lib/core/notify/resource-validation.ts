import { plainToInstance } from 'class-transformer';
import { type ValidationError, validateSync } from 'class-validator';
import { WechatPayNotificationError } from './notification.errors';
import type { NotificationResourceClass } from './notification.types';

/** Field paths of class-validator errors: names only, never values (they are decrypted data). */
function invalidFields(errors: ValidationError[], prefix = '', out: string[] = []): string[] {
  for (const e of errors) {
    const field = prefix ? `${prefix}.${e.property}` : e.property;
    if (e.constraints && Object.keys(e.constraints).length) out.push(field);
    if (e.children?.length) invalidFields(e.children, field, out);
  }
  return out;
}

/**
 * `plainToInstance` + `validateSync(…, { forbidUnknownValues: true })` of a decrypted resource. Unknown fields are
 * kept (WeChat Pay adds fields over time); a failure is `INVALID_RESOURCE` naming the invalid fields.
 */
export function validateNotificationResource<T extends object>(
  cls: NotificationResourceClass<T>,
  plain: Record<string, unknown>,
): T {
  const instance = plainToInstance(cls, plain);
  const errors = validateSync(instance, { forbidUnknownValues: true });
  if (errors.length)
    throw new WechatPayNotificationError('INVALID_RESOURCE', `invalid fields: ${invalidFields(errors).join(', ')}`);
  return instance;
}
