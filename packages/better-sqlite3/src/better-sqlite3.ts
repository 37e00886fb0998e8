import { AsyncLocalStorage } from "node:async_hooks";
import {
  AdapterArgumentError,
  type DB,
  type ExecResult,
  type Row,
  type SqlValue,
  TransactionMisuseError,
} from "@persistent-queue/core";

/** The subset of a better-sqlite3 `Statement` this adapter uses. */
interface Statement {
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

/** Options of {@link fromBetterSqlite3}. */
export interface FromBetterSqlite3Options {
  /** Switch a file database to WAL, so readers never block the writer. Default true. */
  readonly wal?: boolean;
  /** How long a statement waits for another process's write lock, in ms. Default 5000. */
  readonly busyTimeoutMs?: number;
  /** Prepared statements kept per connection. Default 256. */
  readonly statementCacheSize?: number;
}

const EXPECTED = "an open better-sqlite3 Database (an object with prepare() and pragma())";

/**
 * Refuses, at once, what is not an open better-sqlite3 Database (undefined, a
 * Promise, a file name, another driver's pool, a closed Database). By shape:
 * this package never imports better-sqlite3 at run time.
 */
function assertDatabase(database: unknown): asserts database is BetterSqlite3Database {
  const d = (typeof database === "object" && database !== null ? database : {}) as Record<
    string,
    unknown
  >;
  if (typeof d.prepare !== "function" || typeof d.pragma !== "function") {
    const hint =
      typeof database === "string"
        ? "A file name is not a connection: pass new Database(file) from better-sqlite3."
        : undefined;
    throw new AdapterArgumentError("fromBetterSqlite3", EXPECTED, database, hint);
  }
  if (d.open === false) {
    throw new AdapterArgumentError(
      "fromBetterSqlite3",
      EXPECTED,
      database,
      "It is closed: pass a new Database(file).",
    );
  }
}

/** The transaction that currently owns the connection, if any. */
interface ActiveTransaction {
  readonly token: symbol;
  readonly done: Promise<void>;
}

/**
 * Adapts a better-sqlite3 `Database` to the queue's {@link DB}: the embedded
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
  if (options.wal !== false && !database.memory && !database.readonly) {
    database.pragma("journal_mode = WAL");
  }
  database.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000))}`);

  const cacheSize = options.statementCacheSize ?? 256;
  const statements = new Map<string, Statement>();
  const prepare = (sql: string): Statement => {
    let stmt = statements.get(sql);
    if (stmt === undefined) {
      stmt = database.prepare(sql);
      if (statements.size >= cacheSize) statements.delete(statements.keys().next().value as string);
      statements.set(sql, stmt);
    }
    return stmt;
  };

  const context = new AsyncLocalStorage<symbol>();
  let active: ActiveTransaction | undefined;
  /** Waits until no transaction other than the caller's own holds the connection. */
  const turn = async (): Promise<void> => {
    while (active !== undefined && context.getStore() !== active.token) await active.done;
  };

  /** Refuses a synchronous call from outside an open asynchronous transaction: it would run inside it. */
  const syncTurn = (): void => {
    if (active !== undefined && context.getStore() !== active.token) {
      throw new TransactionMisuseError(
        "fromBetterSqlite3: a synchronous call cannot run while an asynchronous transaction holds the connection.",
      );
    }
  };
  const execSync = (sql: string, params: readonly SqlValue[] = []): ExecResult => {
    syncTurn();
    const stmt = prepare(sql);
    if (stmt.reader) return { affectedRows: stmt.all(...bind(params)).length };
    const { changes, lastInsertRowid } = stmt.run(...bind(params));
    const inserted = changes > 0 && /^\s*(insert|replace)\b/i.test(sql);
    return { affectedRows: changes, insertId: inserted ? lastInsertRowid : undefined };
  };
  const querySync = <T extends Row = Row>(sql: string, params: readonly SqlValue[] = []): T[] => {
    syncTurn();
    const stmt = prepare(sql);
    if (!stmt.reader) {
      stmt.run(...bind(params));
      return [];
    }
    return stmt.all(...bind(params)) as T[];
  };
  const exec = async (sql: string, params: readonly SqlValue[] = []): Promise<ExecResult> => {
    await turn();
    return execSync(sql, params);
  };
  const query = async <T extends Row = Row>(
    sql: string,
    params: readonly SqlValue[] = [],
  ): Promise<T[]> => {
    await turn();
    return querySync<T>(sql, params);
  };
  const ping = async () => {
    await query("SELECT 1");
  };

  const db: DB = {
    dialect: "sqlite",
    exec,
    query,
    execSync,
    querySync,
    ping,
    async close() {
      await turn();
      if (database.open) database.close();
    },
    async transaction<T>(fn: (tx: DB) => Promise<T>): Promise<T> {
      if (active !== undefined && context.getStore() === active.token) {
        throw new TransactionMisuseError(
          "fromBetterSqlite3: transactions do not nest; use the `tx` you were given.",
        );
      }
      await turn();
      let finish!: () => void;
      const token = Symbol("transaction");
      active = { token, done: new Promise<void>((resolve) => (finish = resolve)) };
      try {
        return await context.run(token, async () => {
          database.prepare("BEGIN IMMEDIATE").run();
          try {
            const tx: DB = {
              dialect: "sqlite",
              exec,
              query,
              execSync,
              querySync,
              ping,
              close: async () => {},
            };
            const result = await fn(tx);
            database.prepare("COMMIT").run();
            return result;
          } catch (err) {
            try {
              database.prepare("ROLLBACK").run();
            } catch {
              // SQLite may already have rolled back (e.g. SQLITE_FULL); the original error matters more.
            }
            throw err;
          }
        });
      } finally {
        active = undefined;
        finish();
      }
    },
  };
  return db;
}

/** better-sqlite3 binds numbers, bigints, strings, Buffers and null; it rejects Dates. */
function bind(params: readonly SqlValue[]): unknown[] {
  return params.map((p) => {
    if (p instanceof Date) return p.toISOString().replace("T", " ").replace("Z", "");
    return p;
  });
}
