import { type BillAmount } from './dto/bill-amount.dto';

/** Scale of the ordinary yuan amount columns (fen). */
export const YUAN_DECIMALS = 2;
/** Scale of the fee columns 手续费 / 手续费总金额 (1/100000 yuan). */
export const FEE_DECIMALS = 5;

const POW10 = [1, 10, 100, 1000, 10000, 100000, 1000000];

/**
 * Parses a yuan amount such as `100.00`, `-0.18000`, `7` or `3.5` into an exact integer of `10^-decimals` yuan.
 * Returns undefined when the text is not `-?digits(.digits)?` with at most `decimals` fraction digits, or when
 * the result is not a safe integer; `describeBillAmountProblem` says why.
 */
export function parseBillAmount(text: string, decimals: number): BillAmount | undefined {
  const len = text.length;
  let i = 0;
  let negative = false;
  if (len > 0 && text.charCodeAt(0) === 45 /* - */) {
    negative = true;
    i = 1;
  }
  const intStart = i;
  let units = 0;
  for (; i < len; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) break;
    units = units * 10 + d;
  }
  if (i === intStart) return undefined;
  let fraction = 0;
  if (i < len) {
    if (text.charCodeAt(i) !== 46 /* . */) return undefined;
    const fracStart = ++i;
    for (; i < len; i++) {
      const d = text.charCodeAt(i) - 48;
      if (d < 0 || d > 9) return undefined;
      units = units * 10 + d;
    }
    fraction = i - fracStart;
    if (fraction === 0 || fraction > decimals) return undefined;
  }
  if (fraction < decimals) units *= POW10[decimals - fraction];
  if (units > Number.MAX_SAFE_INTEGER) return undefined;
  // `0 - 0` is +0, so `-0.00` gives 0, not -0.
  return { text, value: negative ? 0 - units : units, decimals };
}

/** Explains why `parseBillAmount(text, decimals)` returned undefined (used for error messages only). */
export function describeBillAmountProblem(text: string, decimals: number): string {
  const shown = JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}...` : text);
  if (text === '') return `empty amount (expected yuan with up to ${decimals} decimals)`;
  const m = /^-?(\d+)(?:\.(\d*))?$/.exec(text);
  if (!m) return `invalid amount ${shown} (expected yuan such as ${decimals === 5 ? '0.60000' : '100.00'})`;
  if (m[2] !== undefined && m[2].length === 0)
    return `invalid amount ${shown} (no digits after the decimal point)`;
  if (m[2] !== undefined && m[2].length > decimals) {
    return `invalid amount ${shown} (more than ${decimals} decimals: it cannot be represented exactly)`;
  }
  return `amount ${shown} is out of range (more than 2^53-1 units of 10^-${decimals} yuan)`;
}

/** Parses a non-negative integer count (总交易单数 etc.); undefined if not plain decimal digits or unsafe. */
export function parseBillCount(text: string): number | undefined {
  const len = text.length;
  if (len === 0 || len > 15) return undefined;
  let n = 0;
  for (let i = 0; i < len; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return undefined;
    n = n * 10 + d;
  }
  return n;
}

/**
 * Formats an integer amount of `10^-decimals` yuan as bill text: `formatBillAmount(-18000, 5)` is `-0.18000`,
 * `formatBillAmount(10000, 2)` is `100.00`. Throws a RangeError unless `value` is a safe integer.
 */
export function formatBillAmount(value: number, decimals: number): string {
  if (!Number.isSafeInteger(value)) throw new RangeError(`bill amount must be a safe integer, got ${value}`);
  const negative = value < 0;
  if (decimals === 0) return String(value);
  const digits = String(negative ? -value : value).padStart(decimals + 1, '0');
  const cut = digits.length - decimals;
  return (negative ? '-' : '') + digits.slice(0, cut) + '.' + digits.slice(cut);
}
