import type { DB } from "./db.js";
import type { Dialect, TableNames } from "./dialects/dialect.js";
import { querySql, resolveDialect } from "./dialects/index.js";
import type { JobStatus } from "./job-status.js";
import { resolveTableNames } from "./schema/tables.js";
import { assertSchemaCurrent } from "./schema/version.js";
import { countByTypeAndStatus } from "./statements/stats.js";

/** Options of {@link countJobs}. */
export interface CountJobsOptions {
  /** Table names, as the queue's `tables` option; default the seed's `async_job_tab`. */
  readonly tables?: Partial<TableNames>;
  /**
   * How old, in ms, the counts of finished jobs (Success, Failed, Cancelled, and codes
   * other software wrote) may be: they are read at most once per this interval per DB
   * and job table and reused meanwhile, while the unfinished ones (waiting, running,
   * continuing, retrying: the backlog, a few ranges of the claim index) are read on
   * every call. For dashboards polling a table with a long history. Default 0: every
   * count read now.
   */
  readonly finishedMaxAgeMs?: number;
}

/** How many jobs of one type are in one status: a row of {@link countJobs}. */
export interface JobCount {
  /** The job type's integer. */
  readonly jobType: number;
  /** The status (a {@link JobStatus} code; a code written by other software is passed through). */
  readonly status: JobStatus;
  /** Jobs of this type in this status, at least 1. */
  readonly count: number;
}

/**
 * Counts the jobs of the job table by job type and status, as one snapshot
 * read: a row per (job type, status) pair that has jobs, ordered by job type,
 * then status (pairs with no job are left out). For dashboards, the CLI's
 * `stats` and monitoring scripts; it visits every job once (from the claim
 * index), so poll it every few seconds at most on a large table. Throws
 * `SchemaVersionError` when the tables were not migrated; database
 * errors pass through.
 */
export async function countJobs(db: DB, options: CountJobsOptions = {}): Promise<JobCount[]> {
  const tables = resolveTableNames(options.tables);
  const maxAge = checkFinishedMaxAge(options.finishedMaxAgeMs);
  const dialect = await resolveDialect(db);
  await assertSchemaCurrent(db, dialect, tables);
  return readJobCounts(db, dialect, tables.jobs, maxAge);
}

/**
 * {@link countJobs}' reads once the schema was checked (`prometheusMetrics` checks it
 * itself): every count now, or with `maxAgeMs` > 0 the backlog now and the rest from
 * at most that long ago.
 */
export async function readJobCounts(
  db: DB,
  dialect: Dialect,
  table: string,
  maxAgeMs: number,
): Promise<JobCount[]> {
  const read = (part: "all" | "unfinished" | "others") =>
    querySql(db, dialect, countByTypeAndStatus(dialect, table, part)).then((rows) =>
      rows.map((row) => ({
        jobType: Number(row.job_type),
        status: Number(row.job_status) as JobStatus,
        count: Number(row.n),
      })),
    );
  if (maxAgeMs === 0) return read("all");
  const [fresh, finished] = await Promise.all([
    read("unfinished"),
    cached(db, table, maxAgeMs, () => read("others")),
  ]);
  // A NULL status (the seed's column allows it) reads as 0 in both parts: one row per pair.
  const merged = new Map<string, JobCount>();
  for (const c of [...fresh, ...finished]) {
    const key = `${c.jobType}/${c.status}`;
    const prev = merged.get(key);
    merged.set(key, prev ? { ...c, count: prev.count + c.count } : c);
  }
  return [...merged.values()].sort((a, b) => a.jobType - b.jobType || a.status - b.status);
}

/** `finishedMaxAgeMs` as given (default 0), or a RangeError saying what to pass. */
export function checkFinishedMaxAge(value: number | undefined): number {
  const maxAge = value ?? 0;
  if (!Number.isFinite(maxAge) || maxAge < 0)
    throw new RangeError(
      `finishedMaxAgeMs must be a number of milliseconds, 0 or more (got ${maxAge}).`,
    );
  return maxAge;
}

/** Per DB and job table: the last read of the finished counts, and when it started. */
const finishedCounts = new WeakMap<DB, Map<string, { at: number; value: Promise<JobCount[]> }>>();

/** `read()`'s result from at most `maxAgeMs` ago, shared by every caller; one read at a time; a failed read is not kept. */
function cached(
  db: DB,
  table: string,
  maxAgeMs: number,
  read: () => Promise<JobCount[]>,
): Promise<JobCount[]> {
  let perTable = finishedCounts.get(db);
  if (!perTable) {
    perTable = new Map();
    finishedCounts.set(db, perTable);
  }
  const now = Date.now();
  const hit = perTable.get(table);
  if (hit && now - hit.at <= maxAgeMs) return hit.value;
  const value = read();
  const entry = { at: now, value };
  perTable.set(table, entry);
  value.catch(() => {
    if (perTable.get(table) === entry) perTable.delete(table);
  });
  return value;
}
