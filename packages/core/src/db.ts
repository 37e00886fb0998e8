/**
 * The one interface the engine talks to. An adapter turns a driver or ORM
 * connection into a `DB`; it passes SQL text and parameters through untouched
 * (every statement is written by core, in the placeholder style of
 * {@link DB.dialect}) and normalises results to the small shapes below.
 *
 * Modelled on the Go library's `DB` (Exec, Query, Ping, Close), made async.
 */

import type { Dialect } from "./dialects/dialect.js";

/** The built-in SQL families an adapter may name. Each stands for a built-in {@link Dialect}. */
export type DialectFamily = "mysql" | "postgres" | "sqlite";

/** A value an adapter must be able to bind. */
/**
 * A value an adapter must be able to bind. Booleans are left out on purpose:
 * PostgreSQL will not compare them with integer columns, so core never binds one.
 */
export type SqlValue = string | number | bigint | Date | Uint8Array | null;

/** One result row, keyed by column name (or alias). */
export type Row = Record<string, unknown>;

/** What a statement that returns no rows reports. */
export interface ExecResult {
  /**
   * Rows the statement *matched* (not only those whose values changed). All
   * adapters report matched rows: mysql2 sets FOUND_ROWS, PostgreSQL and
   * SQLite count matched rows natively. The engine relies on this: an UPDATE
   * fenced by a lease token returns 1 when the fence held, even if nothing
   * else changed.
   */
  readonly affectedRows: number;
  /**
   * The id an INSERT generated (AUTO_INCREMENT, SQLite rowid). Reported by the
   * mysql and sqlite families; PostgreSQL has none, and statements that need
   * the id there use `RETURNING`.
   */
  readonly insertId?: number | bigint | string | undefined;
}

/** A subscription made with {@link DB.listen}; call to stop listening. */
export type Unlisten = () => Promise<void>;

/**
 * A database connection (usually a pool) the queue runs on.
 *
 * Required: `exec`, `query`, `ping`, `close`, `dialect`. Optional members are
 * capabilities: an adapter that cannot provide one leaves it out, and the
 * engine falls back (polling instead of `listen`) or throws a typed
 * {@link UnsupportedError} naming what is missing.
 */
export interface DB {
  /**
   * Which SQL the adapter speaks: a built-in family's name (MariaDB and MySQL are
   * both `"mysql"`; the server is asked which), or a dialect object — one of the
   * built-in ones (`postgresDialect()`, …) or one written for another database.
   * Every statement core sends is written by this dialect.
   */
  readonly dialect: DialectFamily | Dialect;
  /** Runs a statement that returns no rows. */
  exec(sql: string, params?: readonly SqlValue[]): Promise<ExecResult>;
  /** Runs a statement that returns rows. Integer columns may come back as number, bigint or string; callers normalise. */
  query<T extends Row = Row>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  /** Resolves when the server answers a trivial round trip. */
  ping(): Promise<void>;
  /**
   * Closes the connection or pool the adapter was given (the Go library's
   * `Close`). The queue never calls it: `queue.stop()` leaves your connection
   * open. A DB bound to a transaction you manage does nothing here.
   */
  close(): Promise<void>;
  /**
   * Runs `fn` inside one transaction on one connection: commits when it
   * resolves, rolls back when it rejects. Absent when the adapter is already
   * bound to a transaction it does not own, or cannot open one.
   */
  transaction?<T>(fn: (tx: DB) => Promise<T>): Promise<T>;
  /**
   * Synchronous `exec`, for drivers that are synchronous (better-sqlite3), so
   * a job can be enqueued with `queue.addSync()` inside a synchronous
   * transaction. Absent elsewhere.
   */
  execSync?(sql: string, params?: readonly SqlValue[]): ExecResult;
  /** Synchronous `query`; see {@link DB.execSync}. */
  querySync?<T extends Row = Row>(sql: string, params?: readonly SqlValue[]): T[];
  /**
   * Subscribes to a notification channel (PostgreSQL LISTEN). Absent where the
   * database has no such thing; the engine then polls. `onError` is called
   * once if the subscription breaks (its connection died); the caller may
   * subscribe again.
   */
  listen?(
    channel: string,
    onMessage: (payload: string) => void,
    onError?: (error: unknown) => void,
  ): Promise<Unlisten>;
}
