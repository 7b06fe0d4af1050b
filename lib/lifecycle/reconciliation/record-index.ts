/**
 * A compact index of one day's local records for the reconciliation: per record a 52-bit hash of its key, its
 * amount, a state code and a "seen in the bill" flag, in typed arrays (~21 bytes per record, no object per record),
 * so that a million local orders against a million bill rows stay in a few tens of MB.
 *
 * Two different keys with the same hash would be taken for one record: with n records the chance of any such pair
 * is about n² / 2^53 (1e-4 for a million), and it can only hide a difference, never invent one.
 */
import { createHash } from 'node:crypto';

/** 52 bits of SHA-1 over the key parts: exact in a float64. */
export function keyHash(a: string, b: string): number {
  const d = createHash('sha1').update(a).update('\0').update(b).digest();
  return (d.readUInt32BE(0) & 0xfffff) * 0x1_0000_0000 + d.readUInt32BE(4);
}

/** Builds the index record by record, then `seal()` sorts it for lookups. */
export class RecordIndex {
  private hashes = new Float64Array(1024);
  private amounts = new Float64Array(1024);
  private states = new Uint8Array(1024);
  private seen = new Uint8Array(0);
  private size = 0;
  private readonly stateNames: string[] = [];
  private readonly stateCodes = new Map<string, number>();

  /** Number of records added. */
  get length(): number {
    return this.size;
  }

  add(hash: number, amount: number, state: string): void {
    if (this.size === this.hashes.length) this.grow();
    let code = this.stateCodes.get(state);
    if (code === undefined) {
      // A state vocabulary is a handful of words; more than 255 would be a bug in the source.
      code = Math.min(this.stateNames.length, 255);
      this.stateCodes.set(state, code);
      this.stateNames.push(state);
    }
    this.hashes[this.size] = hash;
    this.amounts[this.size] = amount;
    this.states[this.size] = code;
    this.size++;
  }

  /** Sorts by hash; call once, after the last `add()`. */
  seal(): void {
    const order = new Uint32Array(this.size).map((_, i) => i);
    const h = this.hashes;
    order.sort((x, y) => h[x] - h[y]);
    this.hashes = Float64Array.from(order, (i) => h[i]);
    const a = this.amounts;
    this.amounts = Float64Array.from(order, (i) => a[i]);
    const s = this.states;
    this.states = Uint8Array.from(order, (i) => s[i]);
    this.seen = new Uint8Array(this.size);
  }

  /** Position of a hash, or -1. */
  find(hash: number): number {
    let lo = 0;
    let hi = this.size - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = this.hashes[mid];
      if (v === hash) return mid;
      if (v < hash) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  amount(at: number): number {
    return this.amounts[at];
  }

  state(at: number): string {
    return this.stateNames[this.states[at]];
  }

  markSeen(at: number): void {
    this.seen[at] = 1;
  }

  wasSeen(at: number): boolean {
    return this.seen[at] === 1;
  }

  private grow(): void {
    const n = this.hashes.length * 2;
    const h = new Float64Array(n);
    h.set(this.hashes);
    this.hashes = h;
    const a = new Float64Array(n);
    a.set(this.amounts);
    this.amounts = a;
    const s = new Uint8Array(n);
    s.set(this.states);
    this.states = s;
  }
}
