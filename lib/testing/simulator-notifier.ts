/**
 * Delivery of notifications the way WeChat Pay does it: POST to notify_url, fresh signature per attempt,
 * success on any 2xx, otherwise retry on WeChat's schedule (scaled for tests), optional signature probes first.
 * Every attempt is recorded; a merchant that accepts a probe is recorded as a violation.
 */
import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { ClientRequest } from 'node:http';
import { WECHATPAY_HEADERS } from '../core/crypto/headers';
import { generateNonce } from '../core/crypto/nonce';
import { CancellableTimers } from './simulator-timers';
import { probeSignature, signMessageHeaders, type SimulatorSigningKey } from './simulator-signing';

/** WeChat Pay's retry delays after a failed delivery: 15s, 15s, 30s, 3m, 10m, 20m, 30m, 30m, 30m, 60m, 3h, 3h, 3h, 6h, 6h. */
export const WECHAT_NOTIFICATION_RETRY_DELAYS_MS: readonly number[] = [15, 15, 30, 180, 600, 1200, 1800, 1800, 1800, 3600, 10800, 10800, 10800, 21600, 21600].map(
  (s) => s * 1000,
);

/** One delivery attempt (or probe) of a notification. */
export interface NotificationDelivery {
  notificationId: string;
  url: string;
  /** 1 for the first delivery, 2 for the first retry, … A probe has the number of the attempt it precedes. */
  attempt: number;
  /** HTTP status of the reply; 0 when the connection failed or the reply took longer than the timeout. */
  status: number;
  /** Simulator clock (ms) when the attempt was sent. */
  at: number;
  /** Real milliseconds since the notification was scheduled. */
  elapsedMs: number;
  /** Hex SHA-256 of the body posted. */
  bodySha256: string;
  /** A `WECHATPAY/SIGNTEST/` probe with a deliberately invalid signature. */
  probe: boolean;
  eventType: string;
  /** Network error code, `TIMEOUT`, or `LOST` for a lost notification, when status is 0. */
  error?: string;
  /**
   * The notification was lost: WeChat Pay never sent it (`loseNotification` of a payment, or the
   * `notificationLossRate` option). Recorded once, as attempt 1 with status 0 and error `LOST`; nothing was posted
   * and nothing is retried.
   */
  lost?: boolean;
}

/** How notifications are delivered. */
export interface NotifierOptions {
  /** Multiplies WeChat's retry delays; 0 retries immediately. */
  timeScale: number;
  /** 'once' sends a single attempt and never retries. */
  mode: 'retry' | 'once';
  /** Probability (0..1) of a signature probe before each attempt. */
  probeRate: number;
  /** Probability (0..1) that a notification is lost as a whole: never posted, never retried. */
  lossRate: number;
  /** Real milliseconds a merchant has to reply (WeChat: 5 s). */
  replyTimeoutMs: number;
  /** The key that signs notifications (chosen when each attempt is sent, so rotations apply). */
  signingKey(): SimulatorSigningKey;
  clock(): number;
  userAgent: string;
  record(delivery: NotificationDelivery): void;
  violation(message: string): void;
  random?: () => number;
  /** Where an attempt actually goes for a notify_url (see `WechatPaySimulator.routeNotificationsTo()`). */
  target?: (notifyUrl: string) => string;
}

/** A notification to deliver. */
export interface NotificationJob {
  id: string;
  url: string;
  eventType: string;
  /** Exact body bytes, the same for every attempt (WeChat re-signs but may reuse the ciphertext). */
  body: string;
}

/** Schedules and sends notifications; `close()` cancels everything. */
export class SimulatorNotifier {
  private readonly running = new Set<Promise<void>>();
  private readonly timers = new CancellableTimers();
  private readonly inflight = new Set<ClientRequest>();
  private closed = false;

  constructor(private readonly options: NotifierOptions) {}

  /** Number of notifications not finished yet. */
  get pending(): number {
    return this.running.size;
  }

  /**
   * Starts delivering a notification in the background. `lose: true` loses it (WeChat Pay "does not guarantee that a
   * notification finally arrives"): one `lost` record, no request; `false` never loses it; by default it is lost
   * with the `lossRate` probability.
   */
  schedule(job: NotificationJob, lose?: boolean): void {
    if (this.closed) return;
    if (lose ?? (this.options.lossRate > 0 && (this.options.random ?? Math.random)() < this.options.lossRate)) {
      const sha = createHash('sha256').update(job.body).digest('hex');
      const o = this.options;
      o.record({ notificationId: job.id, url: job.url, attempt: 1, status: 0, at: o.clock(), elapsedMs: 0, bodySha256: sha, probe: false, eventType: job.eventType, error: 'LOST', lost: true });
      return;
    }
    const run = this.deliver(job).finally(() => this.running.delete(run));
    this.running.add(run);
  }

  /** Resolves when every scheduled notification finished (delivered, given up, or cancelled). */
  async flush(): Promise<void> {
    while (this.running.size) await Promise.all([...this.running]);
  }

  /** Cancels pending retries and aborts deliveries in flight. */
  close(): void {
    this.closed = true;
    this.timers.cancelAll();
    for (const req of this.inflight) req.destroy();
  }

  private async deliver(job: NotificationJob): Promise<void> {
    const o = this.options;
    const started = Date.now();
    const sha = createHash('sha256').update(job.body).digest('hex');
    const maxAttempts = o.mode === 'once' ? 1 : WECHAT_NOTIFICATION_RETRY_DELAYS_MS.length + 1;
    const random = o.random ?? Math.random;
    for (let attempt = 1; attempt <= maxAttempts && !this.closed; attempt++) {
      if (attempt > 1) await this.timers.sleep(WECHAT_NOTIFICATION_RETRY_DELAYS_MS[attempt - 2] * o.timeScale);
      if (this.closed) return;
      for (const probe of random() < o.probeRate ? [true, false] : [false]) {
        const at = o.clock();
        const { status, error } = await this.post(job, probe);
        if (this.closed) return;
        o.record({ notificationId: job.id, url: job.url, attempt, status, at, elapsedMs: Date.now() - started, bodySha256: sha, probe, eventType: job.eventType, ...(error ? { error } : {}) });
        const ok = status >= 200 && status < 300;
        if (probe && ok) {
          o.violation(
            `notify_url ${job.url} accepted a WECHATPAY/SIGNTEST/ signature probe with HTTP ${status} (notification ${job.id}): ` +
              'the handler does not verify Wechatpay-Signature and must answer 4xx/5xx',
          );
        }
        if (!probe && ok) return;
      }
    }
  }

  private headers(job: NotificationJob, probe: boolean): Record<string, string> {
    const o = this.options;
    const signed = signMessageHeaders(job.body, o.signingKey(), Math.floor(o.clock() / 1000), generateNonce(32));
    if (probe) signed[WECHATPAY_HEADERS.signature] = probeSignature();
    return { ...signed, 'Content-Type': 'application/json', 'User-Agent': o.userAgent, 'Content-Length': String(Buffer.byteLength(job.body)) };
  }

  private post(job: NotificationJob, probe: boolean): Promise<{ status: number; error?: string }> {
    return new Promise((resolve) => {
      let url: URL;
      try {
        url = new URL(this.options.target ? this.options.target(job.url) : job.url);
      } catch {
        return resolve({ status: 0, error: 'INVALID_URL' });
      }
      const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
      const req = send(url, { method: 'POST', headers: this.headers(job, probe), agent: false });
      this.inflight.add(req);
      let settled = false;
      const done = (result: { status: number; error?: string }): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.inflight.delete(req);
        resolve(result);
      };
      // A hard deadline for the whole reply, as WeChat counts a slow reply as a failure.
      const timer = setTimeout(() => {
        done({ status: 0, error: 'TIMEOUT' });
        req.destroy();
      }, this.options.replyTimeoutMs);
      req.on('response', (res) => {
        res.resume();
        res.on('end', () => done({ status: res.statusCode ?? 0 }));
        res.on('error', () => done({ status: res.statusCode ?? 0 }));
      });
      req.on('error', (err: NodeJS.ErrnoException) => done({ status: 0, error: err.code ?? 'NETWORK_ERROR' }));
      req.end(job.body);
    });
  }
}
