// MikroORM's description of the queue's tables, as `EntitySchema`s. MikroORM is imported for
// types only: the caller passes its `EntitySchema` class, so this package never loads MikroORM.

import type { EntitySchema } from "@mikro-orm/core";
import type { DialectFamily, TableNames } from "@persistent-queue/core";
import { resolveTableNames } from "@persistent-queue/core/adapter";

/**
 * A BIGINT (or INTEGER on SQLite) column of the row types: a string on MySQL and PostgreSQL,
 * as their drivers return it, a number on SQLite.
 */
export type BigIntColumn = string | number;

/** A row of the job table (`async_job_tab`). */
export interface AsyncJobRow {
  id: BigIntColumn;
  params: string;
  job_type: number;
  job_status: number | null;
  start_time: BigIntColumn | null;
  create_time: BigIntColumn;
  update_time: BigIntColumn;
  attempts: number;
  run_at: BigIntColumn;
  lease_token: string | null;
  lease_until: BigIntColumn;
  worker_id: string | null;
  last_error: string | null;
  /** Lower runs first. */
  priority: number;
  /** At most one unfinished job per (job_type, unique_key). */
  unique_key: string | null;
  /** The JSON a handler returned. */
  result: string | null;
  /** The JSON progress a handler reported. */
  progress: string | null;
  /** MySQL/MariaDB only (generated, read-only): the due time in epoch ms. */
  due_ms?: BigIntColumn | null;
  /** MySQL/MariaDB only (generated, read-only): `unique_key` while the job is unfinished. */
  unique_live?: string | null;
  /** The job's group (a tenant, a customer), for per-group limits. */
  group_key: string | null;
  /** The enqueuing span's trace context (OpenTelemetry), as compact JSON; null: none. */
  trace_context: string | null;
}

/** A row of the ShedLock table (`shedlock_tab`); lock times are Dates (text on SQLite). */
export interface ShedLockRow {
  lock_name: string;
  lock_until: Date | string;
  locked_at: Date | string;
  locked_by: string;
}

/** A row of the schedules table (`pq_schedules`). */
export interface ScheduleRow {
  scope: string;
  name: string;
  cron: string;
  tz: string | null;
  job_type: number;
  params: string;
  priority: number;
  backfill_ms: BigIntColumn;
  last_tick_ms: BigIntColumn;
  next_tick_ms: BigIntColumn;
  source: string;
  updated_at: BigIntColumn;
}

/** A row of the job-types table (`pq_job_types`): state a job type shares across the cluster. */
export interface JobTypeRow {
  scope: string;
  job_type: number;
  /** 1 while the type is paused, else 0. */
  paused: number;
  claim_seq: BigIntColumn;
  backoff_until: BigIntColumn;
  updated_at: BigIntColumn;
}

/** A row of the job-groups table (`pq_job_groups`). */
export interface JobGroupRow {
  scope: string;
  job_type: number;
  group_key: string;
  backoff_until: BigIntColumn;
  updated_at: BigIntColumn;
}

/** A row of the job-starts table (`pq_job_starts`): one start of a rate-limited job. */
export interface JobStartRow {
  id: BigIntColumn;
  scope: string;
  job_type: number;
  group_key: string | null;
  started_ms: BigIntColumn;
}

/** A row of the job-stats table (`pq_job_stats`): finished jobs of a type and status in one minute. */
export interface JobStatRow {
  scope: string;
  job_type: number;
  /** The status the jobs ended in (1 success, 2 failed). */
  job_status: number;
  /** The minute's start, in unix seconds. */
  minute_start: BigIntColumn;
  finished: BigIntColumn;
}

/** MikroORM's `EntitySchema` class (`import { EntitySchema } from "@mikro-orm/core"`). */
export type EntitySchemaClass = new <T>(
  // `never`: MikroORM's own parameter type (EntitySchemaMetadata) is too deep to restate;
  // each schema is built from a QueueEntityMeta.
  meta: never,
) => EntitySchema<T>;

/** What {@link createQueueEntitySchemas} hands `new EntitySchema(…)`: names, properties, indexes. */
export interface QueueEntityMeta {
  readonly name: string;
  readonly tableName: string;
  readonly properties: Record<string, Record<string, unknown>>;
  readonly indexes?: Record<string, unknown>[];
  readonly uniques?: Record<string, unknown>[];
}

/** The schemas {@link createQueueEntitySchemas} returns. */
export interface QueueEntitySchemas {
  /** The job table (`async_job_tab`, `tables.jobs`). */
  readonly AsyncJob: EntitySchema<AsyncJobRow>;
  /** The ShedLock table (`shedlock_tab`, `tables.locks`). */
  readonly ShedLock: EntitySchema<ShedLockRow>;
  /** The schedules table (`pq_schedules`, `tables.schedules`). */
  readonly Schedule: EntitySchema<ScheduleRow>;
  /** The job-types table (`pq_job_types`, `tables.jobTypes`). */
  readonly JobType: EntitySchema<JobTypeRow>;
  /** The job-groups table (`pq_job_groups`, `tables.jobGroups`). */
  readonly JobGroup: EntitySchema<JobGroupRow>;
  /** The job-starts table (`pq_job_starts`, `tables.jobStarts`). */
  readonly JobStart: EntitySchema<JobStartRow>;
  /** The job-stats table (`pq_job_stats`, `tables.jobStats`). */
  readonly JobStat: EntitySchema<JobStatRow>;
}

/** A property of an `EntitySchema`, as MikroORM takes it. */
type Prop = Record<string, unknown>;

/** Column types per family: the seed's MySQL types, and what core's PostgreSQL and SQLite DDL use for them. */
const TYPES = {
  // int(11): the seed's display width (MariaDB would print an unsigned int as int(10)).
  mysql: { int: "int", status: "tinyint", sec: "int(11)", big: "bigint", json: "mediumtext" },
  postgres: { int: "integer", status: "smallint", sec: "bigint", big: "bigint", json: "text" },
  sqlite: { int: "integer", status: "integer", sec: "integer", big: "integer", json: "text" },
} as const;

/** Job statuses a unique key holds in (init, continue, retry, running): core's unique index. */
const LIVE_STATUSES = "0, 3, 4, 5";

/**
 * MikroORM `EntitySchema`s for the queue's seven tables (schema version 7),
 * for one database family (column types differ per database, as in core's
 * DDL). Add them to your `entities` to query the tables with MikroORM and so
 * that `orm.schema.update()` and the migrations generator know them (and do
 * not propose dropping them); create the tables with `queue.migrate()`, or
 * with MikroORM and then `queue.migrate()` (see the README for what MikroORM
 * cannot say). No decorators: no `experimentalDecorators` or reflect-metadata.
 *
 * Pass MikroORM's `EntitySchema` class: the schemas are built with your copy
 * of MikroORM, and this package stays free of a run-time import of it.
 * `tables` takes the same custom names as core's `tables` option.
 */
export function createQueueEntitySchemas(
  EntitySchemaCtor: EntitySchemaClass,
  family: DialectFamily,
  tables: Partial<TableNames> = {},
): QueueEntitySchemas {
  const names = resolveTableNames(tables);
  const schema = <T>(meta: QueueEntityMeta): EntitySchema<T> =>
    new EntitySchemaCtor<T>(meta as never);
  const t = TYPES[family];
  const mysql = family === "mysql";
  const sqlite = family === "sqlite";
  const col = (columnType: string, more: Prop = {}): Prop => ({
    type: /int/.test(columnType) ? "number" : "string",
    columnType,
    ...more,
  });
  const text = (length: number, more: Prop = {}) =>
    col(sqlite ? "text" : `varchar(${length})`, more);
  const nullableText = (length: number, more: Prop = {}) =>
    text(length, { nullable: true, defaultRaw: "NULL", ...more });
  // Raw, so that PostgreSQL keeps a plain 0 (MikroORM quotes a BIGINT's default: '0'::bigint).
  const zero = (columnType: string, more: Prop = {}) =>
    col(columnType, { defaultRaw: "0", ...more });
  // MySQL: the columns core adds after the seed's are INVISIBLE (a Go reader's SELECT * keeps
  // the seed's columns); MikroORM appends `extra` to the column's DDL, and compares it.
  const invisible: Prop = mysql ? { extra: "invisible" } : {};
  // MikroORM makes an integer primary key column UNSIGNED on MySQL unless told otherwise.
  const signed: Prop = mysql ? { unsigned: false } : {};
  const unsigned: Prop = mysql ? { unsigned: true } : {};
  // MySQL: the job, job-groups and job-starts tables' group_key is utf8mb4_unicode_ci in core,
  // and the claim compares them (MySQL refuses a mix of collations).
  const unicodeCi: Prop = mysql ? { collation: "utf8mb4_unicode_ci" } : {};
  const id = (autoincrement: boolean): Prop =>
    col(sqlite ? "integer" : "bigint", {
      primary: true,
      autoincrement,
      ...unsigned,
      // As core's: an identity column, not bigserial's sequence default.
      ...(family === "postgres" ? { generated: "by default as identity" } : {}),
    });
  const pk = (columnType: Prop): Prop => ({ ...columnType, primary: true });
  const now = mysql
    ? "current_timestamp"
    : family === "postgres"
      ? "now()"
      : "(strftime('%Y-%m-%d %H:%M:%f', 'now'))";
  const time = mysql ? "timestamp" : family === "postgres" ? "timestamptz(3)" : "text";
  const lockTime = (more: Prop = {}) =>
    col(time, { type: sqlite ? "string" : "Date", defaultRaw: now, ...more });
  const generatedInvisible: Prop = { ...invisible, ignoreSchemaChanges: ["extra"] };
  const mysqlComment = (comment: string): Prop => (mysql ? { comment } : {});

  const AsyncJob = schema<AsyncJobRow>({
    name: "PersistentQueueAsyncJob",
    tableName: names.jobs,
    properties: {
      id: id(true),
      params: text(4096, { default: "", ...unicodeCi }),
      job_type: col(t.int),
      job_status: col(t.status, {
        nullable: true,
        default: 0,
        ...mysqlComment("0:init, 1:success, 2:failed, 3:continue, 4:retry, 5:running"),
      }),
      start_time: col(t.sec, { ...unsigned, nullable: true, defaultRaw: "0" }),
      create_time: col(t.sec, unsigned),
      update_time: col(t.sec, unsigned),
      attempts: zero(t.int, invisible),
      run_at: zero(t.big, invisible),
      lease_token: nullableText(64, invisible),
      lease_until: zero(t.big, invisible),
      worker_id: nullableText(255, invisible),
      last_error: nullableText(2048, invisible),
      priority: zero(t.int, invisible),
      unique_key: nullableText(255, invisible),
      // PostgreSQL keeps no `DEFAULT NULL` on a text column.
      result: col(t.json, {
        nullable: true,
        ...(family === "postgres" ? {} : { defaultRaw: "NULL" }),
        ...invisible,
      }),
      progress: col(t.json, {
        nullable: true,
        ...(family === "postgres" ? {} : { defaultRaw: "NULL" }),
        ...invisible,
      }),
      // MySQL/MariaDB have no partial or expression index: the due and unique-key indexes are
      // on these VIRTUAL columns.
      ...(mysql
        ? {
            // No NULL/NOT NULL: MariaDB refuses either on a generated column, and MikroORM
            // writes neither when the property is not nullable. MariaDB reports the column's
            // extra as "VIRTUAL GENERATED, INVISIBLE", which MikroORM reads back as ", INVISIBLE":
            // not compared, or it would propose the column again on every run.
            due_ms: col("bigint", {
              ...generatedInvisible,
              generated: "(GREATEST(COALESCE(`start_time`, 0) * 1000, `run_at`)) virtual",
            }),
            unique_live: col("varchar(255)", {
              ...generatedInvisible,
              generated: `(CASE WHEN \`job_status\` IN (${LIVE_STATUSES}) THEN \`unique_key\` END) virtual`,
            }),
          }
        : {}),
      group_key: nullableText(255, { ...unicodeCi, ...invisible }),
      trace_context: nullableText(255, invisible),
    },
    indexes: [
      { name: `${names.jobs}_claim_idx`, properties: ["job_status", "job_type", "id"] },
      mysql
        ? {
            name: `${names.jobs}_due_idx`,
            properties: ["job_status", "job_type", "priority", "due_ms", "id"],
          }
        : {
            // On the due time, an expression: written out as core's DDL writes it.
            name: `${names.jobs}_due_idx`,
            expression:
              family === "postgres"
                ? `CREATE INDEX ${names.jobs}_due_idx ON ${names.jobs} (job_status, job_type, priority, GREATEST(COALESCE(start_time, 0) * 1000, run_at), id)`
                : `CREATE INDEX "${names.jobs}_due_idx" ON "${names.jobs}" ("job_status", "job_type", "priority", (max(COALESCE("start_time", 0) * 1000, "run_at")), "id")`,
          },
    ],
    uniques: [
      mysql
        ? { name: `${names.jobs}_unique_idx`, properties: ["job_type", "unique_live"] }
        : {
            // Partial: finished jobs and jobs without a key are not in it.
            name: `${names.jobs}_unique_idx`,
            properties: ["job_type", "unique_key"],
            where: `unique_key IS NOT NULL AND job_status IN (${LIVE_STATUSES})`,
          },
    ],
  });

  const ShedLock = schema<ShedLockRow>({
    name: "PersistentQueueShedLock",
    tableName: names.locks,
    properties: {
      lock_name: pk(text(64, mysqlComment("lock key"))),
      lock_until: lockTime({
        // Not compared: MariaDB reports `on update current_timestamp()`, MySQL 8
        // `DEFAULT_GENERATED on update CURRENT_TIMESTAMP`; either way a perpetual diff.
        ...(mysql ? { extra: "on update current_timestamp", ignoreSchemaChanges: ["extra"] } : {}),
        ...mysqlComment("lock expiry time"),
      }),
      locked_at: lockTime(mysqlComment("lock time")),
      locked_by: text(255, mysqlComment("who lock")),
    },
  });

  const Schedule = schema<ScheduleRow>({
    name: "PersistentQueueSchedule",
    tableName: names.schedules,
    properties: {
      scope: pk(text(64)),
      name: pk(text(128)),
      cron: text(128),
      tz: nullableText(64),
      job_type: col(t.int),
      params: col("text"),
      priority: zero(t.int),
      backfill_ms: zero(t.big),
      last_tick_ms: zero(t.big),
      next_tick_ms: zero(t.big),
      source: text(16),
      updated_at: col(t.big),
    },
  });

  const JobType = schema<JobTypeRow>({
    name: "PersistentQueueJobType",
    tableName: names.jobTypes,
    properties: {
      scope: pk(text(64)),
      job_type: pk(col(t.int, signed)),
      paused: zero(t.int),
      claim_seq: zero(t.big),
      backoff_until: zero(t.big),
      updated_at: zero(t.big),
    },
  });

  const JobGroup = schema<JobGroupRow>({
    name: "PersistentQueueJobGroup",
    tableName: names.jobGroups,
    properties: {
      scope: pk(text(64, unicodeCi)),
      job_type: pk(col(t.int, signed)),
      group_key: pk(text(255, unicodeCi)),
      backoff_until: zero(t.big),
      updated_at: zero(t.big),
    },
  });

  const JobStart = schema<JobStartRow>({
    name: "PersistentQueueJobStart",
    tableName: names.jobStarts,
    properties: {
      // SQLite: core's id is a plain rowid (INTEGER PRIMARY KEY), without AUTOINCREMENT.
      id: id(!sqlite),
      scope: text(64, unicodeCi),
      job_type: col(t.int),
      group_key: nullableText(255, unicodeCi),
      started_ms: col(t.big),
    },
    indexes: [
      { name: `${names.jobStarts}_type_idx`, properties: ["scope", "job_type", "started_ms"] },
      {
        name: `${names.jobStarts}_group_idx`,
        properties: ["scope", "job_type", "group_key", "started_ms"],
      },
    ],
  });

  const JobStat = schema<JobStatRow>({
    name: "PersistentQueueJobStat",
    tableName: names.jobStats,
    properties: {
      scope: pk(text(64)),
      job_type: pk(col(t.int, signed)),
      job_status: pk(col(t.int, signed)),
      minute_start: pk(col(t.big, signed)),
      finished: zero(t.big),
    },
  });

  return { AsyncJob, ShedLock, Schedule, JobType, JobGroup, JobStart, JobStat };
}
