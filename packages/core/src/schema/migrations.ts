import type { Dialect, TableNames } from "../dialects/dialect.js";
import { ident, raw, type SqlFragment, sql } from "../dialects/sql.js";
import { claimIndexName, dueIndexName, startsIndexNames, uniqueKeyIndexName } from "./tables.js";

/**
 * One idempotent schema change. The runner checks the catalog before each
 * step and again after a failure, so a step that a concurrent migrate()
 * already applied (or that an earlier crashed run half-applied) is skipped.
 */
export type MigrationStep =
  | { readonly kind: "createTable"; readonly table: string; readonly ddl: SqlFragment }
  | {
      readonly kind: "addColumn";
      readonly table: string;
      readonly column: string;
      readonly ddl: SqlFragment;
    }
  | {
      readonly kind: "createIndex";
      readonly table: string;
      readonly index: string;
      readonly ddl: SqlFragment;
    }
  /** Makes a column invisible to `SELECT *`; done when the catalog already says INVISIBLE. */
  | {
      readonly kind: "hideColumn";
      readonly table: string;
      readonly column: string;
      readonly ddl: SqlFragment;
    }
  /** A statement that is idempotent by itself (e.g. SET DEFAULT). */
  | { readonly kind: "statement"; readonly ddl: SqlFragment };

/** A numbered schema version. Versions are applied in order and recorded per job table. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  steps(dialect: Dialect, tables: TableNames): MigrationStep[];
}

const addColumn = (table: string, column: string, type: string): MigrationStep => ({
  kind: "addColumn",
  table,
  column,
  ddl: sql`ALTER TABLE ${ident(table)} ADD COLUMN ${ident(column)} ${raw(type)}`,
});

/**
 * Every schema version, oldest first. Compiled into the package: nothing is
 * read from disk at run time. Append only; never edit a released version.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "seed tables",
    // Exactly the Go library's tables, so a database it created is already at version 1.
    steps: (d, t) => [
      { kind: "createTable", table: t.jobs, ddl: d.ddl.createJobTable(t.jobs) },
      { kind: "createTable", table: t.locks, ddl: d.ddl.createLockTable(t.locks) },
    ],
  },
  {
    version: 2,
    name: "leases and persisted retries",
    // Every added column has a default, so the seed's plain
    // INSERT (params, job_type, job_status, start_time, create_time, update_time) keeps working.
    steps: (d, t) => {
      const ty = d.ddl.columnTypes;
      const steps: MigrationStep[] = [
        // Attempts started so far (retries and crash re-runs; `continue` re-runs do not count).
        addColumn(t.jobs, "attempts", ty.intZero),
        // Next eligible run in epoch ms, for sub-second delays and persisted backoff; 0 = start_time alone decides.
        addColumn(t.jobs, "run_at", ty.bigintZero),
        // The current claim: a random token and its deadline in epoch ms (database clock).
        addColumn(t.jobs, "lease_token", ty.varcharNull(64)),
        addColumn(t.jobs, "lease_until", ty.bigintZero),
        // Which worker holds (or last held) the job: host, pid and a random suffix. Nothing secret.
        addColumn(t.jobs, "worker_id", ty.varcharNull(255)),
        // The last failure's message, truncated.
        addColumn(t.jobs, "last_error", ty.varcharNull(2048)),
        // Serves the claim: one status and one job type (equalities on both leading
        // columns), oldest id first, the scan stops after the batch. job_type in
        // the key matters: with (job_status, id) alone, PostgreSQL with stale
        // statistics (a freshly filled table) chose a bitmap scan plus a sort of
        // every pending row per claim: ~10 ms instead of ~0.2 ms on 20k jobs.
        {
          kind: "createIndex",
          table: t.jobs,
          index: claimIndexName(t.jobs),
          ddl: sql`CREATE INDEX ${ident(claimIndexName(t.jobs))} ON ${ident(t.jobs)} (${ident("job_status")}, ${ident("job_type")}, ${ident("id")})`,
        },
      ];
      // The seed's job_status defaults to NULL; a row inserted without a status should still run.
      const setDefault = d.ddl.setColumnDefault(t.jobs, "job_status", "0");
      if (setDefault) steps.push({ kind: "statement", ddl: setDefault });
      return steps;
    },
  },
  {
    version: 3,
    name: "invisible to Go readers",
    // The Go library loads jobs with SELECT * and scans exactly its 7 columns, so any
    // visible added column makes every load fail ("expected 13 destination arguments in
    // Scan, not 7") and its poller runs nothing. INVISIBLE columns are left out of
    // SELECT * and work everywhere else. The Go library is MySQL only: no steps on
    // PostgreSQL and SQLite, nor on a MySQL server too old for INVISIBLE (migrate() warns).
    steps: (d, t) => (d.capabilities.invisibleColumns ? hideAddedColumns(d, t, 3) : []),
  },
  {
    version: 4,
    name: "job control",
    // Priorities, unique keys, results and progress, the due-ordered claim's index, and
    // the schedules table. Defaults everywhere, so the seed's plain INSERT keeps working;
    // on MySQL every new column is INVISIBLE from the start (Go readers see 7 columns).
    steps: (d, t) => {
      const hidden = (type: string) =>
        d.capabilities.invisibleColumns ? `${type} INVISIBLE` : type;
      return [
        ...jobControlColumns(d).map(([column, type]) => addColumn(t.jobs, column, hidden(type))),
        ...d.ddl.generatedJobColumns.map((g) => addColumn(t.jobs, g.column, hidden(g.type))),
        {
          kind: "createIndex",
          table: t.jobs,
          index: dueIndexName(t.jobs),
          ddl: d.ddl.createDueIndex(t.jobs, dueIndexName(t.jobs)),
        },
        {
          kind: "createIndex",
          table: t.jobs,
          index: uniqueKeyIndexName(t.jobs),
          ddl: d.ddl.createUniqueKeyIndex(t.jobs, uniqueKeyIndexName(t.jobs)),
        },
        {
          kind: "createTable",
          table: t.schedules,
          ddl: d.ddl.createSchedulesTable(t.schedules),
        },
      ];
    },
  },
  {
    version: 5,
    name: "flow control",
    // A job's group (a tenant, a customer) for per-group limits; the state a job type and
    // a group share across the cluster (paused, back-off, the claim gate of limited types);
    // and the starts of rate-limited jobs. No index on the job table: a group's running
    // jobs are counted among the type's running rows, which the due index already reaches,
    // so jobs without a group cost nothing more per write.
    steps: (d, t) => {
      const starts = startsIndexNames(t.jobStarts);
      const c = (name: string) => ident(name);
      return [
        ...flowControlColumns(d).map(([column, type]) =>
          addColumn(t.jobs, column, d.capabilities.invisibleColumns ? `${type} INVISIBLE` : type),
        ),
        { kind: "createTable", table: t.jobTypes, ddl: d.ddl.createJobTypesTable(t.jobTypes) },
        { kind: "createTable", table: t.jobGroups, ddl: d.ddl.createJobGroupsTable(t.jobGroups) },
        { kind: "createTable", table: t.jobStarts, ddl: d.ddl.createJobStartsTable(t.jobStarts) },
        {
          kind: "createIndex",
          table: t.jobStarts,
          index: starts.type,
          ddl: sql`CREATE INDEX ${ident(starts.type)} ON ${ident(t.jobStarts)} (${c("scope")}, ${c("job_type")}, ${c("started_ms")})`,
        },
        {
          kind: "createIndex",
          table: t.jobStarts,
          index: starts.group,
          ddl: sql`CREATE INDEX ${ident(starts.group)} ON ${ident(t.jobStarts)} (${c("scope")}, ${c("job_type")}, ${c("group_key")}, ${c("started_ms")})`,
        },
      ];
    },
  },
  {
    version: 6,
    name: "trace context",
    // The W3C trace context of the span that enqueued a job (OpenTelemetry), so the job's
    // run joins the request's trace. NULL unless a span was active at enqueue: nothing to
    // pay without OpenTelemetry. INVISIBLE on MySQL from the start, as versions 4 and 5.
    steps: (d, t) =>
      telemetryColumns(d).map(([column, type]) =>
        addColumn(t.jobs, column, d.capabilities.invisibleColumns ? `${type} INVISIBLE` : type),
      ),
  },
  {
    version: 7,
    name: "finished-job counters",
    // Finished jobs per type, status and minute, added to by each queue process every few
    // seconds: the dashboard's throughput charts read a day of minutes from here instead of
    // every finished row of the job table (no index has update_time). Nothing on the job table.
    steps: (d, t) => [
      { kind: "createTable", table: t.jobStats, ddl: d.ddl.createJobStatsTable(t.jobStats) },
    ],
  },
];

/**
 * The plain columns version 6 added. `trace_context`: the enqueuing span's propagation
 * carrier as compact JSON (W3C `traceparent`, and `tracestate` when it fits).
 */
export function telemetryColumns(d: Dialect): ReadonlyArray<readonly [string, string]> {
  return [["trace_context", d.ddl.columnTypes.varcharNull(255)]];
}

/** The plain columns version 5 added. `group_key`: the job's group, for per-group limits. */
export function flowControlColumns(d: Dialect): ReadonlyArray<readonly [string, string]> {
  return [["group_key", d.ddl.columnTypes.varcharNull(255)]];
}

/**
 * The plain columns version 4 added. `priority`: lower runs first. `unique_key`: at
 * most one unfinished job per (job_type, unique_key). `result` and `progress`: JSON
 * a handler returned or reported.
 */
export function jobControlColumns(d: Dialect): ReadonlyArray<readonly [string, string]> {
  const ty = d.ddl.columnTypes;
  return [
    ["priority", ty.intZero],
    ["unique_key", ty.varcharNull(255)],
    ["result", ty.textNull],
    ["progress", ty.textNull],
  ];
}

/**
 * The plain columns the queue added up to schema `version`, with the types it gave
 * them: a MODIFY must restate the type, and must not change it. (Version 4's
 * generated columns are in {@link hideAddedColumns}.)
 */
export function addedJobColumns(
  d: Dialect,
  version: number,
): ReadonlyArray<readonly [string, string]> {
  const ty = d.ddl.columnTypes;
  return [
    ...(version >= 6 ? telemetryColumns(d) : []),
    ...(version >= 5 ? flowControlColumns(d) : []),
    ...(version >= 4 ? jobControlColumns(d) : []),
    ["attempts", ty.intZero],
    ["run_at", ty.bigintZero],
    ["lease_token", ty.varcharNull(64)],
    ["lease_until", ty.bigintZero],
    ["worker_id", ty.varcharNull(255)],
    ["last_error", ty.varcharNull(2048)],
  ];
}

/**
 * Each column added up to schema `version` made invisible (each checked in the catalog
 * first): version 3's steps, and migrate()'s re-check on every run. From version 4 on
 * that includes the generated columns, restating their expression: version 4 creates
 * them INVISIBLE, but an ORM's migration (drizzle-kit, TypeORM, Sequelize) that made
 * the columns first cannot say INVISIBLE, and the step adding them is then skipped.
 */
export function hideAddedColumns(d: Dialect, t: TableNames, version: number): MigrationStep[] {
  if (!d.ddl.hideColumn) return [];
  const hide = d.ddl.hideColumn;
  const generated =
    version >= 4 ? d.ddl.generatedJobColumns.map((g) => [g.column, g.type] as const) : [];
  return [...addedJobColumns(d, version), ...generated].map(([column, type]) => ({
    kind: "hideColumn",
    table: t.jobs,
    column,
    ddl: hide(t.jobs, column, type),
  }));
}

/** The newest schema version this build knows. */
export const LATEST_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;
