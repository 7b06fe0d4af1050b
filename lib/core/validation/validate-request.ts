import { plainToInstance } from 'class-transformer';
import { type ValidationError, validateSync } from 'class-validator';
import { WechatPayValidationError, type WechatPayFieldProblem } from '../errors/wechat-pay.errors';

type Constructor<T> = new () => T;

function stripSubject(message: string, field: string, property: string): string {
  for (const subject of [field, property]) if (message.startsWith(`${subject} `)) return message.slice(subject.length + 1);
  return message;
}

function flatten(errors: ValidationError[], prefix: string, out: WechatPayFieldProblem[]): void {
  for (const e of errors) {
    const field = prefix ? `${prefix}.${e.property}` : e.property;
    for (const message of Object.values(e.constraints ?? {})) {
      out.push({
        field,
        message: message.startsWith(`property ${e.property} should not exist`)
          ? 'is not a field of this request (check the spelling against the WeChat Pay docs)'
          : stripSubject(message, field, e.property),
      });
    }
    if (e.children?.length) flatten(e.children, field, out);
  }
}

/** Walks every string in a value and reports 4-byte UTF-8 characters (emoji), which APIv3 rejects. */
export function findFourByteCharacters(value: unknown, path: string, out: WechatPayFieldProblem[]): void {
  if (typeof value === 'string') {
    // Surrogate pairs are exactly the characters that take 4 bytes in UTF-8.
    if (/[\uD800-\uDFFF]/.test(value)) {
      out.push({ field: path, message: 'contains a 4-byte UTF-8 character (e.g. an emoji), which WeChat Pay APIv3 rejects' });
    }
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => findFourByteCharacters(v, `${path}[${i}]`, out));
  } else if (value && typeof value === 'object' && !(value instanceof Date)) {
    for (const [k, v] of Object.entries(value)) findFourByteCharacters(v, path ? `${path}.${k}` : k, out);
  }
}

/**
 * Validates a plain request object against a class-validator DTO class: unknown fields, constraints and 4-byte
 * characters; `extra` adds cross-field checks. Throws one `WechatPayValidationError` listing every problem.
 */
export function validateRequest<T extends object>(
  cls: Constructor<T>,
  plain: unknown,
  what: string,
  extra?: (instance: T, problems: WechatPayFieldProblem[]) => void,
): T {
  if (!plain || typeof plain !== 'object' || Array.isArray(plain)) {
    throw new WechatPayValidationError([{ field: '(root)', message: 'must be an object' }], what);
  }
  const instance = plainToInstance(cls, plain);
  const problems: WechatPayFieldProblem[] = [];
  flatten(validateSync(instance, { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true }), '', problems);
  findFourByteCharacters(plain, '', problems);
  extra?.(instance, problems);
  if (problems.length) throw new WechatPayValidationError(problems, what);
  return instance;
}
