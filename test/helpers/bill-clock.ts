/**
 * One movable clock for a bill suite's simulator and module (request timestamps must agree with the simulator's),
 * starting today at 12:00 Beijing time, so that yesterday's bill exists whatever the real time of the run.
 */
import { beijingDate } from '../../lib/core/time';

export const DAY = 86_400_000;

export interface BillClock {
  /** Today 12:00 Beijing time (ms). */
  readonly noon: number;
  /** Yesterday's Beijing date, `YYYY-MM-DD`. */
  readonly yesterday: string;
  /** Milliseconds since the epoch, as the simulator and the module see them. */
  now(): number;
  /** Moves the clock to `ms`; it keeps running from there. */
  setNow(ms: number): void;
}

export function billClock(): BillClock {
  const noon = Date.parse(`${beijingDate(new Date())}T12:00:00+08:00`);
  let offset = noon - Date.now();
  return {
    noon,
    yesterday: beijingDate(new Date(noon - DAY)),
    now: () => Date.now() + offset,
    setNow: (ms) => void (offset = ms - Date.now()),
  };
}
