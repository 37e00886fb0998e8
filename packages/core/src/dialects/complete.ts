import { JobStatus } from "../job-status.js";
import type { JobLease, SqlHooks } from "./dialect.js";
import { ident, join, raw, type SqlFragment, sql } from "./sql.js";

/**
 * Batched completion of successful runs: one statement for many jobs, each
 * fenced by its own (id, lease token) pair. `id IN (…)` lets every database
 * use the primary key; the pair list is the fence. With `returning`, rows
 * `{ id, lease_token }` are the runs completed (a stale and a fresh run of one
 * job in one batch are told apart by token); a pair missing from them lost its lease.
 * The row keeps the token of the claim that completed it, so that without
 * RETURNING `confirmSucceeded` (statements/jobs.ts) can tell this run's write
 * from another's. Shared by the dialects' `completeSucceeded` operations.
 */
export function completeSucceededStatement(
  d: SqlHooks,
  table: string,
  jobs: readonly JobLease[],
  returning: boolean,
): SqlFragment {
  const pairs = join(jobs.map((j) => sql`(${j.id}, ${j.token})`));
  return sql`UPDATE ${ident(table)} SET job_status = ${JobStatus.Success}, lease_until = 0, update_time = ${raw(d.nowSec)}
  WHERE id IN (${jobs.map((j) => j.id)}) AND job_status = ${JobStatus.Running} AND (id, lease_token) IN (${pairs})${raw(returning ? " RETURNING id, lease_token" : "")}`;
}
