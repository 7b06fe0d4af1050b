import { nextBeijingTime, parseTimeOfDay } from './lifecycle-time';

describe('Beijing schedule times', () => {
  it('the next HH:mm in Beijing is later today, or tomorrow once passed, whatever the UTC date', () => {
    // 2026-12-01 09:00 Beijing = 01:00 UTC
    const at0900 = Date.parse('2026-12-01T09:00:00+08:00');
    expect(new Date(nextBeijingTime(at0900, 10, 30)).toISOString()).toBe('2026-12-01T02:30:00.000Z');
    // 23:00 Beijing is still the 1st there, but 15:00 UTC: the next 10:30 is the 2nd
    expect(new Date(nextBeijingTime(Date.parse('2026-12-01T23:00:00+08:00'), 10, 30)).toISOString()).toBe('2026-12-02T02:30:00.000Z');
    // exactly at the time: strictly after, i.e. tomorrow
    expect(nextBeijingTime(Date.parse('2026-12-01T10:30:00+08:00'), 10, 30)).toBe(Date.parse('2026-12-02T10:30:00+08:00'));
    // 00:30 Beijing is the previous UTC day
    expect(nextBeijingTime(Date.parse('2026-11-30T16:00:00Z'), 0, 30)).toBe(Date.parse('2026-12-01T00:30:00+08:00'));
  });

  it('parses HH:mm and rejects anything else', () => {
    expect(parseTimeOfDay('10:30')).toEqual({ hour: 10, minute: 30 });
    expect(parseTimeOfDay('00:00')).toEqual({ hour: 0, minute: 0 });
    for (const bad of ['24:00', '9:30', '10:60', '10-30', '']) expect(parseTimeOfDay(bad)).toBeUndefined();
  });
});
