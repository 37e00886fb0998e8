import { type BetterSqlite3Database, betterSqlite3Db } from "@persistent-queue/better-sqlite3";
import {
  AdapterArgumentError,
  type DB,
  type DialectFamily,
  UnsupportedError,
} from "@persistent-queue/core";
import { fromMysql2, type Mysql2Connection } from "@persistent-queue/mysql2";
import { fromPg, type PgClient } from "@persistent-queue/pg";
import { fromPostgresJs, type PostgresJsHandle } from "@persistent-queue/postgres";

/**
 * A Drizzle database or transaction handle made with the `mysql2`,
 * `node-postgres`, `postgres-js` or `better-sqlite3` driver. Typed loosely on purpose:
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
  PostgresJsSession: "postgres",
  BetterSQLiteSession: "sqlite",
};

const EXPECTED =
  "a Drizzle database or transaction made with the mysql2, node-postgres, postgres-js or better-sqlite3 driver";

/**
 * Adapts a Drizzle database, or the `tx` of a Drizzle transaction, to the
 * queue's `DB`. Drizzle is a wrapper around a driver client, so this is
 * the raw adapter for that client (`fromMysql2`, `fromPg`, `fromPostgresJs`, better-sqlite3's),
 * given the client Drizzle runs on (for a `tx`, the connection its
 * transaction holds): the same SQL path, results and rules as the raw adapters.
 *
 * - The dialect family is Drizzle's own (MySqlDialect, PgDialect, SQLiteSyncDialect).
 * - On a root database, `transaction(fn)` is Drizzle's `db.transaction()` on
 *   mysql2, node-postgres and postgres-js. Drizzle's better-sqlite3 transactions are
 *   synchronous and cannot await, so there it is the raw adapter's BEGIN
 *   IMMEDIATE … COMMIT on the same connection (other calls wait; calls from
 *   inside `fn` join it).
 * - On a `tx`: no `transaction`, no `listen`, and `close()` does nothing. On
 *   better-sqlite3 it has `execSync`/`querySync`, for `queue.addSync()` inside
 *   `db.transaction((tx) => …)`, and refuses use after that transaction ended.
 * - `listen` on node-postgres and postgres-js (LISTEN/NOTIFY), as `fromPg` and
 *   `fromPostgresJs`; none elsewhere.
 * - `close()` on a root database ends the pool, client or file Drizzle was given.
 * - Anything but a Drizzle database or transaction throws an `AdapterArgumentError`;
 *   one made with another driver (libsql, neon, a proxy…) an `UnsupportedError`;
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
      `fromDrizzle: Drizzle's ${sessionKind} (${dialectKind}) is not supported; make the Drizzle database with the mysql2, node-postgres, postgres-js or better-sqlite3 driver.`,
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
  // The raw adapters, on the driver client Drizzle runs on (for a tx, the connection its transaction holds).
  const client = session.client;
  if (family === "sqlite") {
    return betterSqlite3Db(client as BetterSqlite3Database, {
      adapter: "fromDrizzle",
      wal: options.sqliteWal,
      busyTimeoutMs: options.sqliteBusyTimeoutMs,
      inSyncTransaction: inTransaction,
    });
  }
  const db =
    family === "mysql"
      ? fromMysql2(client as Mysql2Connection, { inTransaction })
      : sessionKind === "PostgresJsSession"
        ? fromPostgresJs(client as PostgresJsHandle) // a tx's client is postgres.js's own tx
        : fromPg(client as PgClient, { inTransaction });
  if (inTransaction) {
    delete db.listen; // the transaction's connection is Drizzle's; LISTEN would hold it
  } else {
    // Drizzle's own db.transaction(), so its query builders and ours share the transaction.
    const root = handle as unknown as {
      transaction<T>(fn: (tx: DrizzleHandle) => Promise<T>): Promise<T>;
    };
    db.transaction = <T>(fn: (tx: DB) => Promise<T>) =>
      root.transaction((tx) => fn(fromDrizzle(tx, options)));
  }
  return db;
}
