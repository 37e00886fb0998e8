/**
 * The statement of `countJobs()`: how many jobs of each type are in each
 * status, written once for every database.
 */

import type { SqlHooks } from "../dialects/dialect.js";
import { ident, type SqlFragment, sql } from "../dialects/sql.js";

/**
 * Rows `{ job_type, job_status, n }`: one per (job type, status) pair that has
 * at least one job, ordered by job type, then status. The claim index
 * (job_status, job_type, id) covers it, so the database can answer from the
 * index without reading rows; it still visits every job once, so its cost
 * grows with the table: meant for people and scripts, never run by the
 * engine. A plain read: no locks.
 */
export function countByTypeAndStatus(_d: SqlHooks, table: string): SqlFragment {
  return sql`SELECT job_type, job_status, COUNT(*) AS ${ident("n")} FROM ${ident(table)}
  GROUP BY job_type, job_status ORDER BY job_type, job_status`;
}
