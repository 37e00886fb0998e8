/**
 * The statements of the finished-job counters (schema version 7's job-stats
 * table): what each queue process adds every few seconds, what the overview
 * reads, and the deletion of old minutes. Written once for every database.
 */

import type { SqlHooks } from "../dialects/dialect.js";
import { ident, raw, type SqlFragment, sql } from "../dialects/sql.js";

/** One counter row: jobs of `jobType` that ended in `status` in the minute starting at `minuteStart` (unix s). */
export interface StatsKey {
  readonly scope: string;
  readonly jobType: number;
  readonly status: number;
  readonly minuteStart: number;
}

const where = (k: StatsKey) =>
  sql`scope = ${k.scope} AND job_type = ${k.jobType} AND job_status = ${k.status} AND minute_start = ${k.minuteStart}`;

/** Adds `n` to an existing counter row (0 rows changed: there is none yet). */
export function addToStatsRow(table: string, k: StatsKey, n: number): SqlFragment {
  return sql`UPDATE ${ident(table)} SET finished = finished + ${n} WHERE ${where(k)}`;
}

/** The counter row, new with `n` (a concurrent process may insert it first: a duplicate key). */
export function insertStatsRow(table: string, k: StatsKey, n: number): SqlFragment {
  return sql`INSERT INTO ${ident(table)} (scope, job_type, job_status, minute_start, finished)
  VALUES (${k.scope}, ${k.jobType}, ${k.status}, ${k.minuteStart}, ${n})`;
}

/** Deletes the scope's counters of minutes before `beforeSec` (unix s): a range of the primary key per type. */
export function deleteStatsBefore(table: string, scope: string, beforeSec: number): SqlFragment {
  return sql`DELETE FROM ${ident(table)} WHERE scope = ${scope} AND minute_start < ${beforeSec}`;
}

/**
 * Rows `{ job_type, job_status, bucket, n }`: the scope's finished jobs per job
 * type, status and bucket of `bucketSec` seconds (a multiple of 60) over the
 * last `windowSec` seconds by the database's clock, from the counters: at most
 * one row per type, status and minute of the window is read, whatever the size
 * of the job table. Ordered by bucket.
 */
export function statsPerBucket(
  d: SqlHooks,
  table: string,
  scope: string,
  bucketSec: number,
  windowSec: number,
): SqlFragment {
  // Inlined, not bound, as in finishedPerBucket: PostgreSQL would refuse the bucket as not grouped.
  const bucket = raw(`(minute_start - minute_start % ${Math.trunc(bucketSec)})`);
  return sql`SELECT job_type, job_status, ${bucket} AS ${ident("bucket")}, SUM(finished) AS ${ident("n")}
  FROM ${ident(table)}
  WHERE scope = ${scope} AND minute_start >= ${raw(d.nowSec)} - ${windowSec}
  GROUP BY job_type, job_status, ${bucket} ORDER BY ${bucket}`;
}
