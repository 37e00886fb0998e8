import type { DB } from "./db.js";
import type { TableNames } from "./dialects/dialect.js";
import { querySql, resolveDialect } from "./dialects/index.js";
import type { JobStatus } from "./job-status.js";
import { resolveTableNames } from "./schema/tables.js";
import { assertSchemaCurrent } from "./schema/version.js";
import { statsPerBucket } from "./statements/job-stats.js";
import { finishedPerBucket, listLockRows, oldestWaitingPerType } from "./statements/overview.js";

/** Options of the overview reads ({@link finishedJobs}, {@link oldestWaiting}, {@link listLocks}). */
export interface OverviewOptions {
  /** Table names, as the queue's `tables` option; default the seed's. */
  readonly tables?: Partial<TableNames>;
}

/** Options of {@link finishedJobs}. */
export interface FinishedJobsOptions extends OverviewOptions {
  /**
   * Bucket width in seconds, a whole number from 1 to 86,400 (60: per minute, 3600: per
   * hour); a multiple of 60 with the default `source`, whose counters are per minute.
   */
  readonly bucketSeconds: number;
  /** How far back, in seconds from the database's now (3600: the last hour). */
  readonly windowSeconds: number;
  /**
   * Where to count. `"counters"` (default): the job-stats table, to which every
   * queue process adds its finished jobs per type, status and minute every 5 s:
   * reads at most a row per type, status and minute of the window, whatever the
   * size of the job table; kept two days; jobs finished by a process of the Go
   * library, or failed by the rescue of an expired lease, are not in it, and the
   * last few seconds are not there yet. `"jobs"`: the job table's finished rows,
   * exact, but it reads every job finished in the window (no index has update_time).
   */
  readonly source?: "counters" | "jobs";
}

/** Jobs of one type that finished in one status in one time bucket: a row of {@link finishedJobs}. */
export interface FinishedBucket {
  readonly jobType: number;
  /** Success (1) or Failed (2). */
  readonly status: JobStatus;
  /** The bucket's start, unix seconds (a multiple of the bucket width). */
  readonly bucket: number;
  readonly count: number;
}

/**
 * Finished jobs (Success and Failed) per job type, status and time bucket over
 * the last `windowSeconds`, by the database's clock: the throughput a
 * dashboard charts. Buckets with no job are left out. From the finished-job
 * counters by default (cheap at any table size), or from the job table's rows
 * with `source: "jobs"`; see {@link FinishedJobsOptions.source}.
 */
export async function finishedJobs(
  db: DB,
  options: FinishedJobsOptions,
): Promise<FinishedBucket[]> {
  const { bucketSeconds, windowSeconds, source = "counters" } = options;
  if (source !== "counters" && source !== "jobs")
    throw new RangeError(`source must be "counters" or "jobs" (got ${String(source)}).`);
  if (!Number.isInteger(bucketSeconds) || bucketSeconds < 1 || bucketSeconds > 86_400)
    throw new RangeError(
      `bucketSeconds must be a whole number from 1 to 86400 (got ${bucketSeconds}).`,
    );
  if (source === "counters" && bucketSeconds % 60 !== 0)
    throw new RangeError(
      `bucketSeconds must be a multiple of 60 when counting from the per-minute counters (got ${bucketSeconds}); pass source: "jobs" for finer buckets.`,
    );
  if (!Number.isInteger(windowSeconds) || windowSeconds < 1)
    throw new RangeError(`windowSeconds must be a positive whole number (got ${windowSeconds}).`);
  const tables = resolveTableNames(options.tables);
  const dialect = await resolveDialect(db);
  await assertSchemaCurrent(db, dialect, tables);
  const rows = await querySql(
    db,
    dialect,
    source === "counters"
      ? statsPerBucket(dialect, tables.jobStats, tables.jobs, bucketSeconds, windowSeconds)
      : finishedPerBucket(dialect, tables.jobs, bucketSeconds, windowSeconds),
  );
  return rows.map((row) => ({
    jobType: Number(row.job_type),
    status: Number(row.job_status) as JobStatus,
    bucket: Number(row.bucket),
    count: Number(row.n),
  }));
}

/** The oldest waiting job of one type: a row of {@link oldestWaiting}. */
export interface OldestWaiting {
  readonly jobType: number;
  /** The earliest create_time among the type's waiting jobs (Init, Continue, Retry), unix seconds. */
  readonly createTime: number;
  /** Its age in seconds by the database's clock (0 if it was created in the database's future). */
  readonly ageSeconds: number;
}

/** Per job type with waiting jobs, how long its oldest waiting job has been there: is the backlog moving? */
export async function oldestWaiting(
  db: DB,
  options: OverviewOptions = {},
): Promise<OldestWaiting[]> {
  const tables = resolveTableNames(options.tables);
  const dialect = await resolveDialect(db);
  await assertSchemaCurrent(db, dialect, tables);
  const rows = await querySql(db, dialect, oldestWaitingPerType(dialect, tables.jobs));
  return rows.map((row) => {
    const createTime = Number(row.oldest);
    return {
      jobType: Number(row.job_type),
      createTime,
      ageSeconds: Math.max(0, Number(row.now_sec) - createTime),
    };
  });
}

/** A row of the ShedLock table: a row of {@link listLocks}. */
export interface LockInfo {
  readonly name: string;
  /** Who took it last (ShedLock's locked_by). */
  readonly lockedBy: string;
  /** When it was last taken, ISO 8601 in UTC (on this process's clock: see {@link listLocks}). */
  readonly lockedAt: string;
  /** Until when it is (or was) held, as `lockedAt`. */
  readonly lockUntil: string;
  /** Whether it is held now, by the database's clock. */
  readonly held: boolean;
}

/**
 * The rows of the ShedLock table (`tables.locks`, default `shedlock_tab`), by
 * name, and whether each is held now by the database's clock. The times are
 * read as offsets from the database's now, read in the same statement and
 * type, and put on this process's clock: right whatever time zone the driver
 * takes the lock columns' values to be in (mysql2 reads them as local time),
 * and free of clock skew between this host and the database.
 */
export async function listLocks(db: DB, options: OverviewOptions = {}): Promise<LockInfo[]> {
  const tables = resolveTableNames(options.tables);
  const dialect = await resolveDialect(db);
  await assertSchemaCurrent(db, dialect, tables);
  const rows = await querySql(db, dialect, listLockRows(dialect, tables.locks));
  const here = Date.now();
  return rows.map((row) => {
    const now = lockTimeMs(row.now_lock);
    const at = (value: unknown) => {
      const ms = lockTimeMs(value);
      return Number.isNaN(ms) || Number.isNaN(now) ? "" : new Date(here + (ms - now)).toISOString();
    };
    return {
      name: String(row.lock_name),
      lockedBy: String(row.locked_by ?? ""),
      lockedAt: at(row.locked_at),
      lockUntil: at(row.lock_until),
      held: Number(row.held) === 1,
    };
  });
}

/** A lock time as the driver returns it (a Date, or SQLite's "YYYY-MM-DD HH:MM:SS.fff") in ms; NaN if neither. */
function lockTimeMs(value: unknown): number {
  if (value instanceof Date) return value.getTime();
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2}(?:\.\d+)?)$/.exec(String(value ?? ""));
  return m ? new Date(`${m[1]}T${m[2]}Z`).getTime() : Number.NaN;
}
