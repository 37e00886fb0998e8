import type { Row } from "../db.js";
import { UniqueKeyContentionError } from "../errors.js";
import { JobStatus } from "../job-status.js";
import { cancelledRuns } from "../statements/actions.js";
import {
  completeJob,
  confirmCompleted,
  confirmSucceeded,
  extendLeases,
  firstPull,
  insertClaimedJob,
  insertJobs,
  insertUniqueJob,
  type NewJobRow,
  nextDue,
  releaseJobs,
  rescueExpired,
  selectLiveUnique,
  selectOwnRunning,
  stillLeased,
  updateProgress,
} from "../statements/jobs.js";
import type { InsertJobRows, JobOperations, SqlHooks, UniqueInsertForm } from "./dialect.js";
import { compile, execSql, querySql } from "./sql.js";

/**
 * The engine's operations whose statement is the same on every database
 * (statements/jobs.ts, written against the hooks): each dialect's statements
 * take these as they are and add the ones that differ (the claim, the batched
 * completion). Each runs one statement and turns its result into plain values.
 */
export function commonJobOperations(
  d: SqlHooks,
): Omit<
  JobOperations,
  | "claim"
  | "completeSucceeded"
  | "insertJobs"
  | "insertJobsSync"
  | "insertUniqueJob"
  | "insertUniqueJobSync"
> {
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
    async writeProgress(db, table, lease, progress) {
      return (await execSql(db, d, updateProgress(d, table, lease.id, lease.token, progress)))
        .affectedRows;
    },
    async cancelledRuns(db, table, jobs) {
      const rows = await querySql<{ id: unknown }>(db, d, cancelledRuns(d, table, jobs));
      return rows.map((row) => Number(row.id));
    },
    async release(db, table, jobs, reason) {
      return (await execSql(db, d, releaseJobs(d, table, jobs, reason))).affectedRows;
    },
    async rescueExpired(db, table, jobType, attemptLimit) {
      return (await execSql(db, d, rescueExpired(d, table, jobType, attemptLimit))).affectedRows;
    },
    async nextDue(db, table, jobType, cutoff, flow) {
      const [due] = await querySql<{ wait: unknown }>(
        db,
        d,
        nextDue(d, table, jobType, cutoff, flow),
      );
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

/**
 * Enqueue, where INSERT … RETURNING gives the ids (PostgreSQL, SQLite, MariaDB
 * 10.5+) or where only the driver's insert id does (MySQL 8): that is the
 * first id of a multi-row INSERT, and the rest follow it
 * (auto_increment_increment = 1). `rowsForm`: the dialect's faster multi-row form.
 * `unique`: how the dialect resolves a unique-key conflict (see dialects/unique.ts).
 */
export function insertOperations(
  d: SqlHooks,
  returning: boolean,
  unique: UniqueInsertForm,
  rowsForm?: InsertJobRows,
): Pick<
  JobOperations,
  "insertJobs" | "insertJobsSync" | "insertUniqueJob" | "insertUniqueJobSync" | "insertClaimedJob"
> {
  const statement = (table: string, rows: readonly NewJobRow[]) =>
    insertJobs(d, table, rows, returning, rowsForm);
  const following = (first: unknown, n: number) =>
    Array.from({ length: n }, (_, k) => Number(first) + k);
  return {
    ...(returning && {
      async insertClaimedJob(db, table, row, claim) {
        const [inserted] = await querySql(db, d, insertClaimedJob(d, table, row, claim));
        if (!inserted) throw new Error("INSERT … RETURNING returned no row");
        const { job_status, ...columns } = inserted;
        return {
          id: Number(columns.id),
          claimed: Number(job_status) === JobStatus.Running ? columns : undefined,
        };
      },
    }),
    async insertJobs(db, table, rows) {
      if (returning) {
        const inserted = await querySql<{ id: unknown }>(db, d, statement(table, rows));
        return inserted.map((r) => Number(r.id));
      }
      return following((await execSql(db, d, statement(table, rows))).insertId, rows.length);
    },
    insertJobsSync(db, table, rows) {
      const { text, params } = compile(statement(table, rows), d);
      if (returning) return db.querySync!<{ id: unknown }>(text, params).map((r) => Number(r.id));
      return following(db.execSync!(text, params).insertId, rows.length);
    },
    async insertUniqueJob(db, table, row) {
      const key = keyOf(row);
      const select = selectLiveUnique(d, table, key.jobType, key.uniqueKey, unique);
      for (let tries = 0; tries < UNIQUE_TRIES; tries++) {
        const statement = insertUniqueJob(d, table, key, unique);
        if (unique.returning) {
          const [written] = await querySql<{ id: unknown }>(db, d, statement);
          if (written) return Number(written.id);
        } else {
          const id = Number((await execSql(db, d, statement)).insertId);
          if (id > 0) return id;
        }
        const [kept] = await querySql<{ id: unknown }>(db, d, select);
        if (kept) return Number(kept.id);
        // The job that held the key finished between the two statements: the key is free, insert again.
      }
      throw new UniqueKeyContentionError(key.jobType, key.uniqueKey, UNIQUE_TRIES);
    },
    insertUniqueJobSync(db, table, row) {
      const key = keyOf(row);
      const statement = compile(insertUniqueJob(d, table, key, unique), d);
      const select = compile(selectLiveUnique(d, table, key.jobType, key.uniqueKey, unique), d);
      for (let tries = 0; tries < UNIQUE_TRIES; tries++) {
        if (unique.returning) {
          const [written] = db.querySync!<{ id: unknown }>(statement.text, statement.params);
          if (written) return Number(written.id);
        } else {
          const id = Number(db.execSync!(statement.text, statement.params).insertId);
          if (id > 0) return id;
        }
        const [kept] = db.querySync!<{ id: unknown }>(select.text, select.params);
        if (kept) return Number(kept.id);
      }
      throw new UniqueKeyContentionError(key.jobType, key.uniqueKey, UNIQUE_TRIES);
    },
  };
}

/**
 * Insert-then-read rounds before giving up: a round fails only when the job
 * holding the key finished in between, so a second round nearly always settles it.
 */
const UNIQUE_TRIES = 5;

function keyOf(row: NewJobRow): NewJobRow & { readonly uniqueKey: string } {
  if (row.uniqueKey === undefined) throw new TypeError("insertUniqueJob: the row has no uniqueKey");
  return row as NewJobRow & { readonly uniqueKey: string };
}
