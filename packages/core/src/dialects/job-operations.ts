import type { Row } from "../db.js";
import {
  completeJob,
  confirmCompleted,
  confirmSucceeded,
  extendLeases,
  firstPull,
  nextDue,
  releaseJobs,
  rescueExpired,
  selectOwnRunning,
  stillLeased,
} from "../statements/jobs.js";
import type { JobOperations, SqlHooks } from "./dialect.js";
import { execSql, querySql } from "./sql.js";

/**
 * The engine's operations whose statement is the same on every database
 * (statements/jobs.ts, written against the hooks): each dialect's statements
 * take these as they are and add the ones that differ (the claim, the batched
 * completion). Each runs one statement and turns its result into plain values.
 */
export function commonJobOperations(
  d: SqlHooks,
): Omit<JobOperations, "claim" | "completeSucceeded"> {
  return {
    async confirmSucceeded(db, table, jobs) {
      const rows = await querySql<{ id: unknown; lease_token: unknown }>(
        db,
        d,
        confirmSucceeded(d, table, jobs),
      );
      return rows.map((row) => ({ id: Number(row.id), token: String(row.lease_token) }));
    },
    async complete(db, table, completion) {
      return (await execSql(db, d, completeJob(d, table, completion))).affectedRows;
    },
    async confirmCompleted(db, table, completion) {
      return (await querySql(db, d, confirmCompleted(d, table, completion))).length > 0;
    },
    async extendLeases(db, table, ids, tokens, leaseMs) {
      return (await execSql(db, d, extendLeases(d, table, ids, tokens, leaseMs))).affectedRows;
    },
    async stillLeased(db, table, ids, tokens) {
      const rows = await querySql<{ id: unknown }>(db, d, stillLeased(d, table, ids, tokens));
      return rows.map((row) => Number(row.id));
    },
    async release(db, table, jobs, reason) {
      return (await execSql(db, d, releaseJobs(d, table, jobs, reason))).affectedRows;
    },
    async rescueExpired(db, table, jobType, attemptLimit) {
      return (await execSql(db, d, rescueExpired(d, table, jobType, attemptLimit))).affectedRows;
    },
    async nextDue(db, table, jobType, cutoff) {
      const [due] = await querySql<{ wait: unknown }>(db, d, nextDue(d, table, jobType, cutoff));
      return due?.wait === null || due?.wait === undefined
        ? Number.POSITIVE_INFINITY
        : Number(due.wait);
    },
    ownRunning: (db, table, jobType, workerId): Promise<Row[]> =>
      querySql(db, d, selectOwnRunning(d, table, jobType, workerId)),
    async firstPull(db, table, jobType, days) {
      const [row] = await querySql<{ stale_before: unknown; below_id: unknown; skipped: unknown }>(
        db,
        d,
        firstPull(d, table, jobType, days),
      );
      return {
        cutoff: { beforeMs: Number(row?.stale_before ?? 0), belowId: Number(row?.below_id ?? 0) },
        skipped: Number(row?.skipped ?? 0),
      };
    },
  };
}
