import { JobStatus } from "../job-status.js";
import type { SqlHooks, SucceededRun } from "./dialect.js";
import { leaseFence } from "./lease-fence.js";
import { ident, join, raw, type SqlFragment, sql } from "./sql.js";

/**
 * Batched completion of successful runs: one statement for many jobs, each
 * fenced by its own lease token ({@link leaseFence}). With `returning`, rows
 * `{ id, lease_token }` are the runs completed (a stale and a fresh run of one
 * job in one batch are told apart by token); a pair missing from them lost its lease.
 * The row keeps the token of the claim that completed it, so that without
 * RETURNING `confirmSucceeded` (statements/jobs.ts) can tell this run's write
 * from another's. Shared by the dialects' `completeSucceeded` operations.
 *
 * Runs that returned a result get it through one `CASE WHEN id = … AND
 * lease_token = … THEN … END` (three more parameters each: the token picks
 * the run when a stale and a fresh run of one job share a batch); the others
 * keep their column (`ELSE result`). A
 * batch without results has no such clause: the hot path is the statement it
 * was. The CASE is the same text on the three databases, and kept every
 * success in one round trip: a drain of 20,000 jobs returning a small result
 * ran as fast as one without (see docs/results.md), where writing each
 * result by its own statement would cost a round trip and a commit per job.
 */
export function completeSucceededStatement(
  d: SqlHooks,
  table: string,
  jobs: readonly SucceededRun[],
  returning: boolean,
): SqlFragment {
  const withResult = jobs.filter(
    (j): j is SucceededRun & { result: string } => j.result !== undefined,
  );
  const results =
    withResult.length === 0
      ? sql``
      : sql`, result = CASE ${join(
          withResult.map(
            (j) => sql`WHEN id = ${j.id} AND lease_token = ${j.token} THEN ${j.result}`,
          ),
          " ",
        )} ELSE result END`;
  return sql`UPDATE ${ident(table)} SET job_status = ${JobStatus.Success}, lease_until = 0, update_time = ${raw(d.nowSec)}${results}
  WHERE ${leaseFence(jobs)} AND job_status = ${JobStatus.Running}${raw(returning ? " RETURNING id, lease_token" : "")}`;
}
