/** Counters of one instance's lifecycle work, e.g. for Prometheus: add them up over instances. */
export interface WechatPayLifecycleCounters {
  /** Watches requested by this instance (`watchOrder()`, `watch.auto`); asking again for a watched order counts again. */
  watched: number;
  /** Watch steps this instance ran (failed ones included; a step taken over from a dead instance counts again). */
  steps: number;
  /** Order queries made by the watch steps this instance ran. */
  queries: number;
  /** Paid orders whose handler ran from a query (the notification had not been handled). */
  rescuedByQuery: number;
  /** Paid orders whose handler ran from the notification route (`handleNotification()`). */
  handledByNotification: number;
  /** Unpaid orders closed by the watch at or after their time_expire. */
  closedAtExpiry: number;
  /** Watch steps that failed and were retried (network, 5xx, a handler that threw). */
  retries: number;
  /** Daily (or manual) reconciliations completed. */
  reconciliations: number;
  /** Differences found by those reconciliations, all kinds together. */
  reconciliationDifferences: number;
}

/** The lifecycle counters of this instance (injectable); `snapshot()` returns a copy to export. */
export class WechatPayLifecycleMetrics {
  private readonly counters: WechatPayLifecycleCounters = {
    watched: 0,
    steps: 0,
    queries: 0,
    rescuedByQuery: 0,
    handledByNotification: 0,
    closedAtExpiry: 0,
    retries: 0,
    reconciliations: 0,
    reconciliationDifferences: 0,
  };

  /** Adds `by` (default 1) to a counter. */
  increment(name: keyof WechatPayLifecycleCounters, by = 1): void {
    this.counters[name] += by;
  }

  /** A copy of the counters now. */
  snapshot(): WechatPayLifecycleCounters {
    return { ...this.counters };
  }
}
