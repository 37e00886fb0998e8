/**
 * The statements of the operator overview (the dashboard's, also usable from
 * scripts): finished jobs per time bucket, the oldest waiting job per type,
 * and the rows of the ShedLock table. Written once for every database; all
 * times are the database's. Plain reads: no locks.
 */

import type { Dialect, SqlHooks } from "../dialects/dialect.js";
import { ident, raw, type SqlFragment, sql } from "../dialects/sql.js";
import { JobStatus } from "../job-status.js";

/**
 * Rows `{ job_type, job_status, bucket, n }`: jobs that finished (Success 1 or
 * Failed 2) in the last `windowSec` seconds by the database's clock, counted
 * per job type, status and bucket of `bucketSec` seconds; `bucket` is the
 * bucket's start in unix seconds (`update_time - update_time % bucketSec`,
 * integer arithmetic every database does alike). A finished job's update_time
 * is when it finished. Ordered by bucket. Cost: no index has update_time, so
 * the database reads the finished statuses' range of the claim index
 * (job_status, job_type, id) and each of its rows: on a table with many
 * finished jobs, prune them (retention) or poll this seldom.
 */
export function finishedPerBucket(
  d: SqlHooks,
  table: string,
  bucketSec: number,
  windowSec: number,
): SqlFragment {
  // Inlined, not bound: PostgreSQL takes two bound parameters for different
  // expressions, and then refuses the SELECT's bucket as not in the GROUP BY.
  const bucket = raw(`(update_time - update_time % ${Math.trunc(bucketSec)})`);
  return sql`SELECT job_type, job_status, ${bucket} AS ${ident("bucket")}, COUNT(*) AS ${ident("n")}
  FROM ${ident(table)}
  WHERE job_status IN (${JobStatus.Success}, ${JobStatus.Failed}) AND update_time >= ${raw(d.nowSec)} - ${windowSec}
  GROUP BY job_type, job_status, ${bucket} ORDER BY ${bucket}`;
}

/**
 * Rows `{ job_type, oldest, now_sec }`: per job type with waiting jobs (Init 0,
 * Continue 3, Retry 4), the earliest create_time among them, and the
 * database's now (both unix seconds; subtracted by the caller, as MySQL
 * refuses a negative result of a subtraction with an unsigned column). Reads the waiting statuses'
 * range of the claim index and those rows: the backlog, not the history.
 */
export function oldestWaitingPerType(d: SqlHooks, table: string): SqlFragment {
  return sql`SELECT job_type, MIN(create_time) AS ${ident("oldest")}, ${raw(d.nowSec)} AS ${ident("now_sec")}
  FROM ${ident(table)}
  WHERE job_status IN (${JobStatus.Init}, ${JobStatus.Continue}, ${JobStatus.Retry})
  GROUP BY job_type ORDER BY job_type`;
}

/**
 * Rows `{ lock_name, locked_by, locked_at, lock_until, held, now_lock }` of the
 * ShedLock table, by name; `held` is 1 while lock_until is in the future by
 * the database's clock, and `now_lock` is that clock's now in the lock
 * columns' type (so a caller can take differences that do not depend on how
 * the driver reads the time zone of these values). The lock table holds one
 * row per lock name ever taken.
 */
export function listLockRows(d: Dialect, table: string): SqlFragment {
  return sql`${raw(d.statements.utcStatement("SELECT"))} lock_name, locked_by, locked_at, lock_until,
    CASE WHEN lock_until > ${raw(d.statements.lockNow)} THEN 1 ELSE 0 END AS ${ident("held")},
    ${raw(d.statements.lockNow)} AS ${ident("now_lock")}
  FROM ${ident(table)} ORDER BY lock_name`;
}
