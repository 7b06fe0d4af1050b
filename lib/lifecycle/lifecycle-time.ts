/** Beijing (UTC+8, no daylight saving) wall-clock helpers of the lifecycle schedules. */
const BEIJING_OFFSET_MS = 8 * 3600_000;
const DAY_MS = 86_400_000;

/** The next instant (ms, strictly after `now`) at which Beijing clocks show `hour:minute`. */
export function nextBeijingTime(now: number, hour: number, minute: number): number {
  const local = now + BEIJING_OFFSET_MS;
  const dayStart = local - (((local % DAY_MS) + DAY_MS) % DAY_MS);
  let at = dayStart + (hour * 60 + minute) * 60_000;
  if (at <= local) at += DAY_MS;
  return at - BEIJING_OFFSET_MS;
}

/** `HH:mm` parsed, or undefined when it is not a valid time of day. */
export function parseTimeOfDay(text: string): { hour: number; minute: number } | undefined {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(text);
  return m ? { hour: Number(m[1]), minute: Number(m[2]) } : undefined;
}
