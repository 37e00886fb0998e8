import { QueueClosedError } from "./statement-guard.js";

/** What a retried write needs from its worker. */
export interface RetryPolicy {
  readonly emitError: (error: unknown, during: string) => void;
}

/** A write is retried for at least this long, even when its lease is (as far as the worker knows) nearly over. */
export const MIN_RETRY_MS = 3000;
/**
 * Attempts a completion gets even past its deadline: a statement that hung on a
 * cut connection may fail only after the lease ended, and its retry then tells
 * the worker whether its result counted (it is fenced off, and reported lost).
 */
export const MIN_ATTEMPTS = 6;
const FIRST_WAIT_MS = 50;
const MAX_WAIT_MS = 1000;

/**
 * Runs a write of finished work (a completion, a hand-back) and retries it with
 * back-off (50 ms doubling to 1 s) until it succeeds or `deadline`
 * (performance.now() ms) passes — the job's lease end: after it the job may
 * be running elsewhere, and the write would be fenced off anyway. A short
 * outage therefore costs seconds, not a lease and a re-run. Stops at once when
 * the queue has closed. `retried` tells the caller that an earlier attempt may
 * have committed with its reply lost. `minAttempts` are made even past the
 * deadline (1 where the deadline is a hard one, as in `stop()`).
 */
export async function retryWrite<T>(
  policy: RetryPolicy,
  what: string,
  deadline: number,
  fn: () => Promise<T>,
  minAttempts = 1,
): Promise<{ value: T; retried: boolean }> {
  let wait = FIRST_WAIT_MS;
  for (let attempt = 1; ; attempt++) {
    try {
      return { value: await fn(), retried: attempt > 1 };
    } catch (error) {
      const late = performance.now() + wait > deadline;
      if (error instanceof QueueClosedError || (late && attempt >= minAttempts)) throw error;
      policy.emitError(error, what);
      await new Promise((r) => setTimeout(r, wait));
      wait = Math.min(wait * 2, MAX_WAIT_MS);
    }
  }
}
