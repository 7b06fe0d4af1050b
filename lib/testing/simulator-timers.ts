/** Sleeps that `cancelAll()` ends early, so that closing the simulator never leaves timers behind. */
export class CancellableTimers {
  private readonly timers = new Map<NodeJS.Timeout, () => void>();

  /** Resolves after `ms`, or as soon as `cancelAll()` is called. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.set(timer, resolve);
    });
  }

  /** Clears every pending sleep and resolves it. */
  cancelAll(): void {
    for (const [timer, wake] of this.timers) {
      clearTimeout(timer);
      wake();
    }
    this.timers.clear();
  }
}
