/**
 * Byte-length constraints: WeChat Pay declares string sizes (`string(80)`) in UTF-8 bytes, so a Chinese reason of
 * 30 characters (90 bytes) is too long for `reason` even though `@Length(1, 80)` would accept it.
 */
import { ValidateBy, type ValidationOptions } from 'class-validator';

/** A string of `min`..`max` UTF-8 bytes. */
export function ByteLength(min: number, max: number, options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'byteLength',
      constraints: [min, max],
      validator: {
        validate: (value: unknown) => {
          if (typeof value !== 'string') return false;
          const n = Buffer.byteLength(value, 'utf8');
          return n >= min && n <= max;
        },
        defaultMessage: (args) => {
          const value: unknown = args?.value;
          const got = typeof value === 'string' ? `${Buffer.byteLength(value, 'utf8')} bytes` : typeof value;
          return `${args?.property ?? 'value'} must be a string of ${min === max ? max : `${min}–${max}`} UTF-8 bytes (a Chinese character takes 3), got ${got}`;
        },
      },
    },
    options,
  );
}
