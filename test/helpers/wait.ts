/** Waiting helpers of the e2e suites: deadlines for waiting, never timing assertions. */

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Waits until `done()` holds, checking every 20 ms, or fails after `ms` naming `what`. With `ignoreErrors` a
 * rejected check counts as "not yet" (a check that talks to a Redis being restarted).
 */
export async function until(what: string, done: () => Promise<boolean> | boolean, ms = 30_000, ignoreErrors = false): Promise<void> {
  const end = Date.now() + ms;
  const check = async (): Promise<boolean> => (ignoreErrors ? Promise.resolve().then(done).catch(() => false) : done());
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`still waiting for ${what} after ${ms} ms`);
    await sleep(20);
  }
}
