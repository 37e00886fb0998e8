import { type BetterSqlite3Database, betterSqlite3Db } from "@persistent-queue/better-sqlite3";
import {
  AdapterArgumentError,
  type DB,
  type DialectFamily,
  type Row,
  type SqlValue,
  TransactionMisuseError,
  UnsupportedError,
} from "@persistent-queue/core";
import {
  hasMethods,
  listenOnConnection,
  membersOf,
  sqliteGate,
  withConnection,
} from "@persistent-queue/core/adapter";
import { fromMysql2, type Mysql2Connection } from "@persistent-queue/mysql2";
import { fromPg, type PgClient } from "@persistent-queue/pg";

/**
 * A Knex instance (`knex(config)`) or transaction (`trx`), typed structurally
 * so this package never imports Knex at run time: any Knex 3 object fits.
 * `client` is Knex's own (`any` in its types); the adapter uses its
 * `driverName`, `acquireConnection()` and `releaseConnection()`.
 */
export interface KnexHandle {
  readonly client: unknown;
  transaction(...args: never[]): unknown;
  destroy(...args: never[]): unknown;
  /** True on a transaction (`trx`). */
  readonly isTransaction?: boolean;
}

/** Options of {@link fromKnex}. */
export interface FromKnexOptions {
  /** better-sqlite3 only: switch a file database to WAL on first use, as `fromBetterSqlite3` does. Default true. */
  readonly sqliteWal?: boolean;
  /** better-sqlite3 only: how long a statement waits for another process's write lock, in ms. Default 5000. */
  readonly sqliteBusyTimeoutMs?: number;
}

/** What the adapter uses of Knex's client: its driver's name and its pool. */
interface KnexClient {
  readonly driverName?: unknown;
  acquireConnection(): Promise<object>;
  releaseConnection(connection: object): unknown;
}
/** A Knex transaction's own members. */
interface KnexTransaction {
  isCompleted(): boolean;
}

/** The drivers this adapter runs on, by Knex's `client.driverName`. */
const FAMILIES: Record<string, DialectFamily> = {
  mysql2: "mysql",
  pg: "postgres",
  "better-sqlite3": "sqlite",
};

const EXPECTED =
  "a Knex instance or transaction (knex({ client: 'mysql2' | 'pg' | 'better-sqlite3', … }), or a trx)";

/** The raw adapter's DB on each driver connection Knex hands out (made once per connection). */
const perConnection = new WeakMap<object, DB>();

/**
 * Adapts a Knex 3 instance, or a transaction `trx`, to the queue's `DB`, on
 * Knex's `mysql2`, `pg` (alias `postgres`) and `better-sqlite3` clients.
 *
 * - Statements run on the driver connection Knex manages, taken with
 *   `knex.client.acquireConnection()` and handed back after (on a `trx`, its
 *   own connection), through the raw adapter of that driver (`fromMysql2`,
 *   `fromPg`, better-sqlite3's): core's SQL and parameters reach the driver
 *   untouched. `knex.raw()` would rewrite `?` and `??` and refuse `$1`.
 * - `transaction(fn)` on an instance: `knex.transaction()` on mysql2 and pg;
 *   on better-sqlite3, BEGIN IMMEDIATE on Knex's connection through the kit's
 *   gate (Knex's own `BEGIN` is deferred), and calls from inside `fn` join it.
 * - On a `trx`: no `transaction`, no `listen`, `close()` does nothing, and a
 *   statement after the transaction ended throws a `TransactionMisuseError`.
 * - `listen` on pg: one connection of Knex's pool is held while listening.
 * - `close()` on an instance is `knex.destroy()`.
 * - Anything but a Knex instance or transaction throws an `AdapterArgumentError`;
 *   another client (mysql, mariadb, sqlite3, pgnative, mssql…) an `UnsupportedError`.
 */
export function fromKnex(knex: KnexHandle, options: FromKnexOptions = {}): DB {
  const client = membersOf(membersOf(knex).client) as unknown as KnexClient;
  if (
    !hasMethods(knex, "transaction", "destroy") ||
    !hasMethods(client, "acquireConnection", "releaseConnection")
  ) {
    throw new AdapterArgumentError("fromKnex", EXPECTED, knex);
  }
  const driver = String(client.driverName);
  const family = FAMILIES[driver];
  if (!family) {
    throw new UnsupportedError(
      `fromKnex: Knex's ${driver} client is not supported; use the mysql2, pg or better-sqlite3 client.`,
    );
  }
  const trx = knex.isTransaction === true ? (knex as unknown as KnexTransaction) : undefined;

  /** The raw adapter on one connection: its statements (and on SQLite its transaction); never closed, Knex owns the connection. */
  const rawDb = (connection: object): DB => {
    let db = perConnection.get(connection);
    if (db) return db;
    if (family === "sqlite") {
      const database = connection as BetterSqlite3Database & { inTransaction: boolean };
      const settings = { adapter: "fromKnex", inSyncTransaction: database.inTransaction };
      db = betterSqlite3Db(database, {
        ...settings,
        wal: options.sqliteWal,
        busyTimeoutMs: options.sqliteBusyTimeoutMs,
      });
      // Seen first inside a Knex transaction: no pragma was set, so not kept for later.
      if (settings.inSyncTransaction) return db;
    } else {
      db =
        family === "mysql"
          ? // Knex holds mysql2's callback connection; promise() wraps the same connection.
            fromMysql2((connection as { promise(): Mysql2Connection }).promise(), {
              inTransaction: true,
            })
          : fromPg(connection as PgClient, { inTransaction: true });
    }
    perConnection.set(connection, db);
    return db;
  };

  // SQLite: inside transaction(fn), calls through this DB run in that transaction (Knex's
  // pool has one connection, which the transaction holds: waiting for it would never end).
  const gate = sqliteGate<DB>(client);
  const onConnection = async <T>(use: (db: DB) => Promise<T>): Promise<T> => {
    if (trx?.isCompleted()) {
      throw new TransactionMisuseError(
        "fromKnex: the Knex transaction has already ended; enqueue inside knex.transaction(async (trx) => …), before it commits.",
      );
    }
    const scope = gate.scope();
    if (scope) return use(scope);
    return withConnection(
      () => client.acquireConnection(),
      (connection) => client.releaseConnection(connection),
      (connection) => use(rawDb(connection)),
    );
  };

  const db: DB = {
    dialect: family,
    exec: (sql, params) => onConnection((d) => d.exec(sql, params)),
    query: <T extends Row = Row>(sql: string, params?: readonly SqlValue[]) =>
      onConnection((d) => d.query<T>(sql, params)),
    ping: () => onConnection((d) => d.ping()),
    close: async () => {
      if (!trx) await (knex.destroy as () => Promise<void>)();
    },
  };
  if (trx) return db;

  db.transaction = async <T>(fn: (tx: DB) => Promise<T>): Promise<T> => {
    gate.assertNotNested("fromKnex");
    if (family !== "sqlite") {
      const root = knex as unknown as {
        transaction(fn: (trx: KnexHandle) => Promise<T>): Promise<T>;
      };
      return root.transaction((t) => fn(fromKnex(t, options)));
    }
    return onConnection((raw) =>
      // The raw adapter's BEGIN IMMEDIATE; the gate sends this DB's calls from inside fn to it.
      gate.hold("fromKnex", raw, () => (raw.transaction as NonNullable<DB["transaction"]>)(fn)),
    );
  };
  if (family === "postgres") {
    db.listen = async (channel, onMessage, onBroken) => {
      const connection = (await client.acquireConnection()) as PgClient;
      // A broken connection goes back too: Knex marked it disposed, and its pool destroys it.
      const release = () => void client.releaseConnection(connection);
      return listenOnConnection({ connection, channel, onMessage, onBroken, release });
    };
  }
  return db;
}
