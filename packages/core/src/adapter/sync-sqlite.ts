import type { DB } from "../db.js";
import { TransactionMisuseError } from "../errors.js";
import { defineDb, type Outcome, runTransaction } from "./define-db.js";
import { sqliteGate } from "./sqlite-gate.js";

/**
 * What {@link syncSqliteDb} needs of a synchronous SQLite driver
 * (better-sqlite3, `node:sqlite`): a few hooks over one open connection, each
 * a line or two in the adapter. `S` is the driver's prepared statement.
 */
export interface SyncSqliteDriver<S> {
  /** The driver's connection object: every DB made on it shares one {@link sqliteGate}. */
  readonly connection: object;
  /** Prepares a statement; {@link syncSqliteDb} keeps the result in a bounded cache. */
  prepare(sql: string): S;
  /** Runs a prepared statement with bound parameters: rows for a reader, else changes and the last row id. */
  run(statement: S, params: unknown[], wantRows: boolean): Outcome;
  /** Runs a statement without parameters or cache: BEGIN IMMEDIATE, COMMIT, ROLLBACK. */
  step(sql: string): void;
  /** Sets a pragma, e.g. `journal_mode = WAL`. */
  pragma(assignment: string): void;
  /** A file database this connection may write: worth switching to WAL. */
  walPossible(): boolean;
  /** False once the connection is closed. */
  isOpen(): boolean;
  /** Whether the connection is inside a transaction; undefined when the driver cannot say. */
  inTransaction(): boolean | undefined;
  close(): void;
}

/** The options a synchronous SQLite adapter offers its users (`fromBetterSqlite3`, `fromNodeSqlite`). */
export interface SyncSqliteOptions {
  /** Switch a file database to WAL, so readers never block the writer. Default true. */
  readonly wal?: boolean | undefined;
  /** How long a statement waits for another process's write lock, in ms. Default 5000. */
  readonly busyTimeoutMs?: number | undefined;
  /** Prepared statements kept per connection. Default 256. */
  readonly statementCacheSize?: number | undefined;
}

/** Settings of {@link syncSqliteDb}: the adapters' common options, and what an adapter built on one needs. */
export interface SyncSqliteSettings extends SyncSqliteOptions {
  /** The public function that errors name, e.g. `fromBetterSqlite3`. */
  readonly adapter: string;
  /**
   * Bound to a synchronous transaction the caller runs (a Drizzle `tx`):
   * usable only while it is open, never waits, sets no pragma, offers no
   * `transaction`, and `close()` does nothing.
   */
  readonly inSyncTransaction?: boolean | undefined;
  /**
   * The error a bound DB throws once its transaction has ended, after the
   * adapter's name: which transaction, and how to enqueue inside one.
   */
  readonly endedTransaction?: string | undefined;
}

/**
 * A `DB` on a synchronous SQLite driver's one connection, the body the
 * better-sqlite3 and `node:sqlite` adapters share:
 *
 * - Sets WAL (file databases) and a busy timeout on the connection.
 * - Keeps prepared statements in a bounded cache, oldest out first.
 * - `execSync`/`querySync` as well as `exec`/`query`, so `queue.addSync()`
 *   works inside the driver's own synchronous transaction.
 * - `transaction(fn)` is asynchronous: BEGIN IMMEDIATE through the
 *   connection's {@link sqliteGate}, so every other call on the connection
 *   waits for its end and calls from inside `fn` run in it. A synchronous
 *   call from outside it, which cannot wait, throws a `TransactionMisuseError`.
 */
export function syncSqliteDb<S>(driver: SyncSqliteDriver<S>, settings: SyncSqliteSettings): DB {
  const { adapter } = settings;
  const bound = settings.inSyncTransaction === true;
  // journal_mode cannot change inside a transaction; a bound DB leaves the connection as it is.
  if (!bound) {
    if (settings.wal !== false && driver.walPossible()) driver.pragma("journal_mode = WAL");
    driver.pragma(`busy_timeout = ${Math.max(0, Math.floor(settings.busyTimeoutMs ?? 5000))}`);
  }

  const cacheSize = settings.statementCacheSize ?? 256;
  const statements = new Map<string, S>();
  const prepare = (sql: string): S => {
    let stmt = statements.get(sql);
    if (stmt === undefined) {
      stmt = driver.prepare(sql);
      if (statements.size >= cacheSize) statements.delete(statements.keys().next().value as string);
      statements.set(sql, stmt);
    }
    return stmt;
  };

  const gate = sqliteGate(driver.connection);
  const runSync = (sql: string, params: unknown[], wantRows: boolean): Outcome => {
    gate.assertSyncTurn(adapter);
    if (bound && driver.inTransaction() === false) {
      throw new TransactionMisuseError(
        `${adapter}: ${settings.endedTransaction ?? "this DB is bound to a transaction that has ended."}`,
      );
    }
    return driver.run(prepare(sql), params, wantRows);
  };
  // Inside a synchronous transaction nothing else can run, so a bound DB never waits.
  const run = async (sql: string, params: unknown[], wantRows: boolean) => {
    if (!bound) await gate.turn();
    return runSync(sql, params, wantRows);
  };
  if (bound) return defineDb({ dialect: "sqlite", run, runSync });

  const tx = defineDb({ dialect: "sqlite", run, runSync });
  const step = (sql: string) => () => driver.step(sql);
  return defineDb({
    dialect: "sqlite",
    run,
    runSync,
    async close() {
      await gate.turn();
      if (driver.isOpen()) driver.close();
    },
    transaction: <T>(fn: (tx: DB) => Promise<T>): Promise<T> =>
      gate.hold(adapter, undefined, () =>
        runTransaction(
          { begin: step("BEGIN IMMEDIATE"), commit: step("COMMIT"), rollback: step("ROLLBACK") },
          () => fn(tx),
        ),
      ),
  });
}
