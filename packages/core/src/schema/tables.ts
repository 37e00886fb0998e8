import type { TableNames } from "../dialects/dialect.js";
import { ConfigError } from "../errors.js";
import { assertIdentifier } from "../identifier.js";

/** The seed's table names, and where schema versions are recorded. */
export const DEFAULT_TABLES: TableNames = {
  jobs: "async_job_tab",
  locks: "shedlock_tab",
  schedules: "pq_schedules",
  jobTypes: "pq_job_types",
  jobGroups: "pq_job_groups",
  jobStarts: "pq_job_starts",
  jobStats: "pq_job_stats",
  migrations: "pq_migrations",
};

/** The index that serves the claim, (job_status, job_type, id), named after the job table. */
export const claimIndexName = (jobs: string): string => `${jobs}_claim_idx`;

/** The claim's index since version 4: (job_status, job_type, priority, due time, id). */
export const dueIndexName = (jobs: string): string => `${jobs}_due_idx`;

/** The unique index of unfinished jobs' (job_type, unique_key) since version 4. */
export const uniqueKeyIndexName = (jobs: string): string => `${jobs}_unique_idx`;

/** The job-starts table's indexes: (scope, job_type, started_ms) and (scope, job_type, group_key, started_ms). */
export const startsIndexNames = (starts: string) => ({
  type: `${starts}_type_idx`,
  group: `${starts}_group_idx`,
});

/** The longest job table name: index names derived from it (`<jobs>_claim_idx`) must fit PostgreSQL's 63. */
const MAX_JOBS_TABLE_LENGTH = 50;

/** Fills in defaults and validates every name as a plain identifier. */
export function resolveTableNames(tables: Partial<TableNames> = {}): TableNames {
  const jobs = assertIdentifier("tables.jobs", tables.jobs ?? DEFAULT_TABLES.jobs);
  if (jobs.length > MAX_JOBS_TABLE_LENGTH) {
    throw new ConfigError(
      "tables.jobs",
      `must be at most ${MAX_JOBS_TABLE_LENGTH} characters so the index names derived from it fit (got ${jobs.length}).`,
    );
  }
  return {
    jobs,
    locks: assertIdentifier("tables.locks", tables.locks ?? DEFAULT_TABLES.locks),
    schedules: assertIdentifier("tables.schedules", tables.schedules ?? DEFAULT_TABLES.schedules),
    jobTypes: assertIdentifier("tables.jobTypes", tables.jobTypes ?? DEFAULT_TABLES.jobTypes),
    jobGroups: assertIdentifier("tables.jobGroups", tables.jobGroups ?? DEFAULT_TABLES.jobGroups),
    jobStarts: assertIdentifier("tables.jobStarts", tables.jobStarts ?? DEFAULT_TABLES.jobStarts),
    jobStats: assertIdentifier("tables.jobStats", tables.jobStats ?? DEFAULT_TABLES.jobStats),
    migrations: assertIdentifier(
      "tables.migrations",
      tables.migrations ?? DEFAULT_TABLES.migrations,
    ),
  };
}
