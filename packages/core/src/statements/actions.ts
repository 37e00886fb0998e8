/**
 * Statements of the job actions (`cancel`, `retry`, `promote`, `remove`) and of
 * `listJobs()`, one function each, written once against the dialect's hooks.
 * Each action is one conditional statement by id and status: it applies or it
 * does not, atomically, whatever workers do to the row at the same moment
 * (a claim, a completion and an action on one row are serialised by its row
 * lock, and each re-checks its status condition). All times are the database's.
 */

import type { JobLease, SqlHooks } from "../dialects/dialect.js";
import { leaseFence } from "../dialects/lease-fence.js";
import { ident, join, raw, type SqlFragment, sql } from "../dialects/sql.js";
import { JobStatus } from "../job-status.js";

/** Statuses `cancel()` applies to: waiting, continuing, retrying, running. */
export const CANCELLABLE: readonly JobStatus[] = [
  JobStatus.Init,
  JobStatus.Continue,
  JobStatus.Retry,
  JobStatus.Running,
];

/** Statuses `retry()` applies to. */
export const RETRIABLE: readonly JobStatus[] = [JobStatus.Failed, JobStatus.Cancelled];

/** Statuses `promote()` applies to (when the job is not yet due). */
export const PROMOTABLE: readonly JobStatus[] = [
  JobStatus.Init,
  JobStatus.Continue,
  JobStatus.Retry,
];

/** The columns `listJobs()` reads: those of `getJob()`, plus version 4's. */
export const RECORD_COLUMNS = [
  "id",
  "params",
  "job_type",
  "job_status",
  "attempts",
  "start_time",
  "run_at",
  "create_time",
  "update_time",
  "lease_until",
  "worker_id",
  "last_error",
  "priority",
  "unique_key",
  "group_key",
  "result",
  "progress",
] as const;

/** `(a, b, c)` of trusted status constants, written inline (the values are the engine's, never input). */
const statusList = (statuses: readonly JobStatus[]) => raw(statuses.map(Number).join(", "));

/**
 * Cancel. Params: id, `message` for last_error. Affected rows: 1 when the job
 * was waiting (0, 3, 4) or running (5) and is now Cancelled (6), else 0.
 * A running job's lease ends (lease_until = 0); its token stays, so the
 * worker holding it can tell at its next heartbeat that its run was cancelled
 * ({@link cancelledRuns}), and every write of that run stays fenced off
 * (they all require status Running). Locks: the one row.
 */
export function cancelJob(d: SqlHooks, table: string, id: number, message: string): SqlFragment {
  return sql`UPDATE ${ident(table)} SET job_status = ${JobStatus.Cancelled}, lease_until = 0, last_error = ${message}, update_time = ${raw(d.nowSec)}
  WHERE id = ${id} AND job_status IN (${statusList(CANCELLABLE)})`;
}

/**
 * Retry. Params: id. Affected rows: 1 when the job was Failed (2) or Cancelled
 * (6) and is now waiting (0) again, due now by the database's clock, with its
 * attempts reset to 0 (a fresh start, as BullMQ's `retry()`); else 0. run_at
 * is now rather than 0 so that a worker's firstPullDay cut-off never takes the
 * old job for a stale one. last_error stays, as the history of the last run.
 * With a unique key, the database refuses it (a unique violation) while
 * another unfinished job has the same key. Locks: the one row.
 */
export function retryJob(d: SqlHooks, table: string, id: number): SqlFragment {
  return sql`UPDATE ${ident(table)} SET job_status = ${JobStatus.Init}, attempts = 0, start_time = 0, run_at = ${raw(d.nowMs)},
    lease_until = 0, update_time = ${raw(d.nowSec)}
  WHERE id = ${id} AND job_status IN (${statusList(RETRIABLE)})`;
}

/**
 * Promote. Params: id. Affected rows: 1 when the job was waiting (0, 3, 4)
 * and not yet due, and is now due (at the database's now: it queues behind
 * jobs already due in its priority); else 0 (also for a job already due: there
 * is nothing to bring forward). Every applied row changes, so drivers that
 * count changed rather than matched rows agree. Locks: the one row.
 */
export function promoteJob(d: SqlHooks, table: string, id: number): SqlFragment {
  return sql`UPDATE ${ident(table)} SET start_time = 0, run_at = ${raw(d.nowMs)}, update_time = ${raw(d.nowSec)}
  WHERE id = ${id} AND job_status IN (${statusList(PROMOTABLE)}) AND ${raw(d.dueMs)} > ${raw(d.nowMs)}`;
}

/**
 * Remove. Params: id. Affected rows: 1 when the job was deleted (any status
 * but Running), else 0. A running job is never deleted under its worker:
 * cancel it first. Locks: the one row.
 */
export function removeJob(_d: SqlHooks, table: string, id: number): SqlFragment {
  return sql`DELETE FROM ${ident(table)} WHERE id = ${id} AND job_status <> ${JobStatus.Running}`;
}

/**
 * Rows `{ job_status, worker_id }` of job `id` (none: no such job): why an
 * action did not apply. Reads the primary key only; no lock.
 */
export function jobState(_d: SqlHooks, table: string, id: number): SqlFragment {
  return sql`SELECT job_status, worker_id FROM ${ident(table)} WHERE id = ${id}`;
}

/**
 * Rows `{ id }`: the runs among `jobs` (each an (id, token) pair) that were
 * cancelled while they ran: status Cancelled under that very token. A worker
 * asks this only for the jobs whose lease a heartbeat found gone, so it costs
 * nothing while every lease holds. Reads the primary key; no lock.
 */
export function cancelledRuns(_d: SqlHooks, table: string, jobs: readonly JobLease[]): SqlFragment {
  return sql`SELECT id FROM ${ident(table)} WHERE ${leaseFence(jobs)} AND job_status = ${JobStatus.Cancelled}`;
}

/** What {@link listJobs} filters on; every part optional. */
export interface ListFilter {
  readonly jobType?: number | undefined;
  /** One or more statuses (a non-empty list). */
  readonly statuses?: readonly JobStatus[] | undefined;
  /**
   * A LIKE pattern already lowered and escaped with `!` (see {@link likePattern}),
   * matched against the lowered params.
   */
  readonly pattern?: string | undefined;
  /** Only ids below this one (the keyset cursor). */
  readonly beforeId?: number | undefined;
  /** Only ids at or above this one (the bound of a page's scan). */
  readonly fromId?: number | undefined;
  /** create_time (unix seconds) at least this. */
  readonly createdFrom?: number | undefined;
  /** create_time (unix seconds) below this. */
  readonly createdTo?: number | undefined;
  /** update_time (unix seconds) at least this. */
  readonly updatedFrom?: number | undefined;
  /** update_time (unix seconds) below this. */
  readonly updatedTo?: number | undefined;
  /** Rows to read: the page size plus one, to know whether another page follows. */
  readonly limit: number;
}

/**
 * Rows of {@link RECORD_COLUMNS}, newest (highest id) first, after the cursor.
 * Keyset pagination on the primary key: rows added meanwhile have higher ids and
 * never shift a later page, so pages neither repeat nor skip a row.
 *
 * Indexes: with no filter, or `jobType` alone, a backward range scan of the
 * primary key that stops after `limit` matches. With `jobType` and one status,
 * the claim index (job_status, job_type, id) gives the rows in id order: a range
 * scan, no sort. With statuses alone (or several), the database either scans the
 * primary key backwards, filtering, or reads each status's range and sorts. A
 * `search` is never served by an index (a substring of JSON text): it filters the
 * rows the scan reads, so its cost is the rows read until `limit` match — a rare
 * match in a large table reads all of it unless `fromId` bounds the scan (200k rows: about 0.3 s on PostgreSQL
 * and SQLite, 1 s on MariaDB). Case-insensitive through the dialect's
 * {@link SqlHooks.likeIgnoringCase} (PostgreSQL's ILIKE), else lower() on both
 * sides (SQLite folds ASCII letters only; MySQL keeps lower() although its
 * `_ci` collations ignore case, as a table the Go library created may have
 * another collation). `!` is the escape character: a backslash means something
 * else in MySQL's strings.
 */
export function listJobs(d: SqlHooks, table: string, f: ListFilter): SqlFragment {
  const where: SqlFragment[] = [];
  if (f.beforeId !== undefined) where.push(sql`id < ${f.beforeId}`);
  if (f.fromId !== undefined) where.push(sql`id >= ${f.fromId}`);
  if (f.statuses !== undefined) {
    where.push(
      f.statuses.length === 1
        ? sql`job_status = ${f.statuses[0]!}`
        : sql`job_status IN (${f.statuses.map(Number)})`,
    );
  }
  if (f.jobType !== undefined) where.push(sql`job_type = ${f.jobType}`);
  if (f.createdFrom !== undefined) where.push(sql`create_time >= ${f.createdFrom}`);
  if (f.createdTo !== undefined) where.push(sql`create_time < ${f.createdTo}`);
  if (f.updatedFrom !== undefined) where.push(sql`update_time >= ${f.updatedFrom}`);
  if (f.updatedTo !== undefined) where.push(sql`update_time < ${f.updatedTo}`);
  if (f.pattern !== undefined) {
    where.push(
      d.likeIgnoringCase?.("params", f.pattern) ?? sql`lower(params) LIKE ${f.pattern} ESCAPE '!'`,
    );
  }
  const clause = where.length > 0 ? sql`WHERE ${join(where, " AND ")}` : sql``;
  return sql`SELECT ${raw(RECORD_COLUMNS.join(", "))} FROM ${ident(table)} ${clause}
  ORDER BY id DESC LIMIT ${f.limit}`;
}

/** Row `{ id }`: the highest job id (NULL in an empty table), from the primary key's end. */
export function maxJobId(table: string): SqlFragment {
  return sql`SELECT MAX(id) AS ${ident("id")} FROM ${ident(table)}`;
}

/**
 * A case-insensitive "contains `text`" LIKE pattern: lowered, with the escape
 * character `!` and the wildcards `%` and `_` escaped so they match themselves.
 */
export function likePattern(text: string): string {
  return `%${text.toLowerCase().replace(/[!%_]/g, (c) => `!${c}`)}%`;
}
