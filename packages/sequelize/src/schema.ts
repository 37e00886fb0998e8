import type {
  DataTypes as DataTypesNamespace,
  Model,
  ModelAttributes,
  ModelIndexesOptions,
  ModelStatic,
  QueryInterface,
  Sequelize,
  Utils,
} from "sequelize";

/**
 * The queue's tables as Sequelize models and a Sequelize migration, equivalent
 * to core's `migrate()` (schema version 7): the seed's `async_job_tab` with
 * the lease, retry, priority, unique-key, result, progress and group-key columns, its
 * indexes `<jobs>_claim_idx` (job_status, job_type, id), `<jobs>_due_idx`
 * (job_status, job_type, priority, due time, id) and the unique `<jobs>_unique_idx`
 * of unfinished jobs' (job_type, unique_key); the seed's `shedlock_tab`; the
 * schedules table `pq_schedules`; the job-types table `pq_job_types`; the job-groups
 * table `pq_job_groups`; the job-starts table `pq_job_starts` with its indexes
 * `<starts>_type_idx` (scope, job_type, started_ms) and `<starts>_group_idx`
 * (scope, job_type, group_key, started_ms); and the job-stats table `pq_job_stats`
 * (finished jobs per job type, status and minute; primary key scope, job_type,
 * job_status, minute_start). On MySQL/MariaDB, as in core, the due time and
 * the live unique key are VIRTUAL generated columns (`due_ms`, `unique_live`:
 * MariaDB has no expression or partial index), written as raw column types;
 * on PostgreSQL and SQLite the due index is on the expression and the unique
 * index is partial.
 *
 * Sequelize is only imported as a type: DataTypes and `literal` come from the
 * instance you pass (`sequelize.Sequelize`, the class that made it), so this
 * package never loads a copy of its own.
 *
 * Not expressible in Sequelize, and why it does not matter:
 * - MySQL `shedlock_tab.lock_until ... ON UPDATE CURRENT_TIMESTAMP`: no attribute
 *   option exists for it; every statement the queue runs sets lock_until itself.
 * - Column comments are kept, but no tool here reads them.
 * - MySQL INVISIBLE: run core's `migrate()` after the Sequelize migration (or sync):
 *   it hides every column the queue added, so the Go library's `SELECT *` still
 *   sees 7 columns.
 */

/** Table names, as core's `migrate({ tables })` takes them. */
export interface QueueTableNames {
  /** Default `async_job_tab`. */
  readonly jobs?: string;
  /** Default `shedlock_tab`. */
  readonly locks?: string;
  /** Default `pq_schedules`. */
  readonly schedules?: string;
  /** Default `pq_job_types`. */
  readonly jobTypes?: string;
  /** Default `pq_job_groups`. */
  readonly jobGroups?: string;
  /** Default `pq_job_starts`. */
  readonly jobStarts?: string;
  /** Default `pq_job_stats`. */
  readonly jobStats?: string;
}

/** What the schema needs of the Sequelize library (the class: `sequelize.Sequelize`). */
export interface SequelizeLibrary {
  readonly DataTypes: typeof DataTypesNamespace;
  literal(value: string): Utils.Literal;
}

/** The models {@link defineQueueModels} returns. */
export interface QueueModels {
  /** `async_job_tab`: one row per job. */
  readonly Job: ModelStatic<Model>;
  /** `shedlock_tab`: one row per named cluster lock. */
  readonly ShedLock: ModelStatic<Model>;
  /** `pq_schedules`: one row per recurring schedule. */
  readonly Schedule: ModelStatic<Model>;
  /** `pq_job_types`: one row per job type with state the cluster shares (paused, the claim gate). */
  readonly JobType: ModelStatic<Model>;
  /** `pq_job_groups`: one row per group of a job type with state the cluster shares (back-off). */
  readonly JobGroup: ModelStatic<Model>;
  /** `pq_job_starts`: one row per start of a rate-limited job, what rate limits count. */
  readonly JobStart: ModelStatic<Model>;
  /** `pq_job_stats`: finished jobs of a job type and status in one minute (each process adds its own). */
  readonly JobStat: ModelStatic<Model>;
}

const names = (tables: QueueTableNames = {}) => ({
  jobs: tables.jobs ?? "async_job_tab",
  locks: tables.locks ?? "shedlock_tab",
  schedules: tables.schedules ?? "pq_schedules",
  jobTypes: tables.jobTypes ?? "pq_job_types",
  jobGroups: tables.jobGroups ?? "pq_job_groups",
  jobStarts: tables.jobStarts ?? "pq_job_starts",
  jobStats: tables.jobStats ?? "pq_job_stats",
});

/** Job statuses a unique key holds in (init, continue, retry, running): core's unique index. */
const LIVE_STATUSES = "0, 3, 4, 5";

/** Column attributes of the seven tables in the dialect's types, matching core's DDL column for column. */
export function queueTableAttributes(
  lib: SequelizeLibrary,
  dialect: string,
): {
  jobs: ModelAttributes;
  locks: ModelAttributes;
  schedules: ModelAttributes;
  jobTypes: ModelAttributes;
  jobGroups: ModelAttributes;
  jobStarts: ModelAttributes;
  jobStats: ModelAttributes;
} {
  const T = lib.DataTypes;
  const mysql = dialect === "mysql" || dialect === "mariadb";
  const pg = dialect === "postgres";
  // The seed's unsigned INT seconds: BIGINT on PostgreSQL (no unsigned), INTEGER on SQLite.
  // INTEGER(11): MariaDB shows INT UNSIGNED as int(10), the seed declared int(11).
  const seconds = mysql ? T.INTEGER({ length: 11 }).UNSIGNED : pg ? T.BIGINT : T.INTEGER;
  const bigint = mysql || pg ? T.BIGINT : T.INTEGER;
  const text = (n: number) => (mysql || pg ? T.STRING(n) : T.TEXT);
  const json = mysql ? T.TEXT("medium") : T.TEXT; // a handler's result or progress
  const lockTime = mysql
    ? "TIMESTAMP" // Sequelize's DATE is DATETIME on MySQL; the seed's column is a TIMESTAMP
    : pg
      ? T.DATE(3)
      : T.TEXT; // SQLite: UTC text 'YYYY-MM-DD HH:MM:SS.SSS', as core binds Dates
  const now = lib.literal(
    mysql ? "CURRENT_TIMESTAMP" : pg ? "now()" : "(strftime('%Y-%m-%d %H:%M:%f', 'now'))",
  );
  const jobs: ModelAttributes = {
    id: {
      type: mysql ? T.BIGINT.UNSIGNED : pg ? T.BIGINT : T.INTEGER,
      primaryKey: true,
      autoIncrement: true,
      autoIncrementIdentity: pg, // GENERATED BY DEFAULT AS IDENTITY, as core; not SERIAL
    },
    params: { type: text(4096), allowNull: false, defaultValue: "" },
    job_type: { type: T.INTEGER, allowNull: false },
    job_status: {
      type: mysql ? T.TINYINT : pg ? T.SMALLINT : T.INTEGER,
      allowNull: true,
      defaultValue: 0, // a row inserted without a status is claimable
      comment: "0:init, 1:success, 2:failed, 3:continue, 4:retry, 5:running",
    },
    start_time: { type: seconds, allowNull: true, defaultValue: 0 },
    create_time: { type: seconds, allowNull: false },
    update_time: { type: seconds, allowNull: false },
    attempts: { type: T.INTEGER, allowNull: false, defaultValue: 0 },
    run_at: { type: bigint, allowNull: false, defaultValue: 0 },
    lease_token: { type: text(64), allowNull: true, defaultValue: null },
    lease_until: { type: bigint, allowNull: false, defaultValue: 0 },
    worker_id: { type: text(255), allowNull: true, defaultValue: null },
    last_error: { type: text(2048), allowNull: true, defaultValue: null },
    priority: { type: T.INTEGER, allowNull: false, defaultValue: 0 },
    unique_key: { type: text(255), allowNull: true, defaultValue: null },
    result: { type: json, allowNull: true, defaultValue: null },
    progress: { type: json, allowNull: true, defaultValue: null },
    // MySQL family: the indexes' VIRTUAL columns. Sequelize has no generated-column option;
    // a raw column type is passed through as written.
    ...(mysql
      ? {
          due_ms: {
            type: "BIGINT AS (GREATEST(COALESCE(`start_time`, 0) * 1000, `run_at`)) VIRTUAL",
          },
          unique_live: {
            type: `VARCHAR(255) AS (CASE WHEN \`job_status\` IN (${LIVE_STATUSES}) THEN \`unique_key\` END) VIRTUAL`,
          },
        }
      : {}),
    // Version 5, after version 4's generated columns (core adds it later).
    group_key: { type: text(255), allowNull: true, defaultValue: null },
    // Version 6: the enqueuing span's trace context (OpenTelemetry).
    trace_context: { type: text(255), allowNull: true, defaultValue: null },
  };
  const locks: ModelAttributes = {
    lock_name: { type: text(64), allowNull: false, primaryKey: true, comment: "lock key" },
    lock_until: {
      type: lockTime,
      allowNull: false,
      defaultValue: now,
      comment: "lock expiry time",
    },
    locked_at: { type: lockTime, allowNull: false, defaultValue: now, comment: "lock time" },
    locked_by: { type: text(255), allowNull: false, comment: "who lock" },
  };
  const schedules: ModelAttributes = {
    scope: { type: text(64), allowNull: false, primaryKey: true },
    name: { type: text(128), allowNull: false, primaryKey: true },
    cron: { type: text(128), allowNull: false },
    tz: { type: text(64), allowNull: true, defaultValue: null },
    job_type: { type: T.INTEGER, allowNull: false },
    params: { type: T.TEXT, allowNull: false },
    priority: { type: T.INTEGER, allowNull: false, defaultValue: 0 },
    backfill_ms: { type: bigint, allowNull: false, defaultValue: 0 },
    last_tick_ms: { type: bigint, allowNull: false, defaultValue: 0 },
    next_tick_ms: { type: bigint, allowNull: false, defaultValue: 0 },
    source: { type: text(16), allowNull: false },
    updated_at: { type: bigint, allowNull: false },
  };
  const jobTypes: ModelAttributes = {
    scope: { type: text(64), allowNull: false, primaryKey: true },
    job_type: { type: T.INTEGER, allowNull: false, primaryKey: true },
    paused: { type: T.INTEGER, allowNull: false, defaultValue: 0 },
    claim_seq: { type: bigint, allowNull: false, defaultValue: 0 },
    backoff_until: { type: bigint, allowNull: false, defaultValue: 0 },
    updated_at: { type: bigint, allowNull: false, defaultValue: 0 },
  };
  const jobGroups: ModelAttributes = {
    scope: { type: text(64), allowNull: false, primaryKey: true },
    job_type: { type: T.INTEGER, allowNull: false, primaryKey: true },
    group_key: { type: text(255), allowNull: false, primaryKey: true },
    backoff_until: { type: bigint, allowNull: false, defaultValue: 0 },
    updated_at: { type: bigint, allowNull: false, defaultValue: 0 },
  };
  const jobStarts: ModelAttributes = {
    id: {
      type: mysql ? T.BIGINT.UNSIGNED : pg ? T.BIGINT : T.INTEGER,
      primaryKey: true,
      // SQLite: a plain rowid (INTEGER PRIMARY KEY numbers rows itself), as core; no AUTOINCREMENT.
      autoIncrement: mysql || pg,
      autoIncrementIdentity: pg,
    },
    scope: { type: text(64), allowNull: false },
    job_type: { type: T.INTEGER, allowNull: false },
    group_key: { type: text(255), allowNull: true, defaultValue: null },
    started_ms: { type: bigint, allowNull: false },
  };
  const jobStats: ModelAttributes = {
    scope: { type: text(64), allowNull: false, primaryKey: true },
    job_type: { type: T.INTEGER, allowNull: false, primaryKey: true },
    job_status: { type: T.INTEGER, allowNull: false, primaryKey: true },
    minute_start: { type: bigint, allowNull: false, primaryKey: true },
    finished: { type: bigint, allowNull: false, defaultValue: 0 },
  };
  return { jobs, locks, schedules, jobTypes, jobGroups, jobStarts, jobStats };
}

/** The claim index: one status and job type, oldest id first. Without it a MySQL claim locks every row it scans. */
const claimIndex = (jobs: string) => ({
  name: `${jobs}_claim_idx`,
  fields: ["job_status", "job_type", "id"],
});

/**
 * The job table's indexes since version 4, as core's DDL makes them per database:
 * the due index (on the generated `due_ms` on MySQL, on the expression elsewhere,
 * spelt as core's claim orders by it) and the unique-key index (on the generated
 * `unique_live` on MySQL, partial elsewhere).
 */
function jobIndexes(
  lib: SequelizeLibrary,
  dialect: string,
  jobs: string,
): Array<ModelIndexesOptions & Required<Pick<ModelIndexesOptions, "fields">>> {
  const mysql = dialect === "mysql" || dialect === "mariadb";
  const due = dialect === "postgres" ? "GREATEST" : "max";
  return [
    claimIndex(jobs),
    {
      name: `${jobs}_due_idx`,
      fields: [
        "job_status",
        "job_type",
        "priority",
        mysql ? "due_ms" : lib.literal(`(${due}(COALESCE("start_time", 0) * 1000, "run_at"))`),
        "id",
      ],
    },
    {
      name: `${jobs}_unique_idx`,
      unique: true,
      fields: ["job_type", mysql ? "unique_live" : "unique_key"],
      ...(mysql
        ? {}
        : {
            where: lib.literal(`"unique_key" IS NOT NULL AND "job_status" IN (${LIVE_STATUSES})`),
          }),
    },
  ];
}

/** The job-starts table's indexes: what a rate limit counts, per job type and per group. */
const startsIndexes = (starts: string) => [
  { name: `${starts}_type_idx`, fields: ["scope", "job_type", "started_ms"] },
  { name: `${starts}_group_idx`, fields: ["scope", "job_type", "group_key", "started_ms"] },
];

/** MySQL table options of core's DDL (ignored by the other dialects). */
const MYSQL_TABLE = { engine: "InnoDB", charset: "utf8mb4", collate: "utf8mb4_unicode_ci" };

/**
 * Defines the queue's tables as models on `sequelize` (`Job`, `ShedLock`; no
 * timestamps), e.g. to read jobs with Sequelize or to create the tables with
 * `sequelize.sync()` in development. Writing jobs goes through the queue.
 */
export function defineQueueModels(sequelize: Sequelize, tables?: QueueTableNames): QueueModels {
  const t = names(tables);
  const attrs = queueTableAttributes(libraryOf(sequelize), sequelize.getDialect());
  const common = { timestamps: false, freezeTableName: true, ...MYSQL_TABLE };
  const Job = sequelize.define("PersistentQueueJob", attrs.jobs, {
    ...common,
    tableName: t.jobs,
    indexes: jobIndexes(libraryOf(sequelize), sequelize.getDialect(), t.jobs),
  });
  const ShedLock = sequelize.define("PersistentQueueShedLock", attrs.locks, {
    ...common,
    tableName: t.locks,
    collate: undefined, // the seed's lock table has only the charset
  });
  const Schedule = sequelize.define("PersistentQueueSchedule", attrs.schedules, {
    ...common,
    tableName: t.schedules,
  });
  const JobType = sequelize.define("PersistentQueueJobType", attrs.jobTypes, {
    ...common,
    tableName: t.jobTypes,
    collate: undefined, // core's job-types table has only the charset
  });
  const JobGroup = sequelize.define("PersistentQueueJobGroup", attrs.jobGroups, {
    ...common,
    tableName: t.jobGroups,
  });
  const JobStart = sequelize.define("PersistentQueueJobStart", attrs.jobStarts, {
    ...common,
    tableName: t.jobStarts,
    indexes: startsIndexes(t.jobStarts),
  });
  const JobStat = sequelize.define("PersistentQueueJobStat", attrs.jobStats, {
    ...common,
    tableName: t.jobStats,
    collate: undefined, // core's job-stats table has only the charset
  });
  return { Job, ShedLock, Schedule, JobType, JobGroup, JobStart, JobStat };
}

/** The Sequelize class that made `sequelize` (Sequelize 6 sets it on its prototype). */
function libraryOf(sequelize: Sequelize): SequelizeLibrary {
  return (sequelize as unknown as { Sequelize: SequelizeLibrary }).Sequelize;
}

/**
 * A migration module as sequelize-cli runs it: `up(queryInterface, Sequelize)`
 * and `down(queryInterface, Sequelize)`. The second argument is not needed:
 * the library is taken from `queryInterface.sequelize`.
 */
export interface QueueMigration {
  up(queryInterface: QueryInterface, lib?: unknown): Promise<void>;
  down(queryInterface: QueryInterface, lib?: unknown): Promise<void>;
}

/**
 * A Sequelize migration creating the queue's tables (for other table names
 * than the defaults). `up` creates the seven tables and the job and job-starts tables' indexes;
 * `down` drops them. On MySQL/MariaDB run core's `migrate()` afterwards: it makes
 * the added columns INVISIBLE (Sequelize cannot).
 */
export function createQueueMigration(tables?: QueueTableNames): QueueMigration {
  const t = names(tables);
  return {
    async up(queryInterface) {
      const { sequelize } = queryInterface;
      const attrs = queueTableAttributes(libraryOf(sequelize), sequelize.getDialect());
      await queryInterface.createTable(t.jobs, attrs.jobs, MYSQL_TABLE);
      for (const index of jobIndexes(libraryOf(sequelize), sequelize.getDialect(), t.jobs))
        await queryInterface.addIndex(t.jobs, index);
      await queryInterface.createTable(t.locks, attrs.locks, {
        ...MYSQL_TABLE,
        collate: undefined,
      });
      await queryInterface.createTable(t.schedules, attrs.schedules, MYSQL_TABLE);
      await queryInterface.createTable(t.jobTypes, attrs.jobTypes, {
        ...MYSQL_TABLE,
        collate: undefined,
      });
      // utf8mb4_unicode_ci, as core: the claim compares their group_key with the job table's.
      await queryInterface.createTable(t.jobGroups, attrs.jobGroups, MYSQL_TABLE);
      await queryInterface.createTable(t.jobStarts, attrs.jobStarts, MYSQL_TABLE);
      for (const index of startsIndexes(t.jobStarts))
        await queryInterface.addIndex(t.jobStarts, index);
      await queryInterface.createTable(t.jobStats, attrs.jobStats, {
        ...MYSQL_TABLE,
        collate: undefined,
      });
    },
    async down(queryInterface) {
      await queryInterface.dropTable(t.jobStats);
      await queryInterface.dropTable(t.jobStarts);
      await queryInterface.dropTable(t.jobGroups);
      await queryInterface.dropTable(t.jobTypes);
      await queryInterface.dropTable(t.schedules);
      await queryInterface.dropTable(t.locks);
      await queryInterface.dropTable(t.jobs);
    },
  };
}

/**
 * The migration for the default tables. In a sequelize-cli migrations folder:
 * `module.exports = require("@persistent-queue/sequelize").queueMigration;`
 */
export const queueMigration: QueueMigration = createQueueMigration();
