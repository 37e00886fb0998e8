/**
 * Every statement the engine runs on the job table, one function each. They
 * are written once against the dialect's hooks (placeholders, the database's
 * clock, capability flags); where the text itself differs, the dialect
 * provides it (the claim). All times are the database's.
 */

import { JOB_COLUMNS, jobColumns } from "../dialects/claim.js";
import type { Dialect, InsertRow } from "../dialects/dialect.js";
import { ident, join, raw, type SqlFragment, sql } from "../dialects/sql.js";
import { JobStatus } from "../job-status.js";
import { claimIndexName } from "../schema/tables.js";

/** One row for {@link insertJobs}. */
export interface NewJobRow {
  readonly jobType: number;
  /** The params as JSON text (already checked against the column size). */
  readonly params: string;
  /** Absolute due time in epoch ms, or undefined. */
  readonly dueAtMs?: number | undefined;
  /** Delay from the database's now, in ms, or undefined. */
  readonly delayMs?: number | undefined;
}

/**
 * Enqueue: one INSERT for all rows, status Init. start_time keeps the seed's
 * meaning (unix seconds, 0 = now) and run_at carries the exact ms.
 * Params: the rows. Result: with `returning`, rows `{ id }` in insert order;
 * otherwise the driver's insertId (MySQL: the first id). Locks: none beyond the insert.
 */
export function insertJobs(
  d: Dialect,
  table: string,
  rows: readonly NewJobRow[],
  returning: boolean,
): SqlFragment {
  const resolved = rows.map(toInsertRow);
  if (resolved.length > 1 && d.insertJobRows) return d.insertJobRows(table, resolved, returning);
  const values = resolved.map((r) => {
    let startTime: SqlFragment;
    let runAt: SqlFragment;
    if (r.due) {
      startTime = sql`${r.due.startTime}`;
      runAt = sql`${r.due.runAt}`;
    } else if (r.delayMs !== undefined) {
      const due = sql`(${raw(d.nowMs)} + ${r.delayMs})`;
      startTime = d.intDiv(due, raw("1000"));
      runAt = due;
    } else {
      startTime = sql`0`;
      runAt = sql`0`;
    }
    return sql`(${r.params}, ${r.jobType}, ${JobStatus.Init}, ${startTime}, ${runAt}, ${raw(d.nowSec)}, ${raw(d.nowSec)})`;
  });
  return sql`INSERT INTO ${ident(table)} (params, job_type, job_status, start_time, run_at, create_time, update_time)
  VALUES ${join(values)}${raw(returning ? " RETURNING id" : "")}`;
}

/**
 * After a MySQL-form claim: the rows claimed under `token`. Served by the
 * claim index (running rows of one type are few), forced: on a freshly filled
 * table MariaDB's statistics say one status covers every row, and it scanned
 * the whole table instead (5 ms per claim with 20k jobs queued).
 */
export function selectClaimed(
  d: Dialect,
  table: string,
  jobType: number,
  token: string,
): SqlFragment {
  return sql`SELECT ${jobColumns()} FROM ${ident(table)} ${raw(d.forceIndex(claimIndexName(table)))}
  WHERE job_status = ${JobStatus.Running} AND job_type = ${jobType} AND lease_token = ${token} ORDER BY id`;
}

function toInsertRow(r: NewJobRow): InsertRow {
  if (r.dueAtMs !== undefined) {
    return {
      jobType: r.jobType,
      params: r.params,
      due: { startTime: Math.floor(r.dueAtMs / 1000), runAt: Math.floor(r.dueAtMs) },
    };
  }
  if (r.delayMs !== undefined && r.delayMs > 0)
    return { jobType: r.jobType, params: r.params, delayMs: Math.ceil(r.delayMs) };
  return { jobType: r.jobType, params: r.params };
}

/** What a finished run writes. */
export interface Completion {
  readonly id: number;
  readonly token: string;
  readonly status: JobStatus.Success | JobStatus.Failed | JobStatus.Continue | JobStatus.Retry;
  /** For Continue/Retry: run again this many ms after the database's now. */
  readonly runAfterMs?: number | undefined;
  /** The failure message, already truncated; undefined leaves last_error as it is. */
  readonly lastError?: string | undefined;
}

/**
 * Completion, fenced: written only while the row is still running under the
 * caller's lease token. 0 rows affected = the lease was lost (expired and
 * taken over, or released); the caller logs it and changes nothing.
 */
export function completeJob(d: Dialect, table: string, c: Completion): SqlFragment {
  const runAt =
    c.runAfterMs !== undefined
      ? sql`, run_at = ${raw(d.nowMs)} + ${Math.max(0, Math.ceil(c.runAfterMs))}`
      : sql``;
  const lastError = c.lastError !== undefined ? sql`, last_error = ${c.lastError}` : sql``;
  return sql`UPDATE ${ident(table)} SET job_status = ${c.status}, lease_token = NULL, lease_until = 0, update_time = ${raw(d.nowSec)}${runAt}${lastError}
  WHERE id = ${c.id} AND lease_token = ${c.token} AND job_status = ${JobStatus.Running}`;
}

/**
 * Heartbeat: extends the leases of this worker's running jobs by `leaseMs`
 * from the database's now. Fenced by token: a job whose lease was taken over
 * is not extended (affected < ids → find the lost ones with {@link stillLeased}).
 */
export function extendLeases(
  d: Dialect,
  table: string,
  ids: readonly number[],
  tokens: readonly string[],
  leaseMs: number,
): SqlFragment {
  return sql`UPDATE ${ident(table)} SET lease_until = ${raw(d.nowMs)} + ${leaseMs}
  WHERE job_status = ${JobStatus.Running} AND id IN (${ids}) AND lease_token IN (${tokens})`;
}

/** Rows `{ id }` among `ids` still running under one of `tokens`. */
export function stillLeased(
  _d: Dialect,
  table: string,
  ids: readonly number[],
  tokens: readonly string[],
): SqlFragment {
  return sql`SELECT id FROM ${ident(table)} WHERE job_status = ${JobStatus.Running} AND id IN (${ids}) AND lease_token IN (${tokens})`;
}

/**
 * Hands a claimed job back at shutdown, claimable again at once (status
 * Retry, run_at 0). Fenced by token. The interrupted run stays counted in attempts.
 */
export function releaseJob(
  d: Dialect,
  table: string,
  id: number,
  token: string,
  reason: string,
): SqlFragment {
  return sql`UPDATE ${ident(table)} SET job_status = ${JobStatus.Retry}, lease_token = NULL, lease_until = 0, run_at = 0,
    last_error = ${reason}, update_time = ${raw(d.nowSec)}
  WHERE id = ${id} AND lease_token = ${token} AND job_status = ${JobStatus.Running}`;
}

/**
 * Rescue: jobs of one type whose lease expired (their worker died or hung
 * without heartbeats) become claimable again as Retry, or Failed once they
 * have used `attemptLimit` attempts (a poison job that kills its worker every
 * time must end). Idempotent; any worker may run it.
 */
export function rescueExpired(
  d: Dialect,
  table: string,
  jobType: number,
  attemptLimit: number,
): SqlFragment {
  return sql`UPDATE ${ident(table)} SET
    job_status = CASE WHEN attempts >= ${attemptLimit} THEN ${raw(String(JobStatus.Failed))} ELSE ${raw(String(JobStatus.Retry))} END,
    last_error = CASE WHEN attempts >= ${attemptLimit}
      THEN ${"lease expired too many times: the job's worker died or hung on every attempt"}
      ELSE ${"lease expired: the worker died or stopped heartbeating; running again"} END,
    lease_token = NULL, lease_until = 0, run_at = 0, update_time = ${raw(d.nowSec)}
  WHERE job_status = ${JobStatus.Running} AND job_type = ${jobType} AND lease_until < ${raw(d.nowMs)}`;
}

/**
 * Rows `{ wait }`: ms from the database's now until the next job of this type
 * is due (≤ 0: due now; NULL: nothing pending). Lets an idle worker sleep
 * exactly until a delayed job's time.
 */
export function nextDue(
  d: Dialect,
  table: string,
  jobType: number,
  minInitId: number,
): SqlFragment {
  return sql`SELECT MIN(${raw(d.greatest)}(COALESCE(start_time, 0) * 1000, run_at)) - ${raw(d.nowMs)} AS wait FROM ${ident(table)}
  WHERE job_status IN (${[JobStatus.Init, JobStatus.Continue, JobStatus.Retry]}) AND job_type = ${jobType}
    AND (job_status <> ${JobStatus.Init} OR id >= ${minInitId})`;
}

/**
 * The seed's firstPullDay, at start-up. Rows `{ min_id, skipped }`: the
 * lowest id of an Init job of this type created within the last `days` days
 * (or, with `days` < 0, the next id to be assigned), and how many older Init
 * jobs are left alone.
 */
export function firstPull(d: Dialect, table: string, jobType: number, days: number): SqlFragment {
  const t = ident(table);
  const cutoff = days < 0 ? null : sql`${raw(d.nowSec)} - ${Math.floor(days * 86400)}`;
  if (cutoff === null) {
    return sql`SELECT COALESCE(MAX(id), 0) + 1 AS min_id,
      (SELECT COUNT(*) FROM ${t} WHERE job_status = ${JobStatus.Init} AND job_type = ${jobType}) AS skipped FROM ${t}`;
  }
  return sql`SELECT COALESCE(
      (SELECT MIN(id) FROM ${t} WHERE job_status = ${JobStatus.Init} AND job_type = ${jobType} AND create_time >= ${cutoff}),
      (SELECT COALESCE(MAX(id), 0) + 1 FROM ${t})) AS min_id,
    (SELECT COUNT(*) FROM ${t} WHERE job_status = ${JobStatus.Init} AND job_type = ${jobType} AND create_time < ${cutoff}) AS skipped`;
}

/** Rows of a job by id, for `queue.getJob()` and tests. */
export function selectJob(_d: Dialect, table: string, id: number): SqlFragment {
  return sql`SELECT ${raw([...JOB_COLUMNS, "job_status", "run_at", "lease_until", "worker_id", "update_time"].join(", "))}
  FROM ${ident(table)} WHERE id = ${id}`;
}

/**
 * Batched completion of successful runs: one statement for many jobs, each
 * fenced by its own (id, lease token) pair. `id IN (…)` lets every database
 * use the primary key; the pair list is the fence. With `returning`, rows
 * `{ id }` are the jobs completed; a pair missing from them lost its lease.
 * The row keeps the token of the claim that completed it, so that without
 * RETURNING {@link confirmSucceeded} can tell this run's write from another's.
 */
export function completeSucceeded(
  d: Dialect,
  table: string,
  jobs: readonly { readonly id: number; readonly token: string }[],
  returning: boolean,
): SqlFragment {
  const pairs = join(jobs.map((j) => sql`(${j.id}, ${j.token})`));
  return sql`UPDATE ${ident(table)} SET job_status = ${JobStatus.Success}, lease_until = 0, update_time = ${raw(d.nowSec)}
  WHERE id IN (${jobs.map((j) => j.id)}) AND job_status = ${JobStatus.Running} AND (id, lease_token) IN (${pairs})${raw(returning ? " RETURNING id" : "")}`;
}

/**
 * Where UPDATE … RETURNING is missing (MySQL) and a batch matched fewer rows
 * than it had: rows `{ id }` now Success under the very (id, token) pairs of
 * the batch, i.e. the ones this batch completed. A stale run of a job that a
 * later claim (even this worker's) completed has another token: not listed.
 */
export function confirmSucceeded(
  _d: Dialect,
  table: string,
  jobs: readonly { readonly id: number; readonly token: string }[],
): SqlFragment {
  const pairs = join(jobs.map((j) => sql`(${j.id}, ${j.token})`));
  return sql`SELECT id FROM ${ident(table)} WHERE id IN (${jobs.map((j) => j.id)}) AND job_status = ${JobStatus.Success} AND (id, lease_token) IN (${pairs})`;
}
