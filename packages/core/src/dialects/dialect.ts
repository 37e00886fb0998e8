import type { DB, Row } from "../db.js";
import type { ClaimParams, JobOperations } from "./operations.js";
import type { PlaceholderStyle, SqlFragment, SqlPart } from "./sql.js";

export type {
  ClaimLimits,
  ClaimParams,
  Completion,
  FlowTables,
  HandOffClaim,
  JobLease,
  JobOperations,
  RateWindow,
  StaleCutoff,
  SucceededRun,
  SucceededWrite,
} from "./operations.js";

/** One new job as the enqueue statement needs it: due time already resolved to one of three forms. */
export interface InsertRow {
  readonly jobType: number;
  /** The params as JSON text. */
  readonly params: string;
  /** Absolute due time: start_time seconds and run_at ms; undefined for the other forms. */
  readonly due?: { readonly startTime: number; readonly runAt: number } | undefined;
  /** Due this many ms after the database's now (> 0); undefined for the other forms. */
  readonly delayMs?: number | undefined;
  /** Lower runs first. */
  readonly priority: number;
  /** The job's group (`group_key`); undefined: none. */
  readonly group?: string | undefined;
  /** The enqueuing span's trace context (`trace_context`); undefined: none. */
  readonly traceContext?: string | undefined;
}

/**
 * What an enqueue with a unique key does when an unfinished job of its type
 * already has the key: `"keep"` inserts nothing; `"replace"` gives that job
 * the new params, due time and priority if it has not started yet, and
 * otherwise keeps it. Either way the existing job's id comes back.
 */
export type OnConflict = "keep" | "replace";

/**
 * How a dialect resolves an insert that meets an unfinished job with the same
 * (job_type, unique_key) in the unique-key index (`<jobs>_unique_idx`), without
 * a race: the index decides, concurrent inserts wait on each other there.
 */
export interface UniqueInsertForm {
  /**
   * The clause after the single-row VALUES list: PostgreSQL and SQLite
   * `ON CONFLICT (…) WHERE <the index predicate> DO …`, MySQL
   * `ON DUPLICATE KEY UPDATE … id = LAST_INSERT_ID(id)`.
   */
  conflictClause(table: string, onConflict: OnConflict): SqlFragment;
  /**
   * True: the statement ends in RETURNING id, which yields the row inserted or
   * replaced, and nothing when the existing job was kept (then it is looked up
   * through the index). False: the driver's insertId is the new or the existing
   * job's id (MySQL's LAST_INSERT_ID(expr)); where it is 0 the job is looked up
   * too (a connection without CLIENT_FOUND_ROWS, as Sequelize opens, reports no
   * id for a conflict that changed nothing).
   */
  readonly returning: boolean;
  /**
   * The unique index's key column, as a statement must compare it for the index
   * to serve it: `unique_live` (a generated column) on MySQL, `unique_key` elsewhere.
   */
  readonly liveKeyColumn: string;
  /**
   * Ends the read of the existing job: MySQL's `LOCK IN SHARE MODE`, a locking
   * read that sees the latest committed row (the conflict found it) where a
   * plain read in a REPEATABLE READ transaction would see its older snapshot.
   * Empty elsewhere (PostgreSQL reads with a new snapshot per statement in READ
   * COMMITTED; SQLite has one writer).
   */
  readonly readSuffix: string;
}

/**
 * A dialect's name: the built-in ones (MariaDB is a variant of MySQL), or any
 * other a dialect object brings.
 */
export type DialectName = "mysql" | "mariadb" | "postgres" | "sqlite" | (string & {});

/**
 * How concurrent claims keep off each other's rows (see docs/scaling.md, "Distributed SQL:
 * claiming without SKIP LOCKED").
 *
 * - `"skip-locked"`: the claim reads its rows with `FOR UPDATE SKIP LOCKED`: claimers take
 *   disjoint rows without waiting. Needs a server that really locks there.
 * - `"optimistic"`: the claim reads candidates without row locks, then takes them with a
 *   compare-and-set UPDATE that only changes rows still claimable (the status it read, still
 *   due): of two claimers racing for a row, one takes it and the other's UPDATE skips it. For
 *   servers that parse SKIP LOCKED but take no lock (TiDB) or have none, and for distributed
 *   SQL engines generally (CockroachDB, YugabyteDB).
 * - `"single-writer"`: the database has one writer at a time (SQLite): no claim races.
 */
export type ClaimLocking = "skip-locked" | "optimistic" | "single-writer";

/** Options of the built-in dialects' factories (`postgresDialect`, `mysqlDialect`, `mariadbDialect`). */
export interface DialectOptions {
  /**
   * Forces the claim's locking ({@link ClaimLocking}) instead of what the dialect chose from
   * the server (MySQL family: TiDB and servers without SKIP LOCKED claim optimistically;
   * PostgreSQL does not ask, so CockroachDB and YugabyteDB need it set). `"single-writer"`
   * is SQLite's own and cannot be forced.
   */
  readonly claimLocking?: Exclude<ClaimLocking, "single-writer">;
}

/**
 * What a database can do. Informational for schema code and tests; the engine
 * does not branch on it: where the databases differ it calls an operation of
 * {@link DialectStatements} that each dialect implements.
 */
export interface DialectCapabilities {
  /** `SELECT … FOR UPDATE SKIP LOCKED` (MySQL 8, MariaDB 10.6, PostgreSQL). */
  readonly skipLocked: boolean;
  /**
   * How this dialect's claim keeps concurrent claimers apart ({@link ClaimLocking}): from the
   * server where the dialect asks it, or as forced by {@link DialectOptions.claimLocking}.
   */
  readonly claimLocking: ClaimLocking;
  /** `UPDATE … RETURNING` (PostgreSQL, SQLite ≥ 3.35; not MySQL/MariaDB). */
  readonly updateReturning: boolean;
  /** `LISTEN` / `NOTIFY` across connections (PostgreSQL). */
  readonly listenNotify: boolean;
  /** DDL runs inside transactions and rolls back with them (PostgreSQL, SQLite). */
  readonly transactionalDdl: boolean;
  /**
   * INVISIBLE columns, left out of `SELECT *` (MariaDB 10.3.3+, MySQL 8.0.23+): how the
   * columns the queue adds stay out of the Go library's 7-field scan.
   */
  readonly invisibleColumns: boolean;
}

/** The table names one queue uses; each is validated as a plain identifier. */
export interface TableNames {
  /** The seed's job table, default `async_job_tab`. */
  readonly jobs: string;
  /** The seed's ShedLock table, default `shedlock_tab`. */
  readonly locks: string;
  /** Cron schedules (`schedules`, `schedule()`), default `pq_schedules`; rows are scoped by job table. */
  readonly schedules: string;
  /**
   * State a job type shares across the cluster (paused, the claim gate of types with a
   * cluster-wide limit), default `pq_job_types`; rows are scoped by job table.
   */
  readonly jobTypes: string;
  /**
   * Per group state shared by the cluster (a group's back-off after a remote rate
   * limit), default `pq_job_groups`; rows are scoped by job table.
   */
  readonly jobGroups: string;
  /**
   * When jobs of rate-limited types started (one row per claimed job, kept for the
   * longest window), default `pq_job_starts`; rows are scoped by job table.
   */
  readonly jobStarts: string;
  /** Finished jobs per job type, status and minute (schema version 7). Default `pq_job_stats`. */
  readonly jobStats: string;
  /** Where applied schema versions are recorded, default `pq_migrations`. */
  readonly migrations: string;
}

/** Column types for columns the migrations add, in the dialect's spelling. */
export interface ColumnTypes {
  /** 32-bit integer, NOT NULL DEFAULT 0. */
  readonly intZero: string;
  /** 64-bit integer, NOT NULL DEFAULT 0. */
  readonly bigintZero: string;
  /** Nullable short text (tokens, worker ids), `(n)` characters. */
  varcharNull(n: number): string;
  /** Nullable long text (a job's result and progress as JSON), at least 16 MiB where the database limits it. */
  readonly textNull: string;
}

/** One row of a schema description: stable text that tests snapshot and compare. */
export interface SchemaLine {
  readonly table: string;
  readonly line: string;
}

/**
 * The small SQL hooks every part of a dialect and the statements written once
 * for all databases (statements/) use: placeholders, quoting, the database's
 * clock and a few spellings.
 */
export interface SqlHooks extends PlaceholderStyle {
  /** SQL expression: the database's current time as integer milliseconds since the epoch. */
  readonly nowMs: string;
  /** SQL expression: the database's current time as integer seconds since the epoch (the seed's unit). */
  readonly nowSec: string;
  /** `FOR UPDATE SKIP LOCKED`, `FOR UPDATE`, or nothing (SQLite's single writer needs no row locks). */
  readonly lockRowsClause: string;
  /**
   * An index hint after a table name in a SELECT (MySQL's `FORCE INDEX (name)`), or
   * nothing. For statements whose selective index the optimizer misjudges on a
   * freshly filled table (its statistics say one status covers every row).
   */
  forceIndex(index: string): string;
  /** SQL function returning the larger of two values: GREATEST or SQLite's scalar max. */
  readonly greatest: string;
  /**
   * SQL expression: when a pending row is due, in epoch ms, the larger of the seed's
   * start_time (seconds) and run_at — spelled exactly as the due index
   * (`<jobs>_due_idx`) has it, so that the index serves it: a generated column on
   * MySQL, the index's expression elsewhere.
   */
  readonly dueMs: string;
  /**
   * A query whose rows `(s, p)` are the distinct (job_status, priority) pairs among
   * the rows of `jobType` with one of `statuses`, found with one index seek per pair
   * (a loose index scan), never by reading the rows: the claim and `nextDue` then
   * look at the first due row of each pair. MySQL: GROUP BY on the due index's
   * prefix; PostgreSQL and SQLite: a recursive query stepping to the next priority.
   */
  priorityLevels(table: string, statuses: readonly number[], jobType: number): SqlFragment;
  /**
   * SQL condition: the text column `column` contains what the LIKE `pattern`
   * (lower-case, `%` wildcards, `!` as its escape character) says, ignoring case.
   * Absent: `lower(column) LIKE pattern ESCAPE '!'`, right everywhere. PostgreSQL's
   * ILIKE gives its planner the column's statistics (it has none for lower(column)):
   * a common match then reads the primary key backwards and stops after a page
   * (0.2 ms at 200k rows) instead of scanning and sorting the table (300 ms).
   */
  likeIgnoringCase?(column: string, pattern: SqlPart): SqlFragment;
  /** SQL for integer division of two integer expressions (MySQL's DIV; `/` on integers elsewhere). */
  intDiv(a: SqlPart, b: SqlPart): SqlFragment;
  /**
   * An integer value where the statement gives it no type: PostgreSQL types a bare
   * parameter in a SELECT list as text (`CAST(… AS bigint)` there; as is elsewhere).
   */
  int(value: SqlPart): SqlFragment;
  /**
   * True when `err` says the object a DDL statement creates already exists
   * (a concurrent migrate() won the race), or a unique key was hit.
   */
  isAlreadyExists(err: unknown): boolean;
}

/**
 * A multi-row enqueue where the dialect has a faster form than one
 * `VALUES (…), (…)` list (PostgreSQL: the rows as one JSON parameter). Same
 * columns and meaning as `insertJobs`; with `returning`, rows `{ id }` in
 * input order.
 */
export type InsertJobRows = (
  table: string,
  rows: readonly InsertRow[],
  returning: boolean,
) => SqlFragment;

/**
 * The runtime part of a dialect: the engine's {@link JobOperations}, the
 * statements whose text differs between databases (the claim, the bulk
 * insert, NOTIFY, lock times), and the ShedLock's time expressions.
 */
export interface DialectStatements extends JobOperations {
  /**
   * The claim statement: marks up to `limit` due rows of one job type as running
   * under a lease, atomically. See {@link ClaimParams} for inputs.
   */
  claimJobs(p: ClaimParams): SqlFragment;

  /**
   * A statement that wakes LISTENers of `channel` (PostgreSQL NOTIFY); absent where
   * there is none, and then other processes poll.
   */
  notify?(channel: string, payload: string): SqlFragment;

  /**
   * How a statement on the lock table begins: `verb`, plus whatever makes it run
   * with the session's time zone at UTC for that one statement. MySQL-family
   * TIMESTAMP columns and NOW() go through the session's zone, and in a DST zone's
   * repeated autumn hour that misjudges locks by an hour (see mysql/statements.ts);
   * elsewhere lock times are absolute and this is just `verb`.
   */
  utcStatement(verb: "INSERT" | "UPDATE" | "SELECT"): string;
  /** SQL expression: the database's current time as a value of the lock table's time columns. */
  readonly lockNow: string;
  /** SQL expression: the database's current time plus `ms` (a bound parameter), in the lock table's time type. */
  lockNowPlusMs(ms: number): SqlFragment;
  /** SQL expression: `column` (a lock time) plus `ms`, in the lock table's time type. */
  lockTimePlusMs(column: string, ms: number): SqlFragment;
}

/** DDL: the seed's tables as this database spells them, and what migrations add. */
export interface DialectDdl {
  readonly columnTypes: ColumnTypes;
  /** The seed's `async_job_tab`, as the seed's README creates it (MySQL) or its faithful translation. */
  createJobTable(table: string): SqlFragment;
  /** The seed's `shedlock_tab` (the shape of Java ShedLock's table). */
  createLockTable(table: string): SqlFragment;
  /** The table that records applied migrations. */
  createMigrationsTable(table: string): SqlFragment;
  /** Cron schedules, one row per (scope = job table, name). */
  createSchedulesTable(table: string): SqlFragment;
  /**
   * Per job type state shared by the cluster, one row per (scope = job table, job_type):
   * `paused` (0/1), `claim_seq` (bumped by every claim of a type with a cluster-wide
   * limit: the claims' gate, see claim.ts), `backoff_until` (epoch ms) and `updated_at`.
   */
  createJobTypesTable(table: string): SqlFragment;
  /** Per group state, one row per (scope, job_type, group_key): `backoff_until` (epoch ms), `updated_at`. */
  createJobGroupsTable(table: string): SqlFragment;
  /**
   * Starts of rate-limited jobs: `id`, `scope`, `job_type`, `group_key` (nullable),
   * `started_ms` (database clock). Its two indexes are separate migration steps.
   */
  createJobStartsTable(table: string): SqlFragment;
  /**
   * Version 7's finished-jobs counters: per (`scope`, `job_type`, `job_status`,
   * `minute_start`) the number `finished` of jobs that ended in that status
   * (Success 1, Failed 2) in that minute (unix seconds of its start), added to
   * by each queue process; the primary key is those four columns.
   */
  createJobStatsTable(table: string): SqlFragment;
  /**
   * Columns the database computes, added by version 4: MySQL's `due_ms` and
   * `unique_live` (it has no expression or partial indexes). Empty elsewhere.
   */
  readonly generatedJobColumns: ReadonlyArray<{ readonly column: string; readonly type: string }>;
  /** The claim's index: (job_status, job_type, priority, due time, id). */
  createDueIndex(table: string, index: string): SqlFragment;
  /**
   * At most one unfinished job per (job_type, unique_key): a partial unique index
   * where the database has them, a unique index on a generated column elsewhere.
   */
  createUniqueKeyIndex(table: string, index: string): SqlFragment;
  /** Sets a column's default, or `undefined` where the database cannot (SQLite). */
  setColumnDefault(table: string, column: string, defaultSql: string): SqlFragment | undefined;
  /**
   * Makes `column` (of type `type`, restated as the column has it) invisible to
   * `SELECT *`, for the Go library's readers (MySQL family only: its tables are
   * MySQL's). Present: the Go readers' check runs; called only where
   * {@link DialectCapabilities.invisibleColumns}.
   */
  hideColumn?(table: string, column: string, type: string): SqlFragment;
}

/** Catalogue queries: what the migrations check before each step, and the schema description. */
export interface DialectIntrospection {
  /** Query → rows `{ name }`: the columns of `table` in the current database/schema. */
  listColumns(table: string): SqlFragment;
  /** Query → rows `{ name }`: the columns of `table` that `SELECT *` leaves out. Only where hideColumn is. */
  listInvisibleColumns?(table: string): SqlFragment;
  /** Query → rows `{ name }`: the index names of `table`. */
  listIndexes(table: string): SqlFragment;
  /** Query → rows `{ name }`: `table` if it exists. */
  findTable(table: string): SqlFragment;
  /** Turns catalog rows into a stable description (see {@link describeSchema}). */
  describeTable(table: string): { columns: SqlFragment; indexes: SqlFragment };
  formatColumn(row: Row): string;
  formatIndex(rows: Row[]): string[];
}

/**
 * A database dialect, carried by the DB (`DB.dialect`): small hooks, capability
 * flags, and three parts — runtime statements and operations, DDL, catalogue
 * queries. Everything that differs between databases is here, implemented once
 * per database in its folder (dialects/<name>/); the engine, the migrations and
 * the lock only call these members. A new database is a new object of this
 * shape, no edit of core.
 */
export interface Dialect extends SqlHooks {
  readonly name: DialectName;
  /** The SQL family: the built-in dialect this one varies (MariaDB: "mysql"), or its own name. */
  readonly family: string;
  readonly capabilities: DialectCapabilities;
  readonly statements: DialectStatements;
  readonly ddl: DialectDdl;
  readonly introspection: DialectIntrospection;
  /**
   * Where the server must be asked which variant or version it runs (MySQL or
   * MariaDB, and which features that version has): resolves the dialect to use
   * on `db`. Asked once per DB; absent, this dialect is used as is.
   */
  detect?(db: DB): Promise<Dialect>;
}
