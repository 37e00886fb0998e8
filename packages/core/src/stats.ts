import type { DB } from "./db.js";
import type { TableNames } from "./dialects/dialect.js";
import { querySql, resolveDialect } from "./dialects/index.js";
import type { JobStatus } from "./job-status.js";
import { resolveTableNames } from "./schema/tables.js";
import { assertSchemaCurrent } from "./schema/version.js";
import { countByTypeAndStatus } from "./statements/stats.js";

/** Options of {@link countJobs}. */
export interface CountJobsOptions {
  /** Table names, as the queue's `tables` option; default the seed's `async_job_tab`. */
  readonly tables?: Partial<TableNames>;
}

/** How many jobs of one type are in one status: a row of {@link countJobs}. */
export interface JobCount {
  /** The job type's integer. */
  readonly jobType: number;
  /** The status (a {@link JobStatus} code; a code written by other software is passed through). */
  readonly status: JobStatus;
  /** Jobs of this type in this status, at least 1. */
  readonly count: number;
}

/**
 * Counts the jobs of the job table by job type and status, as one snapshot
 * read: a row per (job type, status) pair that has jobs, ordered by job type,
 * then status (pairs with no job are left out). For dashboards, the CLI's
 * `stats` and monitoring scripts; it visits every job once (from the claim
 * index), so poll it every few seconds at most on a large table. Throws
 * `SchemaVersionError` when the tables were not migrated; database
 * errors pass through.
 */
export async function countJobs(db: DB, options: CountJobsOptions = {}): Promise<JobCount[]> {
  const tables = resolveTableNames(options.tables);
  const dialect = await resolveDialect(db);
  await assertSchemaCurrent(db, dialect, tables);
  const rows = await querySql(db, dialect, countByTypeAndStatus(dialect, tables.jobs));
  return rows.map((row) => ({
    jobType: Number(row.job_type),
    status: Number(row.job_status) as JobStatus,
    count: Number(row.n),
  }));
}
