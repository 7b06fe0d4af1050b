import { Readable } from 'node:stream';
import { capErrorDetail, capText, errorFieldsOf, MAX_ERROR_TEXT, readCapped, retryAfterMs } from './bounded-io';

describe('retryAfterMs', () => {
  const now = Date.parse('2024-05-20T10:00:00Z');
  it('reads delta-seconds and HTTP-dates', () => {
    expect(retryAfterMs('3600', now)).toBe(3_600_000);
    expect(retryAfterMs(' 0 ', now)).toBe(0);
    expect(retryAfterMs('Mon, 20 May 2024 10:00:30 GMT', now)).toBe(30_000);
    expect(retryAfterMs('Mon, 20 May 2024 09:00:00 GMT', now)).toBe(0);
  });
  it('ignores what is neither', () => {
    expect(retryAfterMs(undefined, now)).toBeUndefined();
    expect(retryAfterMs('-5', now)).toBeUndefined();
    expect(retryAfterMs('1.5', now)).toBeUndefined();
    expect(retryAfterMs('soon', now)).toBeUndefined();
    expect(retryAfterMs('99999999999', now)).toBeUndefined();
  });
});

describe('readCapped', () => {
  const chunks = () => Readable.from([Buffer.alloc(10, 1), Buffer.alloc(10, 2), Buffer.alloc(10, 3)]);
  it('returns the body within the limit', async () => {
    expect((await readCapped(chunks(), 30, true))?.length).toBe(30);
  });
  it('stops at the limit: undefined when strict, the first bytes otherwise', async () => {
    const strict = chunks();
    expect(await readCapped(strict, 15, true)).toBeUndefined();
    expect(strict.destroyed).toBe(true);
    expect(await readCapped(chunks(), 15, false)).toEqual(Buffer.concat([Buffer.alloc(10, 1), Buffer.alloc(5, 2)]));
  });
});

describe('error text caps', () => {
  it('caps texts and detail values', () => {
    expect(capText('x'.repeat(10_000))).toHaveLength(MAX_ERROR_TEXT);
    const detail = capErrorDetail({ field: 'f'.repeat(5000), location: 'body', n: 1, deep: { a: 'y'.repeat(5000) }, ok: { a: 1 } });
    expect((detail.field as string).length).toBe(MAX_ERROR_TEXT);
    expect(detail).toMatchObject({ location: 'body', n: 1, ok: { a: 1 } });
    expect(typeof detail.deep).toBe('string');
    expect(Object.keys(capErrorDetail(Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${i}`, i]))))).toHaveLength(16);
  });
  it('finds code and message in a cut error answer', () => {
    expect(errorFieldsOf('{"code":"PARAM_ERROR","message":"bad \\"x\\" ' + 'z'.repeat(5000))).toEqual({
      code: 'PARAM_ERROR',
      message: expect.stringMatching(/^bad "x" z+…$/),
    });
  });
});
