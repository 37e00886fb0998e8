import type { DB } from "@persistent-queue/core";
import {
  expectArgument,
  membersOf,
  type Outcome,
  type SyncSqliteOptions,
  syncSqliteDb,
} from "@persistent-queue/core/adapter";

/** The subset of a better-sqlite3 `Statement` this adapter uses. */
export interface Statement {
  readonly reader: boolean;
  run(...params: unknown[]): { changes: number; lastInsertRowid: number | bigint };
  all(...params: unknown[]): unknown[];
}
/** The subset of a better-sqlite3 `Database` this adapter uses. */
export interface BetterSqlite3Database {
  prepare(sql: string): Statement;
  pragma(source: string, options?: { simple?: boolean }): unknown;
  close(): unknown;
  readonly memory: boolean;
  readonly readonly: boolean;
  readonly open: boolean;
}

/** Options of {@link fromBetterSqlite3}: the kit's, shared with node-sqlite. */
export type FromBetterSqlite3Options = SyncSqliteOptions;

const EXPECTED = "an open better-sqlite3 Database (an object with prepare() and pragma())";

/**
 * Refuses, at once, what is not an open better-sqlite3 Database (undefined, a
 * Promise, a file name, another driver's pool, a closed Database). By shape:
 * this package never imports better-sqlite3 at run time.
 */
function assertDatabase(database: unknown): asserts database is BetterSqlite3Database {
  const d = membersOf(database);
  const fileName =
    typeof database === "string"
      ? "A file name is not a connection: pass new Database(file) from better-sqlite3."
      : undefined;
  const adapter = "fromBetterSqlite3";
  expectArgument(
    typeof d.prepare === "function" && typeof d.pragma === "function",
    adapter,
    EXPECTED,
    database,
    fileName,
  );
  expectArgument(
    d.open !== false,
    adapter,
    EXPECTED,
    database,
    "It is closed: pass a new Database(file).",
  );
}

/**
 * Adapts a better-sqlite3 `Database` to the queue's `DB`: the embedded
 * default, no server to run.
 *
 * - Sets WAL and a busy timeout (see options) on the connection you pass.
 * - Binds `Date` as UTC text `YYYY-MM-DD HH:MM:SS.SSS` (what SQLite's date
 *   functions produce), which better-sqlite3 cannot bind itself.
 * - `affectedRows` is SQLite's `changes` (rows matched by the WHERE clause).
 * - `insertId` is `lastInsertRowid` after an INSERT that added a row.
 * - `transaction(fn)` is asynchronous: BEGIN IMMEDIATE, then `fn` may await.
 *   The connection is single, so while it is open every other call through
 *   this adapter waits for it; calls made from inside `fn` (through `tx` or
 *   through this same `DB`) run in the transaction. Don't await anything slow
 *   inside it: it holds SQLite's one write lock.
 * - better-sqlite3's own `db.transaction(fn)` is synchronous and cannot await:
 *   inside it, enqueue with `queue.addSync(type, params)` (this adapter has
 *   `execSync`/`querySync`), or use this adapter's async `transaction`.
 * - No `listen`; the engine signals in process and polls across processes.
 * - Anything but an open Database throws an `AdapterArgumentError`; a nested
 *   `transaction()`, or a synchronous call from outside an open asynchronous
 *   transaction, throws a `TransactionMisuseError`.
 */
export function fromBetterSqlite3(
  database: BetterSqlite3Database,
  options: FromBetterSqlite3Options = {},
): DB {
  assertDatabase(database);
  return betterSqlite3Db(database, { ...options, adapter: "fromBetterSqlite3" });
}

/** Settings of {@link betterSqlite3Db}: the options, and what an adapter built on this one needs. */
export interface BetterSqlite3Settings extends FromBetterSqlite3Options {
  /** The public function that errors name, e.g. `fromDrizzle`. */
  readonly adapter: string;
  /**
   * Bound to a synchronous better-sqlite3 transaction the caller runs (a
   * Drizzle `tx`): usable only while it is open, never waits, sets no
   * pragma, offers no `transaction`, and `close()` does nothing.
   */
  readonly inSyncTransaction?: boolean;
}

/**
 * {@link fromBetterSqlite3} without the argument check, for adapters that
 * reach a better-sqlite3 Database through their own object (Drizzle). Every
 * DB on one Database shares its transaction gate (core's `sqliteGate`), so an
 * asynchronous transaction opened through any of them holds them all.
 */
export function betterSqlite3Db(
  database: BetterSqlite3Database & { readonly inTransaction?: boolean },
  settings: BetterSqlite3Settings,
): DB {
  // The body (pragmas, statement cache, gate, transactions) is core's, shared with node:sqlite.
  return syncSqliteDb<Statement>(
    {
      connection: database,
      prepare: (sql) => database.prepare(sql),
      run: runStatement,
      step: (sql) => void database.prepare(sql).run(),
      pragma: (assignment) => void database.pragma(assignment),
      walPossible: () => !database.memory && !database.readonly,
      isOpen: () => database.open,
      inTransaction: () => database.inTransaction,
      close: () => void database.close(),
    },
    {
      ...settings,
      endedTransaction:
        "this DB is bound to a better-sqlite3 transaction that has ended; inside db.transaction((tx) => …) enqueue with queue.addSync().",
    },
  );
}

/**
 * Runs a prepared better-sqlite3 statement with bound parameters: its rows
 * when it returns rows, else its changes and last row id. Shared with the
 * adapters that reach a better-sqlite3 Database through an ORM (TypeORM).
 */
export function runStatement(stmt: Statement, params: unknown[]): Outcome {
  // better-sqlite3 refuses run() on a statement that returns rows (SELECT, … RETURNING).
  if (stmt.reader) return { rows: stmt.all(...params) };
  const { changes, lastInsertRowid } = stmt.run(...params);
  return { affectedRows: changes, insertId: lastInsertRowid };
}
