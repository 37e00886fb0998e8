import { JobStatus } from "../job-status.js";
import type { ClaimParams, SqlHooks, StaleCutoff } from "./dialect.js";
import { ident, type RawSql, raw, type SqlFragment, type SqlPart, sql } from "./sql.js";

/**
 * The rows one claim may take: one claimable status, the job type, oldest id
 * first, due by the database's clock (the seed's start_time in seconds and our
 * run_at in ms; NULL start_time counts as 0), and for never-run rows the
 * firstPullDay cut-off (see {@link dueSince}). Shared by the three dialects'
 * claim statements.
 *
 * One status per claim, on purpose: with `job_status = ? … ORDER BY id` the
 * (job_status, job_type, id) index yields rows already in order and the scan stops after
 * `limit` due rows. With `job_status IN (0, 3, 4) ORDER BY id` every database
 * here sorted all pending rows per claim instead (and MariaDB's locking read
 * then locked them all): 5-10x slower drains with a 200k backlog.
 */
export function pickDue(d: SqlHooks, p: ClaimParams): SqlFragment {
  const t = ident(p.table);
  const cutoff =
    p.status === JobStatus.Init && p.stale !== undefined ? sql`AND ${notStale(d, p.stale)}` : sql``;
  return sql`SELECT ${ident("id")}, ${ident("job_status")} AS prev_status FROM ${t}
  WHERE ${ident("job_status")} = ${p.status}
    AND ${ident("job_type")} = ${p.jobType}
    ${cutoff}
    AND COALESCE(${ident("start_time")}, 0) <= ${raw(d.nowSec)}
    AND ${ident("run_at")} <= ${raw(d.nowMs)}
  ORDER BY ${ident("id")}
  LIMIT ${p.limit}
  ${raw(d.lockRowsClause)}`;
}

/**
 * SQL expression: when a pending row became due, in epoch ms: its creation for
 * a job to run at once, else its start_time / run_at. The firstPullDay cut-off
 * compares it, so a job delayed past the window still runs when it comes due;
 * only jobs that have been due for longer than the window at start-up are
 * left alone. (An id cut-off alone, as before, stranded delayed jobs.)
 */
export function dueSince(d: SqlHooks): SqlFragment {
  return sql`${raw(d.greatest)}(${ident("create_time")} * 1000, COALESCE(${ident("start_time")}, 0) * 1000, ${ident("run_at")})`;
}

/**
 * SQL condition: an Init row is not left alone by the firstPullDay cut-off —
 * it came after start-up (whatever its timestamps say: plain INSERTs may
 * write 0), or it had not been due for longer than the window then.
 */
export function notStale(d: SqlHooks, stale: StaleCutoff): SqlFragment {
  return sql`(${ident("id")} >= ${stale.belowId} OR ${dueSince(d)} >= ${stale.beforeMs})`;
}

/**
 * The SET list of a claim. `prev` is the pre-claim status (a Continue re-run
 * does not count an attempt) and `attempts` the current attempts column, both
 * as the dialect must spell them in an UPDATE with a join.
 */
export function claimAssignments(d: SqlHooks, p: ClaimParams, prev: SqlPart, attempts: SqlPart) {
  return sql`${ident("attempts")} = CASE WHEN ${prev} = ${JobStatus.Continue} THEN ${attempts} ELSE ${attempts} + 1 END,
    ${ident("job_status")} = ${JobStatus.Running},
    ${ident("lease_token")} = ${p.token},
    ${ident("lease_until")} = ${raw(d.nowMs)} + ${p.leaseMs},
    ${ident("worker_id")} = ${p.workerId},
    ${ident("update_time")} = ${raw(d.nowSec)}`;
}

/** `a, b, c` of the job columns, each prefixed with `prefix.` when given. */
export function jobColumns(prefix?: string): RawSql {
  return raw(JOB_COLUMNS.map((c) => (prefix ? `${prefix}.${c}` : c)).join(", "));
}

/** The columns a claimed job is read back with (all plain identifiers, safe unquoted on every dialect). */
export const JOB_COLUMNS = [
  "id",
  "params",
  "job_type",
  "attempts",
  "start_time",
  "create_time",
  "last_error",
] as const;
