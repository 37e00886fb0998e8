import type { Backoff } from "./job.js";

/** Returns the delay in ms before `attempt` (2 = the first retry), given the failure. */
export type BackoffFn = (attempt: number, error: unknown) => number;

/**
 * Builds the backoff of a job type. `random` is injected (default
 * Math.random) so tests of jitter are deterministic.
 *
 * - fixed: always `waitMs` (the seed's behaviour).
 * - exponential: `waitMs × 2^(attempt−2)`, capped at `maxMs`; with jitter
 *   ("full jitter"), a uniform draw in [0, that], so many failing jobs do not
 *   retry in lockstep.
 * - a function: called as is; a result that is not a finite number ≥ 0 falls back to `waitMs`.
 */
export function makeBackoff(
  backoff: Backoff | undefined,
  waitMs: number,
  maxMs: number,
  random: () => number,
): BackoffFn {
  if (backoff === undefined || (typeof backoff === "object" && backoff.type === "fixed"))
    return () => waitMs;
  if (typeof backoff === "function") {
    return (attempt, error) => {
      const ms = backoff(attempt, error);
      return typeof ms === "number" && Number.isFinite(ms) && ms >= 0 ? Math.round(ms) : waitMs;
    };
  }
  const jitter = backoff.jitter ?? true;
  return (attempt) => {
    const exponent = Math.max(0, attempt - 2);
    const ceiling = Math.min(maxMs, waitMs * 2 ** Math.min(exponent, 52));
    return Math.round(jitter ? random() * ceiling : ceiling);
  };
}
