import { AsyncLocalStorage } from "node:async_hooks";
import {
  AdapterArgumentError,
  type DB,
  type DialectFamily,
  type ExecResult,
  listenOnConnection,
  type Row,
  type SqlValue,
  TransactionMisuseError,
  type Unlisten,
  UnsupportedError,
} from "@persistent-queue/core";

/**
 * A Drizzle database or transaction handle made with the `mysql2`,
 * `node-postgres` or `better-sqlite3` driver. Typed loosely on purpose:
 * Drizzle keeps its session (and the driver client inside it) out of its
 * public types, so the adapter reads them at run time and checks them by
 * Drizzle's own entity kinds. Nothing from drizzle-orm is imported.
 */
export type DrizzleHandle = object & { transaction(...args: never[]): unknown };

/** Options of {@link fromDrizzle}. */
export interface FromDrizzleOptions {
  /** better-sqlite3 only: switch a file database to WAL on first use, as the raw adapter does. Default true. */
  readonly sqliteWal?: boolean;
  /** better-sqlite3 only: how long a statement waits for another process's write lock, in ms. Default 5000. */
  readonly sqliteBusyTimeoutMs?: number;
}

/** Drizzle tags every class with a static `Symbol.for("drizzle:entityKind")`; `is()` walks the chain the same way. */
const ENTITY_KIND = Symbol.for("drizzle:entityKind");
function entityKinds(value: unknown): string[] {
  const kinds: string[] = [];
  if (value === null || typeof value !== "object") return kinds;
  for (let c = Object.getPrototypeOf(value)?.constructor; c; c = Object.getPrototypeOf(c)) {
    const kind = (c as Record<symbol, unknown>)[ENTITY_KIND];
    if (typeof kind === "string") kinds.push(kind);
  }
  return kinds;
}

/** What drizzle's database and transaction objects hold (marked @internal in its types). */
interface Internals {
  readonly dialect: unknown;
  readonly session: { readonly client: unknown };
}

/** Drizzle's query builders' dialect classes, by the family they speak. */
const DIALECTS: Record<string, DialectFamily> = {
  MySqlDialect: "mysql",
  PgDialect: "postgres",
  SQLiteSyncDialect: "sqlite",
};
/** The drivers this adapter knows, by their session class. */
const DRIVERS: Record<string, DialectFamily> = {
  MySql2Session: "mysql",
  NodePgSession: "postgres",
  BetterSQLiteSession: "sqlite",
};

/** mysql2/promise pool, pool connection or connection; and node-postgres pool or client. */
interface Mysql2Client {
  query(sql: string, values?: unknown): Promise<[unknown, unknown]>;
  end?(): Promise<void>;
}
interface PgResult {
  rows: unknown[];
  rowCount: number | null;
}
interface PgClient {
  query(text: string, values?: unknown[]): Promise<PgResult>;
  on(event: string, listener: (arg: never) => void): unknown;
  removeListener(event: string, listener: (arg: never) => void): unknown;
  end?(): Promise<void>;
  release?(err?: Error | boolean): void;
}
interface PgPool extends PgClient {
  connect(): Promise<PgClient & { release(err?: Error | boolean): void }>;
  listenerCount(event: string): number;
  readonly totalCount: number;
}
/** better-sqlite3's Database and Statement, as far as the adapter uses them. */
interface SqliteStatement {
  readonly reader: boolean;
  run(...params: unknown[]): { changes: number; lastInsertRowid: number | bigint };
  all(...params: unknown[]): unknown[];
}
interface SqliteDatabase {
  prepare(sql: string): SqliteStatement;
  pragma(source: string): unknown;
  close(): unknown;
  readonly memory: boolean;
  readonly readonly: boolean;
  readonly open: boolean;
  readonly inTransaction: boolean;
}

const EXPECTED =
  "a Drizzle database or transaction made with the mysql2, node-postgres or better-sqlite3 driver";

/**
 * Adapts a Drizzle database, or the `tx` of a Drizzle transaction, to the
 * queue's {@link DB}. SQL and parameters go to the driver client Drizzle runs
 * on (for a `tx`, the connection its transaction holds) untouched.
 *
 * - The dialect family is Drizzle's own (MySqlDialect, PgDialect, SQLiteSyncDialect).
 * - `affectedRows` counts matched rows (mysql2's FOUND_ROWS, pg's rowCount, SQLite's changes).
 * - bigint values in rows become numbers when they are safe integers; boolean
 *   parameters bind as 1/0; Dates bind as UTC text on SQLite.
 * - On a root database, `transaction(fn)` is Drizzle's `db.transaction()` on
 *   mysql2 and node-postgres. Drizzle's better-sqlite3 transactions are
 *   synchronous and cannot await, so there it is BEGIN IMMEDIATE … COMMIT on
 *   the same connection (other calls wait; calls from inside `fn` join it).
 * - On a `tx`: no `transaction`, and `close()` does nothing. On better-sqlite3
 *   it has `execSync`/`querySync`, for `queue.addSync()` inside `db.transaction((tx) => …)`.
 * - `listen` on a node-postgres Pool (LISTEN/NOTIFY); none elsewhere.
 * - `close()` on a root database ends the pool, client or file Drizzle was given.
 * - Anything but a Drizzle database or transaction throws an `AdapterArgumentError`;
 *   one made with another driver (postgres-js, libsql, a proxy…) an `UnsupportedError`;
 *   misuse of a transaction a `TransactionMisuseError`.
 */
export function fromDrizzle(handle: DrizzleHandle, options: FromDrizzleOptions = {}): DB {
  const kinds = entityKinds(handle);
  const { dialect, session } = (kinds.length > 0 ? handle : {}) as unknown as Partial<Internals>;
  const dialectKind = entityKinds(dialect)[0];
  const sessionKind = entityKinds(session)[0];
  if (dialectKind === undefined || sessionKind === undefined) {
    // Not a Drizzle database or transaction: undefined, a Promise, a raw driver pool, a table…
    const hint =
      kinds.length > 0
        ? `It is a Drizzle ${kinds[0]}, not a database: pass the db that drizzle() returned, or a transaction's tx.`
        : undefined;
    throw new AdapterArgumentError("fromDrizzle", EXPECTED, handle, hint);
  }
  const family = DIALECTS[dialectKind];
  const driver = DRIVERS[sessionKind];
  if (!family || !driver || family !== driver) {
    // Drizzle's own class names (e.g. PostgresJsSession), nothing from the connection.
    throw new UnsupportedError(
      `fromDrizzle: Drizzle's ${sessionKind} (${dialectKind}) is not supported; make the Drizzle database with the mysql2, node-postgres or better-sqlite3 driver.`,
    );
  }
  if (!session?.client) {
    throw new AdapterArgumentError(
      "fromDrizzle",
      EXPECTED,
      handle,
      "Its session holds no driver client.",
    );
  }
  const inTransaction = kinds.some((k) => k.endsWith("Transaction"));
  const client = session.client;
  if (family === "sqlite") return fromSqlite(client as SqliteDatabase, inTransaction, options);
  const db = family === "mysql" ? mysqlDb(client as Mysql2Client) : pgDb(client as PgPool);
  if (inTransaction) {
    // Bound to a transaction Drizzle (or the user) owns: never end its connection.
    db.close = async () => {};
    delete db.listen;
  } else {
    const root = handle as unknown as {
      transaction<T>(fn: (tx: DrizzleHandle) => Promise<T>): Promise<T>;
    };
    db.transaction = <T>(fn: (tx: DB) => Promise<T>) =>
      root.transaction((tx) => fn(fromDrizzle(tx, options)));
  }
  return db;
}

/** mysql2 reports `affectedRows` (matched: FOUND_ROWS is on by default) and the AUTO_INCREMENT id. */
function mysqlDb(client: Mysql2Client): DB {
  return {
    dialect: "mysql",
    async exec(sql, params = []) {
      const [header] = await client.query(sql, bind(params, "mysql"));
      const { affectedRows, insertId } = header as { affectedRows?: number; insertId?: number };
      return { affectedRows: Number(affectedRows ?? 0), insertId: insertId ? insertId : undefined };
    },
    async query<T extends Row = Row>(sql: string, params: readonly SqlValue[] = []) {
      const [rows] = await client.query(sql, bind(params, "mysql"));
      return Array.isArray(rows) ? (rows.map(normaliseRow) as T[]) : [];
    },
    async ping() {
      await client.query("SELECT 1");
    },
    async close() {
      await client.end?.();
    },
  };
}

const isPgPool = (c: PgClient): c is PgPool =>
  typeof (c as Partial<PgPool>).totalCount === "number";

/** node-postgres: `rowCount` is the matched rows; no insertId (statements that need it use RETURNING). */
function pgDb(client: PgPool | PgClient): DB {
  if (isPgPool(client) && client.listenerCount("error") === 0) {
    // An idle client dropped by a server restart emits 'error' on the pool; unhandled, it kills the process.
    client.on("error", () => {});
  }
  const db: DB = {
    dialect: "postgres",
    async exec(sql, params = []): Promise<ExecResult> {
      return { affectedRows: (await client.query(sql, bind(params, "postgres"))).rowCount ?? 0 };
    },
    async query<T extends Row = Row>(sql: string, params: readonly SqlValue[] = []) {
      return (await client.query(sql, bind(params, "postgres"))).rows.map(normaliseRow) as T[];
    },
    async ping() {
      await client.query("SELECT 1");
    },
    async close() {
      if (isPgPool(client)) await client.end?.();
      else if (client.release) client.release();
      else await client.end?.();
    },
  };
  if (isPgPool(client))
    db.listen = (channel, onMessage, onBroken) => listen(client, channel, onMessage, onBroken);
  return db;
}

/** LISTEN on one pooled connection held until unlistened (core's shared helper); a dead one is destroyed. */
async function listen(
  pool: PgPool,
  channel: string,
  onMessage: (payload: string) => void,
  onBroken?: (error: unknown) => void,
): Promise<Unlisten> {
  const conn = await pool.connect();
  return listenOnConnection({
    connection: conn,
    channel,
    onMessage,
    onBroken,
    run: (sql) => conn.query(sql),
    release: (broken) => conn.release(broken),
  });
}

/** Per better-sqlite3 connection, shared by every DB made on it: statement cache and the open async transaction. */
interface SqliteState {
  readonly statements: Map<string, SqliteStatement>;
  readonly context: AsyncLocalStorage<symbol>;
  active?: { readonly token: symbol; readonly done: Promise<void> } | undefined;
}
const sqliteStates = new WeakMap<SqliteDatabase, SqliteState>();

function fromSqlite(database: SqliteDatabase, bound: boolean, options: FromDrizzleOptions): DB {
  let state = sqliteStates.get(database);
  if (!state) {
    state = { statements: new Map(), context: new AsyncLocalStorage() };
    sqliteStates.set(database, state);
    // journal_mode cannot change inside a transaction; a tx handle leaves it as it is.
    if (options.sqliteWal !== false && !bound && !database.memory && !database.readonly) {
      database.pragma("journal_mode = WAL");
    }
    database.pragma(
      `busy_timeout = ${Math.max(0, Math.floor(options.sqliteBusyTimeoutMs ?? 5000))}`,
    );
  }
  const s = state;
  const prepare = (sql: string): SqliteStatement => {
    let stmt = s.statements.get(sql);
    if (!stmt) {
      stmt = database.prepare(sql);
      if (s.statements.size >= 256) s.statements.delete(s.statements.keys().next().value as string);
      s.statements.set(sql, stmt);
    }
    return stmt;
  };
  const mine = () => s.active !== undefined && s.context.getStore() === s.active.token;
  const syncTurn = () => {
    if (s.active !== undefined && !mine()) {
      throw new TransactionMisuseError(
        "fromDrizzle: a synchronous call cannot run while an asynchronous transaction holds the connection.",
      );
    }
    // A DB bound to Drizzle's synchronous transaction is only valid while it runs (use queue.addSync there).
    if (bound && !database.inTransaction) {
      throw new TransactionMisuseError(
        "fromDrizzle: this DB is bound to a better-sqlite3 transaction that has ended; inside db.transaction((tx) => …) enqueue with queue.addSync().",
      );
    }
  };
  const execSync = (sql: string, params: readonly SqlValue[] = []): ExecResult => {
    syncTurn();
    const stmt = prepare(sql);
    if (stmt.reader) return { affectedRows: stmt.all(...bind(params, "sqlite")).length };
    const { changes, lastInsertRowid } = stmt.run(...bind(params, "sqlite"));
    const inserted = changes > 0 && /^\s*(insert|replace)\b/i.test(sql);
    return { affectedRows: changes, insertId: inserted ? lastInsertRowid : undefined };
  };
  const querySync = <T extends Row = Row>(sql: string, params: readonly SqlValue[] = []): T[] => {
    syncTurn();
    const stmt = prepare(sql);
    if (!stmt.reader) {
      stmt.run(...bind(params, "sqlite"));
      return [];
    }
    return stmt.all(...bind(params, "sqlite")).map(normaliseRow) as T[];
  };
  /** Waits while an async transaction other than the caller's own holds the connection. */
  const turn = async () => {
    while (s.active !== undefined && !mine()) await s.active.done;
  };
  // Inside Drizzle's synchronous transaction nothing else can run, so a bound DB never waits.
  const exec = async (sql: string, params?: readonly SqlValue[]) => {
    if (!bound) await turn();
    return execSync(sql, params);
  };
  const query = async <T extends Row = Row>(sql: string, params?: readonly SqlValue[]) => {
    if (!bound) await turn();
    return querySync<T>(sql, params);
  };
  const ping = async () => void (await query("SELECT 1"));
  const base = { dialect: "sqlite" as const, exec, query, execSync, querySync, ping };
  if (bound) return { ...base, close: async () => {} };
  return {
    ...base,
    async close() {
      await turn();
      if (database.open) database.close();
    },
    async transaction<T>(fn: (tx: DB) => Promise<T>): Promise<T> {
      if (mine())
        throw new TransactionMisuseError(
          "fromDrizzle: transactions do not nest; use the `tx` you were given.",
        );
      await turn();
      let finish!: () => void;
      const token = Symbol("transaction");
      s.active = { token, done: new Promise<void>((resolve) => (finish = resolve)) };
      try {
        return await s.context.run(token, async () => {
          database.prepare("BEGIN IMMEDIATE").run();
          try {
            const result = await fn({ ...base, close: async () => {} });
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
        s.active = undefined;
        finish();
      }
    },
  };
}

/** Booleans bind as 1/0 everywhere (PostgreSQL will not compare them with integers); SQLite cannot bind Dates. */
function bind(params: readonly SqlValue[], family: DialectFamily): unknown[] {
  return params.map((p: unknown) => {
    if (typeof p === "boolean") return p ? 1 : 0;
    if (family === "sqlite" && p instanceof Date)
      return p.toISOString().replace("T", " ").replace("Z", "");
    return p;
  });
}

/** bigint column values (COUNT(*) with safeIntegers / supportBigNumbers) become numbers when exact. */
function normaliseRow(row: unknown): unknown {
  if (row === null || typeof row !== "object") return row;
  const out = row as Record<string, unknown>;
  for (const key of Object.keys(out)) {
    const v = out[key];
    if (
      typeof v === "bigint" &&
      v <= BigInt(Number.MAX_SAFE_INTEGER) &&
      v >= BigInt(Number.MIN_SAFE_INTEGER)
    ) {
      out[key] = Number(v);
    }
  }
  return out;
}
