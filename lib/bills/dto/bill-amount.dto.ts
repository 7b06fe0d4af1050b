/**
 * An exact money value read from a bill. Bills state amounts in yuan as decimal text; `value` is the same amount
 * as an integer count of the smallest unit of its column (`10^-decimals` yuan): fen for 2-decimal columns,
 * 1/100000 yuan for the 5-decimal fee columns. Never a float.
 *
 * `value` is a JavaScript number that is always a safe integer (|value| <= 2^53 - 1): that covers
 * +-90,071,992,547 yuan at 5 decimals and +-90,071,992,547,409 yuan at 2 decimals. Larger amounts are a parse error.
 */
export interface BillAmount {
  /** The amount exactly as written in the file (backtick and escapes removed), e.g. `-0.18000`. */
  readonly text: string;
  /** Signed integer in units of `10^-decimals` yuan, e.g. `-18000` for `-0.18000` at 5 decimals. */
  readonly value: number;
  /** The column's scale: 2 (fen) for most amounts, 5 for fees (手续费, 手续费总金额). */
  readonly decimals: number;
}
