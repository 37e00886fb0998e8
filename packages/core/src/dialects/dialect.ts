import type { DialectFamily, Row } from "../db.js";
import type { JobStatus } from "../job-status.js";
import type { PlaceholderStyle, SqlFragment, SqlPart } from "./sql.js";

/** One new job as the enqueue statement needs it: due time already resolved to one of three forms. */
export interface InsertRow {
  readonly jobType: number;
  /** The params as JSON text. */
  readonly params: string;
  /** Absolute due time: start_time seconds and run_at ms; undefined for the other forms. */
  readonly due?: { readonly startTime: number; readonly runAt: number } | undefined;
  /** Due this many ms after the database's now (> 0); undefined for the other forms. */
  readonly delayMs?: number | undefined;
}

/** The firstPullDay cut-off a worker takes at start-up; see {@link ClaimParams.stale}. */
export interface StaleCutoff {
  readonly beforeMs: number;
  readonly belowId: number;
}

/** Inputs of {@link Dialect.claimJobs}. */
export interface ClaimParams {
  readonly table: string;
  readonly jobType: number;
  /** The one claimable status this claim takes (Init, Continue or Retry). */
  readonly status: JobStatus;
  /**
   * The seed's firstPullDay: rows with status 0 (init) that were in the table
   * at start-up (id below `belowId`) and had become due before `beforeMs`
   * (epoch ms, database clock) are not claimed. Undefined: no cut-off.
   */
  readonly stale: StaleCutoff | undefined;
  readonly limit: number;
  /** The lease token written to every claimed row; completions must present it. */
  readonly token: string;
  readonly leaseMs: number;
  readonly workerId: string;
}

/** The databases persistent-queue knows. MariaDB is a variant of MySQL. */
export type DialectName = "mysql" | "mariadb" | "postgres" | "sqlite";

/**
 * What a database can do, so the engine asks a flag instead of testing the
 * dialect's name.
 */
export interface DialectCapabilities {
  /** `SELECT … FOR UPDATE SKIP LOCKED` (MySQL 8, MariaDB 10.6, PostgreSQL). */
  readonly skipLocked: boolean;
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
}

/** One row of a schema description: stable text that tests snapshot and compare. */
export interface SchemaLine {
  readonly table: string;
  readonly line: string;
}

/**
 * A database dialect: data plus small hooks. Everything that differs between
 * databases is here and in the three files that implement it; the engine and
 * the migrations only read these members.
 */
export interface Dialect extends PlaceholderStyle {
  readonly name: DialectName;
  readonly family: DialectFamily;
  readonly capabilities: DialectCapabilities;
  /** SQL expression: the database's current time as integer milliseconds since the epoch. */
  readonly nowMs: string;
  /** SQL expression: the database's current time as integer seconds since the epoch (the seed's unit). */
  readonly nowSec: string;
  readonly columnTypes: ColumnTypes;

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
  /** SQL for integer division of two integer expressions (MySQL's DIV; `/` on integers elsewhere). */
  intDiv(a: SqlPart, b: SqlPart): SqlFragment;
  /** A statement that wakes LISTENers of `channel` (PostgreSQL NOTIFY); undefined where there is none. */
  notify?(channel: string, payload: string): SqlFragment;
  /** INSERT … RETURNING works (PostgreSQL, SQLite, MariaDB); otherwise the driver's insertId is used. */
  readonly insertReturning: boolean;

  /**
   * The claim: marks up to `limit` due rows of one job type as running under
   * a lease, atomically. See {@link ClaimParams} for inputs; the statement's
   * rows (where the dialect has UPDATE … RETURNING) are the claimed jobs.
   */
  claimJobs(p: ClaimParams): SqlFragment;

  /**
   * A multi-row enqueue where the dialect has a faster form than one
   * `VALUES (…), (…)` list (PostgreSQL: the rows as one JSON parameter). Same
   * columns and meaning as `insertJobs`; with `returning`, rows `{ id }` in
   * input order. Absent: the VALUES list is used.
   */
  insertJobRows?(table: string, rows: readonly InsertRow[], returning: boolean): SqlFragment;

  /**
   * How a statement on the lock table begins: `verb`, plus whatever makes it run
   * with the session's time zone at UTC for that one statement. MySQL-family
   * TIMESTAMP columns and NOW() go through the session's zone, and in a DST zone's
   * repeated autumn hour that misjudges locks by an hour (see mysql.ts);
   * elsewhere lock times are absolute and this is just `verb`.
   */
  utcStatement(verb: "INSERT" | "UPDATE" | "SELECT"): string;
  /** SQL expression: the database's current time as a value of the lock table's time columns. */
  readonly lockNow: string;
  /** SQL expression: the database's current time plus `ms` (a bound parameter), in the lock table's time type. */
  lockNowPlusMs(ms: number): SqlFragment;
  /** SQL expression: `column` (a lock time) plus `ms`, in the lock table's time type. */
  lockTimePlusMs(column: string, ms: number): SqlFragment;

  /** DDL: the seed's `async_job_tab`, as the seed's README creates it (MySQL) or its faithful translation. */
  createJobTable(table: string): SqlFragment;
  /** DDL: the seed's `shedlock_tab` (the shape of Java ShedLock's table). */
  createLockTable(table: string): SqlFragment;
  /** DDL: the table that records applied migrations. */
  createMigrationsTable(table: string): SqlFragment;
  /** DDL: sets a column's default, or `undefined` where the database cannot (SQLite). */
  setColumnDefault(table: string, column: string, defaultSql: string): SqlFragment | undefined;

  /** Query → rows `{ name }`: the columns of `table` in the current database/schema. */
  listColumns(table: string): SqlFragment;
  /**
   * DDL: makes `column` (of type `type`, restated as the column has it) invisible to
   * `SELECT *`. Only where {@link DialectCapabilities.invisibleColumns}.
   */
  hideColumn?(table: string, column: string, type: string): SqlFragment;
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

  /**
   * True when `err` says the object a DDL statement creates already exists
   * (a concurrent migrate() won the race), or a unique key was hit.
   */
  isAlreadyExists(err: unknown): boolean;
}
