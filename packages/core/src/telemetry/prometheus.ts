import type { DB } from "../db.js";
import type { TableNames } from "../dialects/dialect.js";
import { querySql, resolveDialect } from "../dialects/index.js";
import { readPausedTypes } from "../flow-control.js";
import { JOB_STATUS_ORDER } from "../job-status.js";
import { resolveTableNames } from "../schema/tables.js";
import { assertSchemaCurrent } from "../schema/version.js";
import { oldestDueByType } from "../statements/stats.js";
import { checkFinishedMaxAge, readJobCounts } from "../stats.js";
import { DURATION_BUCKETS, getOrSet, type LocalMetrics } from "./local-metrics.js";
import { metricStatusName } from "./status-names.js";

/** The Content-Type of {@link prometheusMetrics}' text: Prometheus' text exposition format 0.0.4. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Options of {@link prometheusMetrics}. */
export interface PrometheusOptions {
  /** Table names, as the queue's `tables` option; default the seed's `async_job_tab`. */
  readonly tables?: Partial<TableNames> | undefined;
  /**
   * Queues of this process whose runs to count too: `persistent_queue_jobs_processed_total`,
   * `persistent_queue_jobs_failed_total` and the `persistent_queue_job_duration_seconds`
   * histogram, summed over them. Left out: only the table's gauges.
   */
  readonly queues?: readonly QueueWithMetrics[] | undefined;
  /**
   * How old the counts of finished jobs may be, in ms: as `countJobs`' option of the
   * same name (read at most once per interval and reused; the backlog is read on every
   * call). Default 0: every count read on each scrape.
   */
  readonly finishedMaxAgeMs?: number | undefined;
}

/** A queue, as {@link PrometheusOptions.queues} takes it: any `PersistentQueue`. */
export interface QueueWithMetrics {
  prometheusMetrics(): Promise<string>;
}

/** Each queue's in-memory counters, registered by the queue itself. */
const localMetrics = new WeakMap<object, LocalMetrics>();

/** Makes `queue`'s counters reachable through `prometheusMetrics({ queues: [queue] })`. */
export function registerLocalMetrics(queue: object, metrics: LocalMetrics): void {
  localMetrics.set(queue, metrics);
}

/** Every status a job type's `persistent_queue_jobs` series are written for (0 when none). */
const KNOWN_STATUSES = JOB_STATUS_ORDER;

/**
 * The queue's metrics as Prometheus text (exposition format 0.0.4; serve it with
 * {@link PROMETHEUS_CONTENT_TYPE}), read from the job table on each call:
 *
 * - `persistent_queue_jobs{job_type,status}` (gauge): jobs by type and status
 *   (`init`, `running`, `retry`, `continue`, `success`, `failed`, `cancelled`;
 *   every status of a type that has jobs, 0 included);
 * - `persistent_queue_oldest_waiting_seconds{job_type}` (gauge): how long the
 *   oldest due, unstarted job of the type has been due (0: none);
 * - `persistent_queue_job_types_paused{job_type}` (gauge): 1 while paused;
 *
 * and, for `queues` of this process, their runs (see {@link PrometheusOptions.queues}).
 * No dependency on OpenTelemetry. It counts every job of the table (from the
 * claim index), so let Prometheus scrape it every 15 s or more on a large table,
 * or let the finished jobs' counts be reused (`finishedMaxAgeMs`).
 * Throws `SchemaVersionError` when the tables were not migrated; database errors
 * pass through.
 */
export async function prometheusMetrics(db: DB, options: PrometheusOptions = {}): Promise<string> {
  const tables = resolveTableNames(options.tables);
  const maxAge = checkFinishedMaxAge(options.finishedMaxAgeMs);
  const dialect = await resolveDialect(db);
  await assertSchemaCurrent(db, dialect, tables);
  // The schema is checked above: the counts' own reads only.
  const counts = await readJobCounts(db, dialect, tables.jobs, maxAge);
  const oldest = await querySql(db, dialect, oldestDueByType(dialect, tables.jobs));
  const paused = new Set(
    await readPausedTypes(db, dialect, {
      scope: tables.jobs,
      types: tables.jobTypes,
      groups: tables.jobGroups,
      starts: tables.jobStarts,
    }),
  );

  const byType = new Map<number, Map<number, number>>();
  for (const row of counts) {
    const statuses = getOrSet(byType, row.jobType, () => new Map());
    statuses.set(row.status, row.count);
  }
  for (const type of paused) if (!byType.has(type)) byType.set(type, new Map());
  const types = [...byType.keys()].sort((a, b) => a - b);

  const out: string[] = [];
  header(out, "persistent_queue_jobs", "gauge", "Jobs in the job table by job type and status.");
  for (const type of types) {
    const statuses = byType.get(type)!;
    const codes = [...new Set<number>([...KNOWN_STATUSES, ...statuses.keys()])];
    for (const code of codes)
      sample(
        out,
        "persistent_queue_jobs",
        { job_type: type, status: metricStatusName(code) },
        statuses.get(code) ?? 0,
      );
  }

  const waited = new Map<number, number>();
  for (const row of oldest)
    waited.set(Number(row.job_type), Math.max(0, (Number(row.now_ms) - Number(row.due_ms)) / 1000));
  header(
    out,
    "persistent_queue_oldest_waiting_seconds",
    "gauge",
    "How long the oldest due job of the type that has not started has been due (0: none).",
  );
  for (const type of types)
    sample(
      out,
      "persistent_queue_oldest_waiting_seconds",
      { job_type: type },
      waited.get(type) ?? 0,
    );

  header(out, "persistent_queue_job_types_paused", "gauge", "1 while the job type is paused.");
  for (const type of types)
    sample(out, "persistent_queue_job_types_paused", { job_type: type }, paused.has(type) ? 1 : 0);

  const locals = (options.queues ?? []).flatMap((q) => localMetrics.get(q) ?? []);
  if (locals.length > 0) writeLocal(out, locals);
  return `${out.join("\n")}\n`;
}

/** This process's counters and histograms, summed over `locals`. */
function writeLocal(out: string[], locals: readonly LocalMetrics[]): void {
  const processed = new Map<number, Map<string, number>>();
  const durations = new Map<number, { buckets: number[]; sum: number; count: number }>();
  for (const local of locals) {
    for (const [type, byOutcome] of local.processed) {
      const into = getOrSet(processed, type, () => new Map());
      for (const [outcome, n] of byOutcome) into.set(outcome, (into.get(outcome) ?? 0) + n);
    }
    for (const [type, h] of local.durations) {
      const into = getOrSet(durations, type, () => ({
        buckets: h.buckets.map(() => 0),
        sum: 0,
        count: 0,
      }));
      h.buckets.forEach((n, i) => {
        into.buckets[i]! += n;
      });
      into.sum += h.sum;
      into.count += h.count;
    }
  }
  const types = [...processed.keys()].sort((a, b) => a - b);
  header(
    out,
    "persistent_queue_jobs_processed_total",
    "counter",
    "Handler runs finished in this process, by job type and the handler's outcome.",
  );
  for (const type of types)
    for (const [outcome, n] of [...processed.get(type)!].sort())
      sample(out, "persistent_queue_jobs_processed_total", { job_type: type, outcome }, n);
  header(
    out,
    "persistent_queue_jobs_failed_total",
    "counter",
    "Handler runs in this process that ended in an error (outcome failed or retry).",
  );
  for (const type of types) {
    const byOutcome = processed.get(type)!;
    for (const outcome of ["failed", "retry"])
      sample(
        out,
        "persistent_queue_jobs_failed_total",
        { job_type: type, outcome },
        byOutcome.get(outcome) ?? 0,
      );
  }
  header(
    out,
    "persistent_queue_job_duration_seconds",
    "histogram",
    "Time a handler run took in this process, by job type.",
  );
  for (const type of types) {
    const h = durations.get(type);
    if (!h) continue;
    let cumulative = 0;
    DURATION_BUCKETS.forEach((le, i) => {
      cumulative += h.buckets[i]!;
      sample(
        out,
        "persistent_queue_job_duration_seconds_bucket",
        { job_type: type, le: String(le) },
        cumulative,
      );
    });
    sample(
      out,
      "persistent_queue_job_duration_seconds_bucket",
      { job_type: type, le: "+Inf" },
      h.count,
    );
    sample(out, "persistent_queue_job_duration_seconds_sum", { job_type: type }, h.sum);
    sample(out, "persistent_queue_job_duration_seconds_count", { job_type: type }, h.count);
  }
}

function header(out: string[], name: string, type: string, help: string): void {
  out.push(`# HELP ${name} ${help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}`);
  out.push(`# TYPE ${name} ${type}`);
}

function sample(
  out: string[],
  name: string,
  labels: Readonly<Record<string, string | number>>,
  value: number,
): void {
  const text = Object.entries(labels)
    .map(([k, v]) => `${k}="${escapeLabel(String(v))}"`)
    .join(",");
  out.push(`${name}{${text}} ${formatValue(value)}`);
}

/** A label value escaped as the format requires: backslash, double quote and line feed. */
export function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Number.POSITIVE_INFINITY) return "+Inf";
  if (value === Number.NEGATIVE_INFINITY) return "-Inf";
  return String(value);
}
