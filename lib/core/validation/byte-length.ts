import { buildMessage, ValidateBy, type ValidationOptions } from 'class-validator';

/** The UTF-8 length of a string: what WeChat Pay counts (its errors say 字节数), not JavaScript characters. */
export function utf8Length(value: string): number {
  return Buffer.byteLength(value, 'utf8');
}

/**
 * A string of `min`..`max` UTF-8 bytes, as WeChat Pay counts `string(n)` fields: `中` takes 3 bytes, so a 127-byte
 * `description` holds 42 Chinese characters.
 */
export function ByteLength(min: number, max: number, options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'byteLength',
      constraints: [min, max],
      validator: {
        validate: (value: unknown): boolean => typeof value === 'string' && utf8Length(value) >= min && utf8Length(value) <= max,
        defaultMessage: buildMessage(
          (each) =>
            `$property must be ${each}${min === max ? max : `${min}–${max}`} UTF-8 bytes (a Chinese character takes 3 bytes)`,
          options,
        ),
      },
    },
    options,
  );
}
