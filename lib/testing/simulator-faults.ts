/**
 * Injected faults for the next matching API requests: error answers, slow answers (client timeouts), connection
 * resets, invalid signatures and corrupted bodies. They let client tests exercise retries and "unknown outcome"
 * handling deterministically.
 */

/** One fault, consumed by the next `times` matching requests. */
export interface SimulatorFault {
  /** Path prefix (e.g. `/v3/pay/partner/transactions/native`) or a RegExp tested against the path without query. */
  path?: string | RegExp;
  /** HTTP method; any when absent. */
  method?: string;
  /** Answer with this status and a JSON error body instead of the real answer. */
  status?: number;
  /** Error code of that body; default from the status (500 SYSTEM_ERROR, 429 FREQUENCY_LIMITED, …). */
  code?: string;
  /** Error message of that body. */
  message?: string;
  /** Wait this many ms before answering (the request is still processed). */
  delayMs?: number;
  /** Destroy the connection without any answer. */
  resetConnection?: boolean;
  /** Answer normally but with a spoiled `Wechatpay-Signature`. */
  badSignature?: boolean;
  /** Flip one byte of the body after it was signed (a corrupted download, or a body altered in transit). */
  flipBillByte?: boolean;
  /** Process the request (state changes happen) before failing: the "request succeeded, answer lost" case. */
  afterProcessing?: boolean;
  /** How many matching requests the fault applies to. Default 1. */
  times?: number;
}

/** The queue of injected faults of one simulator. */
export class SimulatorFaults {
  private readonly queue: Array<SimulatorFault & { remaining: number }> = [];

  /** Queues a fault for the next matching request(s). */
  next(fault: SimulatorFault): void {
    this.queue.push({ ...fault, remaining: fault.times ?? 1 });
  }

  /** Removes every queued fault. */
  clear(): void {
    this.queue.length = 0;
  }

  /** Faults not consumed yet. */
  get pending(): number {
    return this.queue.length;
  }

  /** Takes the first fault matching a request, consuming one use of it. */
  take(method: string, pathname: string): SimulatorFault | undefined {
    const index = this.queue.findIndex((f) => matches(f, method, pathname));
    if (index < 0) return undefined;
    const fault = this.queue[index];
    if (--fault.remaining <= 0) this.queue.splice(index, 1);
    return fault;
  }
}

function matches(fault: SimulatorFault, method: string, pathname: string): boolean {
  if (fault.method && fault.method.toUpperCase() !== method.toUpperCase()) return false;
  if (fault.path === undefined) return true;
  if (typeof fault.path === 'string') return pathname.startsWith(fault.path);
  fault.path.lastIndex = 0; // a /g or /y RegExp keeps state between calls
  return fault.path.test(pathname);
}
