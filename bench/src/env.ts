/** Sizes (from the environment, so a quick run is possible) and small statistics helpers. */

function int(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`${name} must be a positive integer, got ${raw}`);
  return n;
}

/** Defaults are issue 5's sizes; PQ_BENCH_JOBS=2000 PQ_BENCH_REPS=1 is the quick run. */
export const config = {
  jobs: int("PQ_BENCH_JOBS", 20_000),
  reps: int("PQ_BENCH_REPS", 3),
  samples: int("PQ_BENCH_SAMPLES", 200),
  delayed: int("PQ_BENCH_DELAYED", 100),
  concurrency: int("PQ_BENCH_CONCURRENCY", 16),
  inFlight: 16,
  batch: 1000,
  /** Finished rows already in the table for scenario E (comma-separated). */
  history: (process.env.PQ_BENCH_HISTORY ?? "10000,100000,1000000").split(",").map(Number),
  /** Jobs drained on top of each history size in scenario E. */
  historyJobs: int("PQ_BENCH_HISTORY_JOBS", 10_000),
  /** Not-yet-due rows of the drained job type already in the table for scenario F. */
  backlog: int("PQ_BENCH_BACKLOG", 100_000),
  /** Due jobs drained with that backlog (and without it) in scenario F. */
  backlogJobs: int("PQ_BENCH_BACKLOG_JOBS", 10_000),
  /** Comma-separated system ids to run (default all); for development. */
  only: process.env.PQ_BENCH_ONLY?.split(",").filter(Boolean),
  /** Scenarios to run, e.g. "A,B,C" (default all). */
  scenarios: (process.env.PQ_BENCH_SCENARIOS ?? "A,B,C,D,E,F,G").split(","),
  /**
   * Where benchmarks.{json,md,svg} go (default docs/): a partial run for development
   * (PQ_BENCH_ONLY, PQ_BENCH_SCENARIOS) should not overwrite the published report.
   */
  out: process.env.PQ_BENCH_OUT,
  /** Print each of our drains' most time-consuming statements (scenarios B and G). */
  profile: process.env.PQ_BENCH_PROFILE === "1",
};

export interface Summary {
  min: number;
  median: number;
  max: number;
  runs: number[];
}

export function summarize(runs: number[]): Summary {
  const s = [...runs].sort((a, b) => a - b);
  return { min: s[0] ?? Number.NaN, median: percentile(s, 50), max: s.at(-1) ?? Number.NaN, runs };
}

/** The p-th percentile (nearest rank) of ascending `sorted`. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))] as number;
}

export function latencySummary(values: number[]) {
  const s = [...values].sort((a, b) => a - b);
  return {
    n: s.length,
    p50: percentile(s, 50),
    p95: percentile(s, 95),
    p99: percentile(s, 99),
    max: s.at(-1) ?? Number.NaN,
  };
}
export type Latency = ReturnType<typeof latencySummary>;

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Resolves when `done()` returns true (checked every `everyMs`), or rejects after `timeoutMs`. */
export async function waitFor(
  done: () => boolean,
  timeoutMs: number,
  what: string,
  everyMs = 2,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** Counts handled jobs; `until(n)` resolves the moment the count reaches n (no polling, so no timer skew). */
export class Counter {
  count = 0;
  #target = Number.POSITIVE_INFINITY;
  #resolve: (() => void) | undefined;
  add(k = 1): void {
    this.count += k;
    if (this.count >= this.#target) this.#resolve?.();
  }
  until(n: number, timeoutMs: number, what: string): Promise<void> {
    if (this.count >= n) return Promise.resolve();
    this.#target = n;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`timed out after ${timeoutMs} ms: ${what} (${this.count}/${n})`)),
        timeoutMs,
      );
      this.#resolve = () => {
        clearTimeout(timer);
        this.#resolve = undefined;
        this.#target = Number.POSITIVE_INFINITY;
        resolve();
      };
    });
  }
}
