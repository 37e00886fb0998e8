import type { DB } from "@persistent-queue/core";
import {
  expectArgument,
  membersOf,
  normaliseValue,
  type SyncSqliteOptions,
  syncSqliteDb,
} from "@persistent-queue/core/adapter";

// Typed by shape, and never imported: this package loads on Node 20, which has
// no node:sqlite, and its types need @types/node 22+. Members that later Node
// releases added (isOpen, location, columns, isTransaction) are optional, and
// the adapter works without them.

/** The subset of a `node:sqlite` `StatementSync` this adapter uses. */
export interface NodeSqliteStatement {
  run(...params: unknown[]): { changes: number | bigint; lastInsertRowid: number | bigint };
  all(...params: unknown[]): unknown[];
  setReadBigInts(enabled: boolean): void;
  /** Node 22.16+, 23.11+: the result columns; none for a statement that returns no rows. */
  columns?(): unknown[];
}
/** The subset of a `node:sqlite` `DatabaseSync` this adapter uses. */
export interface NodeSqliteDatabase {
  prepare(sql: string): NodeSqliteStatement;
  exec(sql: string): void;
  close(): void;
  /** Node 22.15+, 23.11+. */
  readonly isOpen?: boolean;
  /** Node 22.15+, 23.11+. */
  readonly isTransaction?: boolean;
  /** Node 22.16+, 24: the file's path; null for an in-memory database. */
  location?(dbName?: string): string | null;
}

/** Options of {@link fromNodeSqlite}: the kit's, shared with better-sqlite3. */
export type FromNodeSqliteOptions = SyncSqliteOptions;

const EXPECTED = "an open node:sqlite DatabaseSync (an object with prepare() and exec())";

/**
 * Refuses, at once, what is not an open DatabaseSync (undefined, a Promise, a
 * file name, another driver's pool, a better-sqlite3 Database, a closed one).
 */
function assertDatabase(database: unknown): asserts database is NodeSqliteDatabase {
  const d = membersOf(database);
  const fileName =
    typeof database === "string"
      ? 'A file name is not a connection: pass new DatabaseSync(file) from "node:sqlite".'
      : undefined;
  const adapter = "fromNodeSqlite";
  expectArgument(
    typeof d.prepare === "function" && typeof d.exec === "function",
    adapter,
    EXPECTED,
    database,
    fileName,
  );
  // Both have prepare() and exec(), but better-sqlite3's run() refuses a statement that returns rows.
  expectArgument(
    typeof d.pragma !== "function",
    adapter,
    EXPECTED,
    database,
    "It looks like a better-sqlite3 Database: fromBetterSqlite3 from @persistent-queue/better-sqlite3 adapts it.",
  );
  expectArgument(
    d.isOpen !== false,
    adapter,
    EXPECTED,
    database,
    "It is closed (or made with { open: false }): pass an open DatabaseSync.",
  );
}

const readers = new WeakMap<NodeSqliteStatement, boolean>();

/**
 * Whether a statement returns rows (SELECT, PRAGMA, … RETURNING): then all()
 * runs it and its rows count as the affected ones, as with better-sqlite3.
 * Asked of columns() once per statement; before Node 22.16 there is none, and
 * the caller's intent decides (query() reads rows, exec() a count).
 */
function isReader(stmt: NodeSqliteStatement, wantRows: boolean): boolean {
  if (typeof stmt.columns !== "function") return wantRows;
  let reader = readers.get(stmt);
  if (reader === undefined) {
    reader = stmt.columns().length > 0;
    readers.set(stmt, reader);
  }
  return reader;
}

/**
 * A row as every other adapter gives it: a plain object (node:sqlite's have a
 * null prototype), its bigints under core's rule. One copy per row, made
 * here, so the kit's own pass finds no bigint left and copies nothing.
 */
function plainRow(row: unknown): unknown {
  if (row === null || typeof row !== "object") return row;
  const plain: Record<string, unknown> = {};
  for (const key in row) plain[key] = normaliseValue((row as Record<string, unknown>)[key]);
  return plain;
}

/** SQLITE_READONLY, node:sqlite's `errcode` when a read-only connection is asked to write. */
const SQLITE_READONLY = 8;

/**
 * Adapts a `DatabaseSync` from Node's built-in `node:sqlite` (Node 22.13+,
 * or 22.5+ with `--experimental-sqlite`) to the queue's `DB`: embedded
 * SQLite with nothing to install or compile.
 *
 * - Sets WAL and a busy timeout (see options) on the connection you pass.
 * - Binds `Date` as UTC text `YYYY-MM-DD HH:MM:SS.SSS` (what SQLite's date
 *   functions produce).
 * - Reads integers as bigints (`setReadBigInts`), then applies core's rule:
 *   a value that fits a safe integer becomes a number, a larger one stays a
 *   bigint, exact (node:sqlite would otherwise throw on it).
 * - `affectedRows` is SQLite's `changes` (rows matched by the WHERE clause).
 * - `insertId` is `lastInsertRowid` after an INSERT that added a row.
 * - `transaction(fn)` is asynchronous: BEGIN IMMEDIATE, then `fn` may await.
 *   The connection is single, so while it is open every other call through
 *   this adapter waits for it; calls made from inside `fn` (through `tx` or
 *   through this same `DB`) run in the transaction. Don't await anything slow
 *   inside it: it holds SQLite's one write lock.
 * - A transaction of your own on the connection (`database.exec("BEGIN")` …
 *   `"COMMIT"`) is synchronous: inside it, enqueue with
 *   `queue.addSync(type, params)` (this adapter has `execSync`/`querySync`).
 * - No `listen`; the engine signals in process and polls across processes.
 * - Anything but an open DatabaseSync throws an `AdapterArgumentError`; a
 *   nested `transaction()`, or a synchronous call from outside an open
 *   asynchronous transaction, throws a `TransactionMisuseError`.
 */
export function fromNodeSqlite(
  database: NodeSqliteDatabase,
  options: FromNodeSqliteOptions = {},
): DB {
  assertDatabase(database);
  // The body (pragmas, statement cache, gate, transactions) is core's, shared with better-sqlite3.
  return syncSqliteDb<NodeSqliteStatement>(
    {
      connection: database,
      prepare(sql) {
        const stmt = database.prepare(sql);
        stmt.setReadBigInts(true);
        return stmt;
      },
      run(stmt, params, wantRows) {
        if (isReader(stmt, wantRows)) return { rows: stmt.all(...params).map(plainRow) };
        const { changes, lastInsertRowid } = stmt.run(...params);
        return { affectedRows: Number(changes), insertId: lastInsertRowid };
      },
      step: (sql) => database.exec(sql),
      pragma(assignment) {
        try {
          database.exec(`PRAGMA ${assignment}`);
        } catch (err) {
          // A read-only connection (readOnly: true) keeps its journal mode; node:sqlite cannot say up front.
          const readOnly = (err as { errcode?: unknown } | null)?.errcode === SQLITE_READONLY;
          if (!(readOnly && assignment.startsWith("journal_mode"))) throw err;
        }
      },
      walPossible: () => database.location?.() !== null,
      isOpen: () => database.isOpen !== false,
      inTransaction: () => database.isTransaction,
      close() {
        try {
          database.close();
        } catch (err) {
          // Closed already, by its owner, on a Node without isOpen to tell.
          if (database.isOpen !== undefined) throw err;
        }
      },
    },
    { ...options, adapter: "fromNodeSqlite" },
  );
}
