const BEIJING_OFFSET_MS = 8 * 3600_000;

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

/** RFC 3339 in Beijing time, as WeChat Pay writes it: `2018-06-08T10:34:56+08:00`. */
export function formatBeijingRfc3339(date: Date): string {
  const d = new Date(date.getTime() + BEIJING_OFFSET_MS);
  return (
    `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}+08:00`
  );
}

/** The Beijing calendar day of an instant, `YYYY-MM-DD`. */
export function beijingDate(date: Date): string {
  const d = new Date(date.getTime() + BEIJING_OFFSET_MS);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
}

/** RFC 3339 date-time with a mandatory offset (`Z` or `±hh:mm`). */
export const RFC3339_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** Parses an RFC 3339 date-time with offset; undefined when malformed. */
export function parseRfc3339(value: string): Date | undefined {
  if (!RFC3339_PATTERN.test(value)) return undefined;
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : new Date(t);
}
