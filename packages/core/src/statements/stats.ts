/**
 * The statement of `countJobs()`: how many jobs of each type are in each
 * status, written once for every database.
 */

import { dueSince } from "../dialects/claim.js";
import type { SqlHooks } from "../dialects/dialect.js";
import { ident, raw, type SqlFragment, sql } from "../dialects/sql.js";
import { CLAIMABLE_STATUSES, JobStatus } from "../job-status.js";

/**
 * Rows `{ job_type, job_status, n }`: one per (job type, status) pair that has
 * at least one job, ordered by job type, then status. The claim index
 * (job_status, job_type, id) covers it, so the database can answer from the
 * index without reading rows; it still visits every job once, so its cost
 * grows with the table: meant for people and scripts, never run by the
 * engine. A plain read: no locks.
 */
export function countByTypeAndStatus(
  _d: SqlHooks,
  table: string,
  part: "all" | "unfinished" | "others" = "all",
): SqlFragment {
  const list = raw(UNFINISHED_STATUSES.join(", "));
  const where =
    part === "all"
      ? sql``
      : part === "unfinished"
        ? sql`WHERE job_status IN (${list})`
        : sql`WHERE job_status NOT IN (${list}) OR job_status IS NULL`;
  return sql`SELECT job_type, job_status, COUNT(*) AS ${ident("n")} FROM ${ident(table)} ${where}
  GROUP BY job_type, job_status ORDER BY job_type, job_status`;
}

/**
 * The statuses of jobs that are not finished (waiting, running, continuing,
 * retrying): `countByTypeAndStatus(…, "unfinished")` reads their ranges of the
 * claim index, the backlog; `"others"` is the rest (finished, cancelled, codes
 * other software wrote), which on a long-lived table is most of it.
 */
export const UNFINISHED_STATUSES: readonly number[] = [
  ...CLAIMABLE_STATUSES,
  JobStatus.Running,
].sort((a, b) => a - b);

/**
 * Rows `{ job_type, due_ms, now_ms }`: per job type with claimable jobs (waiting,
 * continuing, retrying) that are due, the earliest time one of them became due
 * (epoch ms; see `dueSince`) and the database's now, for the age of the oldest
 * waiting job. Reads the claim index's (job_status, job_type) ranges of those
 * statuses: the backlog, not the finished jobs. No locks.
 */
export function oldestDueByType(d: SqlHooks, table: string): SqlFragment {
  const due = dueSince(d);
  return sql`SELECT job_type, MIN(${due}) AS ${ident("due_ms")}, ${raw(d.nowMs)} AS ${ident("now_ms")} FROM ${ident(table)}
  WHERE job_status IN (${raw(CLAIMABLE_STATUSES.join(", "))}) AND ${due} <= ${raw(d.nowMs)}
  GROUP BY job_type ORDER BY job_type`;
}
