// TypeORM's own description of the queue's tables, and a migration class for
// TypeORM's migration runner. TypeORM is imported for types only: the caller
// passes its `EntitySchema` class, so this package never loads TypeORM itself.
import { type DialectFamily, migrate, type TableNames } from "@persistent-queue/core";
import { resolveTableNames } from "@persistent-queue/core/adapter";
import type {
  EntitySchema,
  EntitySchemaColumnOptions,
  EntitySchemaOptions,
  MigrationInterface,
  QueryRunner,
} from "typeorm";
import { fromTypeORM } from "./typeorm.js";

/** A row of the job table (`async_job_tab`) as TypeORM maps it. BIGINT columns are strings on MySQL and PostgreSQL. */
export interface AsyncJobRow {
  id: string | number;
  params: string;
  job_type: number;
  job_status: number | null;
  start_time: string | number | null;
  create_time: string | number;
  update_time: string | number;
  attempts: number;
  run_at: string | number;
  lease_token: string | null;
  lease_until: string | number;
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
  due_ms?: string | number | null;
  /** MySQL/MariaDB only (generated, read-only): `unique_key` while the job is unfinished. */
  unique_live?: string | null;
  /** The job's group (a tenant, a customer), for per-group limits. */
  group_key: string | null;
  /** The enqueuing span's trace context (OpenTelemetry), as compact JSON; null: none. */
  trace_context: string | null;
}

/** A row of the schedules table (`pq_schedules`). BIGINT columns are strings on MySQL and PostgreSQL. */
export interface ScheduleRow {
  scope: string;
  name: string;
  cron: string;
  tz: string | null;
  job_type: number;
  params: string;
  priority: number;
  backfill_ms: string | number;
  last_tick_ms: string | number;
  next_tick_ms: string | number;
  source: string;
  updated_at: string | number;
}

/** A row of the job-types table (`pq_job_types`): state a job type shares across the cluster. BIGINT columns are strings on MySQL and PostgreSQL. */
export interface JobTypeRow {
  /** The job table the row belongs to. */
  scope: string;
  job_type: number;
  /** 1 while the type is paused, else 0. */
  paused: number;
  /** Bumped by every claim of a type with a cluster-wide limit (the claims' gate). */
  claim_seq: string | number;
  /** Epoch ms until which the type's claims back off. */
  backoff_until: string | number;
  /** Epoch ms of the row's last change. */
  updated_at: string | number;
}

/** A row of the job-groups table (`pq_job_groups`): state a group of a job type shares across the cluster. BIGINT columns are strings on MySQL and PostgreSQL. */
export interface JobGroupRow {
  /** The job table the row belongs to. */
  scope: string;
  job_type: number;
  /** The group (a tenant, a customer), as in the job table's `group_key`. */
  group_key: string;
  /** Epoch ms until which the group's jobs back off. */
  backoff_until: string | number;
  /** Epoch ms of the row's last change. */
  updated_at: string | number;
}

/** A row of the job-starts table (`pq_job_starts`): one start of a rate-limited job. BIGINT columns are strings on MySQL and PostgreSQL. */
export interface JobStartRow {
  id: string | number;
  /** The job table the row belongs to. */
  scope: string;
  job_type: number;
  /** The started job's group, if it had one. */
  group_key: string | null;
  /** Epoch ms (database clock) when the job was claimed. */
  started_ms: string | number;
}

/** A row of the job-stats table (`pq_job_stats`): finished jobs of a type and status in one minute. BIGINT columns are strings on MySQL and PostgreSQL. */
export interface JobStatRow {
  /** The job table the row belongs to. */
  scope: string;
  job_type: number;
  /** The status the jobs ended in (1 success, 2 failed). */
  job_status: number;
  /** The minute's start, in unix seconds. */
  minute_start: string | number;
  /** How many jobs ended so in that minute (each queue process adds its own). */
  finished: string | number;
}

/** A row of the ShedLock table (`shedlock_tab`); lock times are Dates (text on SQLite). */
export interface ShedLockRow {
  lock_name: string;
  lock_until: Date | string;
  locked_at: Date | string;
  locked_by: string;
}

/** The database a set of entity schemas is written for: a dialect family or a DataSource `type`. */
export type QueueSchemaTarget = DialectFamily | "mariadb" | "better-sqlite3" | "aurora-mysql";

type Col = EntitySchemaColumnOptions;
/** Column types per family: the seed's MySQL types, and what core's PostgreSQL and SQLite DDL use for them. */
const TYPES = {
  mysql: {
    id: "bigint",
    text: "varchar",
    int: "int",
    status: "tinyint",
    sec: "int",
    big: "bigint",
    time: "timestamp",
    json: "mediumtext",
    longText: "text",
  },
  postgres: {
    id: "bigint",
    text: "varchar",
    int: "integer",
    status: "smallint",
    sec: "bigint",
    big: "bigint",
    time: "timestamptz",
    json: "text",
    longText: "text",
  },
  sqlite: {
    id: "integer",
    text: "text",
    int: "integer",
    status: "integer",
    sec: "integer",
    big: "integer",
    time: "text",
    json: "text",
    longText: "text",
  },
} as const;

const familyOf = (target: QueueSchemaTarget): DialectFamily =>
  target === "mariadb" || target === "aurora-mysql"
    ? "mysql"
    : target === "better-sqlite3"
      ? "sqlite"
      : target;

/** TypeORM's `EntitySchema` class (`import { EntitySchema } from "typeorm"`). */
export type EntitySchemaClass = new <T>(options: EntitySchemaOptions<T>) => EntitySchema<T>;

/** The schemas {@link createQueueEntitySchemas} returns. */
export interface QueueEntitySchemas {
  /** The job table (`async_job_tab`). */
  readonly AsyncJob: EntitySchema<AsyncJobRow>;
  /** The ShedLock table (`shedlock_tab`). */
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

/** Job statuses a unique key holds in (init, continue, retry, running): core's unique index. */
const LIVE_STATUSES = "0, 3, 4, 5";

/**
 * The unique-key index's predicate, as TypeORM compares it with the catalog's: PostgreSQL
 * reports it normalised (pg_get_expr), SQLite as written in the index's DDL.
 */
const UNIQUE_KEY_PREDICATE = {
  postgres: `((unique_key IS NOT NULL) AND (job_status = ANY (ARRAY[${LIVE_STATUSES}])))`,
  sqlite: `"unique_key" IS NOT NULL AND "job_status" IN (${LIVE_STATUSES})`,
} as const;

/**
 * MySQL/MariaDB: the VIRTUAL columns core's version 4 adds (MariaDB has no expression or
 * partial index): the due time in epoch ms, and the unique key while the job is unfinished.
 */
const GENERATED_COLUMNS = {
  due_ms: "GREATEST(COALESCE(`start_time`, 0) * 1000, `run_at`)",
  unique_live: `CASE WHEN \`job_status\` IN (${LIVE_STATUSES}) THEN \`unique_key\` END`,
} as const;

/**
 * TypeORM `EntitySchema`s for the queue's seven tables (schema version 7), for
 * one database family (column types differ per database, as in core's DDL). Add them to
 * your DataSource's `entities` to query the tables with repositories and to
 * let `typeorm migration:generate` know them; create the tables with
 * {@link PersistentQueueSchema1764000000000} or `queue.migrate()`.
 * No decorators, so no `experimentalDecorators`/`emitDecoratorMetadata` needed.
 *
 * Pass TypeORM's `EntitySchema` class: the schemas are built with your copy of
 * TypeORM, and this package stays free of a run-time import of it.
 */
export function createQueueEntitySchemas(
  EntitySchemaCtor: EntitySchemaClass,
  target: QueueSchemaTarget,
  tables: Partial<TableNames> = {},
): QueueEntitySchemas {
  const family = familyOf(target);
  const names = resolveTableNames(tables);
  const t = TYPES[family];
  const mysql = family === "mysql";
  // EntitySchema has no display width: synchronize() makes the seed's int(11) unsigned int(10) unsigned (cosmetic).
  const unsigned: Partial<Col> = mysql ? { unsigned: true } : {};
  const varchar = (length: number): Partial<Col> => (family === "sqlite" ? {} : { length });
  // An explicit DEFAULT NULL, as core writes it; TypeORM reads `default: null` as "no default".
  const nullDefault: Partial<Col> = mysql ? { default: null } : { default: () => "NULL" };
  const nullableText = (length: number): Col => ({
    type: t.text,
    ...varchar(length),
    nullable: true,
    ...nullDefault,
  });
  // PostgreSQL's own constraint names, as core's DDL gets them, instead of TypeORM's hashed "PK_…".
  const pk = (table: string): Partial<Col> =>
    family === "postgres" ? { primaryKeyConstraintName: `${table}_pkey` } : {};
  const zero = (type: Col["type"]): Col => ({ type, default: 0 });
  // MySQL: core's job, job-groups and job-starts tables are utf8mb4_unicode_ci, and the claim
  // compares group_key across them (MySQL refuses a mix of collations): said per column, since
  // EntitySchema has no table collation (TypeORM does not compare collations, so no churn).
  const unicodeCi: Partial<Col> = mysql ? { collation: "utf8mb4_unicode_ci" } : {};
  const now =
    family === "mysql"
      ? "CURRENT_TIMESTAMP"
      : family === "postgres"
        ? "now()"
        : "strftime('%Y-%m-%d %H:%M:%f', 'now')";
  const lockTime: Col = {
    type: t.time,
    ...(family === "postgres" ? { precision: 3 } : {}),
    default: () => now,
  };

  const AsyncJob = new EntitySchemaCtor<AsyncJobRow>({
    name: "PersistentQueueAsyncJob",
    tableName: names.jobs,
    columns: {
      id: {
        type: t.id,
        primary: true,
        ...pk(names.jobs),
        ...unsigned,
        // EntitySchema's type omits "identity", but TypeORM passes the strategy through as
        // @PrimaryGeneratedColumn("identity") does: GENERATED BY DEFAULT AS IDENTITY, as in core.
        generated: (family === "postgres" ? "identity" : "increment") as Col["generated"],
      },
      params: {
        type: t.text,
        ...varchar(4096),
        default: "",
        ...(mysql ? { collation: "utf8mb4_unicode_ci" } : {}),
      },
      job_type: { type: t.int },
      job_status: {
        type: t.status,
        nullable: true,
        default: 0,
        ...(mysql
          ? { comment: "0:init, 1:success, 2:failed, 3:continue, 4:retry, 5:running" }
          : {}),
      },
      start_time: { type: t.sec, ...unsigned, nullable: true, default: 0 },
      create_time: { type: t.sec, ...unsigned },
      update_time: { type: t.sec, ...unsigned },
      attempts: zero(t.int),
      run_at: zero(t.big),
      lease_token: nullableText(64),
      lease_until: zero(t.big),
      worker_id: nullableText(255),
      last_error: nullableText(2048),
      priority: zero(t.int),
      unique_key: nullableText(255),
      // PostgreSQL keeps no `DEFAULT NULL` on a text column; TypeORM would keep proposing it.
      result: { type: t.json, nullable: true, ...(family === "postgres" ? {} : nullDefault) },
      progress: { type: t.json, nullable: true, ...(family === "postgres" ? {} : nullDefault) },
      // The indexes below are on these (MySQL family); TypeORM keeps their expressions in its
      // typeorm_metadata table (the migration class records them there for core's columns).
      ...(mysql
        ? {
            due_ms: {
              type: "bigint",
              nullable: true,
              generatedType: "VIRTUAL",
              asExpression: GENERATED_COLUMNS.due_ms,
              insert: false,
              update: false,
            },
            unique_live: {
              type: "varchar",
              length: 255,
              nullable: true,
              generatedType: "VIRTUAL",
              asExpression: GENERATED_COLUMNS.unique_live,
              insert: false,
              update: false,
            },
          }
        : {}),
      // Version 5, after version 4's generated columns (core adds it later).
      group_key: { ...nullableText(255), ...unicodeCi },
      // Version 6: the enqueuing span's trace context (OpenTelemetry).
      trace_context: nullableText(255),
    } as EntitySchemaOptions<AsyncJobRow>["columns"],
    indices: [
      { name: `${names.jobs}_claim_idx`, columns: ["job_status", "job_type", "id"] },
      mysql
        ? {
            name: `${names.jobs}_due_idx`,
            columns: ["job_status", "job_type", "priority", "due_ms", "id"],
          }
        : {
            // On (job_status, job_type, priority, <due-time expression>, id): EntitySchema has no
            // expression index, so core's migrate() creates it (run it after TypeORM's migrations)
            // and `synchronize: false` keeps TypeORM from dropping it.
            name: `${names.jobs}_due_idx`,
            columns: ["job_status", "job_type", "priority", "id"],
            synchronize: false,
          },
      mysql
        ? { name: `${names.jobs}_unique_idx`, columns: ["job_type", "unique_live"], unique: true }
        : {
            // Partial: finished jobs and jobs without a key are not in it.
            name: `${names.jobs}_unique_idx`,
            columns: ["job_type", "unique_key"],
            unique: true,
            where: UNIQUE_KEY_PREDICATE[family === "postgres" ? "postgres" : "sqlite"],
          },
    ],
  });

  const ShedLock = new EntitySchemaCtor<ShedLockRow>({
    name: "PersistentQueueShedLock",
    tableName: names.locks,
    columns: {
      lock_name: {
        type: t.text,
        ...varchar(64),
        primary: true,
        ...pk(names.locks),
        ...(mysql ? { comment: "lock key" } : {}),
      },
      lock_until: {
        ...lockTime,
        ...(mysql ? { onUpdate: "CURRENT_TIMESTAMP", comment: "lock expiry time" } : {}),
      },
      locked_at: { ...lockTime, ...(mysql ? { comment: "lock time" } : {}) },
      locked_by: { type: t.text, ...varchar(255), ...(mysql ? { comment: "who lock" } : {}) },
    },
  });

  const Schedule = new EntitySchemaCtor<ScheduleRow>({
    name: "PersistentQueueSchedule",
    tableName: names.schedules,
    columns: {
      scope: { type: t.text, ...varchar(64), primary: true, ...pk(names.schedules) },
      name: { type: t.text, ...varchar(128), primary: true, ...pk(names.schedules) },
      cron: { type: t.text, ...varchar(128) },
      tz: nullableText(64),
      job_type: { type: t.int },
      params: { type: t.longText },
      priority: zero(t.int),
      backfill_ms: zero(t.big),
      last_tick_ms: zero(t.big),
      next_tick_ms: zero(t.big),
      source: { type: t.text, ...varchar(16) },
      updated_at: { type: t.big },
    },
  });

  const JobType = new EntitySchemaCtor<JobTypeRow>({
    name: "PersistentQueueJobType",
    tableName: names.jobTypes,
    columns: {
      scope: { type: t.text, ...varchar(64), primary: true, ...pk(names.jobTypes) },
      job_type: { type: t.int, primary: true, ...pk(names.jobTypes) },
      paused: zero(t.int),
      claim_seq: zero(t.big),
      backoff_until: zero(t.big),
      updated_at: zero(t.big),
    },
  });

  const JobGroup = new EntitySchemaCtor<JobGroupRow>({
    name: "PersistentQueueJobGroup",
    tableName: names.jobGroups,
    columns: {
      scope: { type: t.text, ...varchar(64), ...unicodeCi, primary: true, ...pk(names.jobGroups) },
      job_type: { type: t.int, primary: true, ...pk(names.jobGroups) },
      group_key: {
        type: t.text,
        ...varchar(255),
        ...unicodeCi,
        primary: true,
        ...pk(names.jobGroups),
      },
      backoff_until: zero(t.big),
      updated_at: zero(t.big),
    },
  });

  const JobStart = new EntitySchemaCtor<JobStartRow>({
    name: "PersistentQueueJobStart",
    tableName: names.jobStarts,
    columns: {
      id: {
        type: t.id,
        primary: true,
        ...pk(names.jobStarts),
        ...unsigned,
        // SQLite: core's id is a plain rowid (INTEGER PRIMARY KEY, which numbers rows itself);
        // TypeORM's "increment" would add AUTOINCREMENT. The queue writes this table, not TypeORM.
        ...(family === "sqlite"
          ? {}
          : { generated: (family === "postgres" ? "identity" : "increment") as Col["generated"] }),
      },
      scope: { type: t.text, ...varchar(64), ...unicodeCi },
      job_type: { type: t.int },
      group_key: { ...nullableText(255), ...unicodeCi },
      started_ms: { type: t.big },
    },
    indices: [
      { name: `${names.jobStarts}_type_idx`, columns: ["scope", "job_type", "started_ms"] },
      {
        name: `${names.jobStarts}_group_idx`,
        columns: ["scope", "job_type", "group_key", "started_ms"],
      },
    ],
  });

  const JobStat = new EntitySchemaCtor<JobStatRow>({
    name: "PersistentQueueJobStat",
    tableName: names.jobStats,
    // MySQL: core's job-stats table has only the charset (its scope is compared with no other column).
    columns: {
      scope: { type: t.text, ...varchar(64), primary: true, ...pk(names.jobStats) },
      job_type: { type: t.int, primary: true, ...pk(names.jobStats) },
      job_status: { type: t.int, primary: true, ...pk(names.jobStats) },
      minute_start: { type: t.big, primary: true, ...pk(names.jobStats) },
      finished: zero(t.big),
    },
  });
  return { AsyncJob, ShedLock, Schedule, JobType, JobGroup, JobStart, JobStat };
}

/**
 * A TypeORM migration that creates or upgrades the queue's tables: add it to
 * your DataSource's `migrations` and `typeorm migration:run` (or
 * `dataSource.runMigrations()`) applies it with your own.
 *
 * It runs core's versioned, idempotent migrations on TypeORM's query runner,
 * so TypeORM's migration table and `queue.migrate()` always agree, also about
 * versions added later, and a table the Go library created is upgraded in
 * place. `down()` drops the queue's seven tables (and its version records).
 * Subclass it and set `tables` for other table names.
 */
export class PersistentQueueSchema1764000000000 implements MigrationInterface {
  /** TypeORM's migration name; it must end in a 13-digit timestamp. */
  readonly name: string = "PersistentQueueSchema1764000000000";
  /** Table names, as passed to `new PersistentQueue({ tables })`. */
  readonly tables: Partial<TableNames> = {};

  /**
   * Creates or upgrades the tables (idempotent). On MySQL/MariaDB it also records the
   * generated columns' expressions in TypeORM's `typeorm_metadata` table, as TypeORM
   * does for the columns it creates: without them `migration:generate` would restate
   * both columns (and make them visible to the Go library's `SELECT *` again).
   */
  async up(queryRunner: QueryRunner): Promise<void> {
    await migrate(fromTypeORM(queryRunner), { tables: this.tables });
    if (isMysqlFamily(queryRunner)) await recordGeneratedColumns(queryRunner, this.tables, "up");
  }

  /** Drops the job, lock, schedules, job-types, job-groups, job-starts and job-stats tables and forgets their versions. */
  async down(queryRunner: QueryRunner): Promise<void> {
    const names = resolveTableNames(this.tables);
    await queryRunner.dropTable(names.jobs, true);
    await queryRunner.dropTable(names.locks, true);
    await queryRunner.dropTable(names.schedules, true);
    await queryRunner.dropTable(names.jobTypes, true);
    await queryRunner.dropTable(names.jobGroups, true);
    await queryRunner.dropTable(names.jobStarts, true);
    await queryRunner.dropTable(names.jobStats, true);
    if (isMysqlFamily(queryRunner)) await recordGeneratedColumns(queryRunner, this.tables, "down");
    if (await queryRunner.hasTable(names.migrations)) {
      const q = queryRunner.connection.driver.escape.bind(queryRunner.connection.driver);
      await queryRunner.query(
        `DELETE FROM ${q(names.migrations)} WHERE ${q("scope")} = '${names.jobs}'`,
      );
    }
  }
}

const isMysqlFamily = (queryRunner: QueryRunner) =>
  ["mysql", "mariadb", "aurora-mysql"].includes(queryRunner.connection.driver.options.type);

/**
 * Writes (`up`) or removes (`down`) TypeORM's records of the job table's generated
 * columns: rows of its metadata table (`typeorm_metadata` unless the DataSource's
 * `metadataTableName` says otherwise), created here in TypeORM's layout if missing.
 */
async function recordGeneratedColumns(
  queryRunner: QueryRunner,
  tables: Partial<TableNames>,
  direction: "up" | "down",
): Promise<void> {
  const { jobs } = resolveTableNames(tables);
  const metadataTable = queryRunner.connection.metadataTableName;
  const q = queryRunner.connection.driver.escape.bind(queryRunner.connection.driver);
  if (direction === "up") {
    await queryRunner.query(
      `CREATE TABLE IF NOT EXISTS ${q(metadataTable)} (${q("type")} varchar(255) NOT NULL, ${q("database")} varchar(255) NULL, ${q("schema")} varchar(255) NULL, ${q("table")} varchar(255) NULL, ${q("name")} varchar(255) NULL, ${q("value")} text NULL) ENGINE=InnoDB`,
    );
  } else if (!(await queryRunner.hasTable(metadataTable))) {
    return;
  }
  for (const [column, expression] of Object.entries(GENERATED_COLUMNS)) {
    await queryRunner.query(
      `DELETE FROM ${q(metadataTable)} WHERE ${q("type")} = 'GENERATED_COLUMN' AND ${q("schema")} = DATABASE() AND ${q("table")} = ? AND ${q("name")} = ?`,
      [jobs, column],
    );
    if (direction === "up") {
      await queryRunner.query(
        `INSERT INTO ${q(metadataTable)} (${q("type")}, ${q("schema")}, ${q("table")}, ${q("name")}, ${q("value")}) VALUES ('GENERATED_COLUMN', DATABASE(), ?, ?, ?)`,
        [jobs, column, expression],
      );
    }
  }
}
