/**
 * Server-side validation rules of the simulator, as WeChat Pay applies them: the first problem wins and is reported
 * as 400 PARAM_ERROR with `detail { field (JSON pointer), value, issue, location }`. Each book declares its own
 * schemas with these rules (books/<family>.validation.ts), written independently of the client-side DTOs on purpose,
 * so that the simulator catches what a client forgets to check.
 */
import { SIMULATOR_ERRORS, type SimulatorErrorDefinition, SimulatorHttpError } from './simulator-errors';

/** A field rule. */
export type Rule =
  | { type: 'string'; required?: boolean; min?: number; max?: number; pattern?: RegExp; enum?: readonly string[]; issue?: string }
  | { type: 'integer'; required?: boolean; min?: number }
  | { type: 'boolean'; required?: boolean }
  | { type: 'object'; required?: boolean; fields: Record<string, Rule> }
  | { type: 'array'; required?: boolean; min?: number; max?: number; items: Rule };

/** A string of `min`..`max` characters. */
export const str = (min: number, max: number, required = false): Rule => ({ type: 'string', min, max, required });

/** A JSON pointer segment (RFC 6901 escaping). */
function pointer(parent: string, key: string | number): string {
  return `${parent}/${String(key).replace(/~/g, '~0').replace(/\//g, '~1')}`;
}

/** Where a checked value came from (the `location` of an error detail). */
export type Location = 'body' | 'query' | 'path';

/** Throws 400 PARAM_ERROR (or `definition`) with `detail { field, value, issue, location }`. */
export function fail(field: string, value: unknown, issue: string, location: Location = 'body', definition: SimulatorErrorDefinition = SIMULATOR_ERRORS.PARAM_ERROR): never {
  throw new SimulatorHttpError(definition, `${definition.message}: ${field} ${issue}`, { field, value, issue, location });
}

/** Walks a value against a rule; the first problem throws 400 PARAM_ERROR with detail. */
export function check(rule: Rule, value: unknown, field: string, location: Location = 'body'): void {
  switch (rule.type) {
    case 'string': {
      if (typeof value !== 'string') return fail(field, value, 'must be a string', location);
      // Surrogates are exactly the characters that take 4 bytes in UTF-8, which APIv3 rejects.
      if (/[\uD800-\uDFFF]/.test(value)) return fail(field, value, 'contains a 4-byte UTF-8 character (e.g. an emoji), which APIv3 does not accept', location);
      // WeChat Pay counts string(n) in UTF-8 bytes (its errors say 字节数): 中 takes 3.
      const bytes = Buffer.byteLength(value, 'utf8');
      if (rule.min !== undefined && bytes < rule.min) return fail(field, value, `字节数 ${bytes}，小于最小值 ${rule.min} (must be at least ${rule.min} UTF-8 bytes)`, location);
      if (rule.max !== undefined && bytes > rule.max) return fail(field, value, `字节数 ${bytes}，大于最大值 ${rule.max} (must be at most ${rule.max} UTF-8 bytes)`, location);
      if (rule.pattern && !rule.pattern.test(value)) return fail(field, value, rule.issue ?? `does not match ${rule.pattern.source}`, location);
      if (rule.enum && !rule.enum.includes(value)) return fail(field, value, `must be one of ${rule.enum.join(', ')}`, location);
      return;
    }
    case 'integer':
      if (typeof value !== 'number' || !Number.isInteger(value)) return fail(field, value, 'must be an integer', location);
      if (rule.min !== undefined && value < rule.min) return fail(field, value, `must be at least ${rule.min}`, location);
      return;
    case 'boolean':
      if (typeof value !== 'boolean') return fail(field, value, 'must be a boolean', location);
      return;
    case 'array':
      if (!Array.isArray(value)) return fail(field, value, 'must be an array', location);
      if (rule.min !== undefined && value.length < rule.min) return fail(field, value, `must have at least ${rule.min} items`, location);
      if (rule.max !== undefined && value.length > rule.max) return fail(field, value, `must have at most ${rule.max} items`, location);
      value.forEach((item, i) => check(rule.items, item, pointer(field, i), location));
      return;
    case 'object': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail(field || '/', value, 'must be an object', location);
      const record = value as Record<string, unknown>;
      for (const key of Object.keys(record)) {
        if (!(key in rule.fields)) fail(pointer(field, key), record[key], 'is not a field of this API', location, SIMULATOR_ERRORS.EXTRA_PARAM);
      }
      for (const [key, child] of Object.entries(rule.fields)) {
        const v = record[key];
        if (v === undefined || v === null) {
          if (child.required) fail(pointer(field, key), v ?? null, 'is required', location);
          continue;
        }
        check(child, v, pointer(field, key), location);
      }
    }
  }
}

/** Whether a notify_url is acceptable: absolute http(s), no query string, no fragment. */
export function notifyUrlIssue(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be an absolute http(s) URL';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must be an absolute http(s) URL';
  if (value.includes('?')) return 'must not contain a query string';
  if (value.includes('#')) return 'must not contain a fragment';
  return undefined;
}


/** Deep equality of parsed JSON values, ignoring key order (re-entry compares parameters, not bytes). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => jsonEqual(v, b[i]));
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  const ka = Object.keys(ra);
  return ka.length === Object.keys(rb).length && ka.every((k) => Object.prototype.hasOwnProperty.call(rb, k) && jsonEqual(ra[k], rb[k]));
}

/** A copy of a JSON value with object keys sorted, as the real server returns them. */
export function sortKeys<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v) => sortKeys(v)) as T;
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(value).sort()) out[k] = sortKeys((value as Record<string, unknown>)[k]);
  return out as T;
}
