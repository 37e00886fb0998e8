/**
 * This process's job counters and duration histogram, kept in memory for
 * {@link prometheusMetrics} (no OpenTelemetry needed): a map update per
 * finished run.
 */

/** Upper bounds (seconds) of the processing-duration histogram's buckets. */
export const DURATION_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300,
] as const;

/** One job type's duration histogram: cumulative-ready bucket counts, sum and count. */
export interface DurationHistogram {
  /** Runs whose duration was at most `DURATION_BUCKETS[i]` and above the bucket before (not cumulative). */
  readonly buckets: number[];
  sum: number;
  count: number;
}

/** The value of `key` in `map`, made by `make` and stored first when missing. */
export function getOrSet<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = make();
    map.set(key, value);
  }
  return value;
}

/** Counters and histograms of the runs of one queue in this process. */
export class LocalMetrics {
  /** Runs by job type, then by outcome name. */
  readonly processed = new Map<number, Map<string, number>>();
  /** Processing durations by job type. */
  readonly durations = new Map<number, DurationHistogram>();

  /** Counts one finished run of `jobType` that ended in `outcome` after `seconds`. */
  record(jobType: number, outcome: string, seconds: number): void {
    const byOutcome = getOrSet(this.processed, jobType, () => new Map());
    byOutcome.set(outcome, (byOutcome.get(outcome) ?? 0) + 1);
    const h = getOrSet(this.durations, jobType, () => ({
      buckets: DURATION_BUCKETS.map(() => 0),
      sum: 0,
      count: 0,
    }));
    const at = DURATION_BUCKETS.findIndex((le) => seconds <= le);
    if (at >= 0) h.buckets[at]!++;
    h.sum += seconds;
    h.count++;
  }
}
