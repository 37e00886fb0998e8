import {
  ConfigError,
  type DB,
  type DialectFamily,
  TransactionMisuseError,
  UnsupportedError,
} from "@persistent-queue/core";
import {
  defineDb,
  expectArgument,
  hasMethods,
  listenOnConnection,
  membersOf,
  retryWhileBusy,
  sqliteGate,
  withConnection,
} from "@persistent-queue/core/adapter";
import { type Driver, type PgClient, RUNNERS, type Sqlite3Database } from "./drivers.js";

/**
 * The subset of a Sequelize 6 instance this adapter uses, typed structurally
 * so this package never imports Sequelize at run time. A `new Sequelize(...)` fits.
 */
export interface SequelizeInstance {
  /** `"mysql" | "mariadb" | "postgres" | "sqlite"` are supported. */
  getDialect(): string;
  readonly config: { readonly dialectOptions?: object | undefined };
  readonly connectionManager: {
    getConnection(options: { type: "read" | "write" }): Promise<object>;
    releaseConnection(connection: object): unknown;
  };
  transaction<T>(
    options: { type?: string },
    autoCallback: (t: SequelizeTransaction) => PromiseLike<T>,
  ): Promise<T>;
  close(): Promise<void>;
}

/**
 * A Sequelize `Transaction` (from `sequelize.transaction(...)`). Its driver
 * connection (`transaction.connection`, set once it has begun) is what
 * statements run on; Sequelize does not declare that member in its types.
 */
export interface SequelizeTransaction {
  commit(): Promise<void>;
  rollback(): Promise<void>;
}

/** Options of {@link fromSequelize}. */
export interface FromSequelizeOptions {
  /**
   * A Sequelize transaction you manage: every statement runs in it, `close()`
   * does nothing and no nested `transaction()` is offered. Use it for
   * `queue.add(type, params, { db: fromSequelize(sequelize, { transaction: t }) })`.
   */
  readonly transaction?: SequelizeTransaction;
  /** SQLite only: switch a file database to WAL so readers never block the writer. Default true. */
  readonly wal?: boolean;
  /** SQLite only: how long a statement waits for another connection's write lock, in ms. Default 5000. */
  readonly busyTimeoutMs?: number;
}

const DRIVERS: Record<string, { family: DialectFamily; driver: Driver }> = {
  mysql: { family: "mysql", driver: "mysql2" },
  mariadb: { family: "mysql", driver: "mariadb" },
  postgres: { family: "postgres", driver: "pg" },
  sqlite: { family: "sqlite", driver: "sqlite3" },
};

const NAME = "fromSequelize";
const TRANSACTION = "a Sequelize Transaction as options.transaction";

const FOUND_ROWS =
  "the mariadb dialect turns FOUND_ROWS off, so an UPDATE would count changed rows, not matched rows; " +
  "the queue's lease fence needs matched rows. Pass `dialectOptions: { foundRows: true }` to new Sequelize().";

/** Connections whose SQLite busy timeout this module has set. */
const configured = new WeakSet<object>();

/**
 * Refuses, at once, what is not a Sequelize instance (undefined, a Promise, a
 * connection string, a raw driver pool), and an `options.transaction` that is
 * not a Transaction of that instance. By shape: Sequelize is never imported.
 */
function assertArguments(sequelize: unknown, transaction: unknown): void {
  const ok = hasMethods(sequelize, "getDialect", "transaction");
  const instance = ok && typeof membersOf(sequelize).connectionManager === "object";
  expectArgument(instance, NAME, "a Sequelize instance (new Sequelize(…))", sequelize);
  if (transaction === undefined) return;
  const t = membersOf(transaction);
  const hint =
    typeof t.commit !== "function" || typeof t.rollback !== "function"
      ? "Pass the Transaction that sequelize.transaction() gives."
      : t.sequelize !== undefined && t.sequelize !== sequelize
        ? "It belongs to another Sequelize instance: pass the instance that opened it."
        : undefined;
  expectArgument(hint === undefined, NAME, TRANSACTION, transaction, hint);
}

/**
 * Adapts a Sequelize 6 instance (dialects mysql, mariadb, postgres, sqlite) to
 * the queue's `DB`. The dialect family is read from `sequelize.getDialect()`.
 *
 * - Statements run on the driver connection Sequelize manages (checked out of
 *   its pool with `connectionManager.getConnection`, or `transaction.connection`),
 *   so core's SQL text and parameters reach mysql2 / mariadb / pg / sqlite3
 *   unchanged: `sequelize.query` would rewrite `$1` binds and inline `?` replacements.
 * - `affectedRows` counts matched rows. Sequelize turns FOUND_ROWS off; for mysql2
 *   the count comes from the server's "Rows matched" info, and the mariadb dialect
 *   needs `dialectOptions: { foundRows: true }` (checked here, a ConfigError otherwise).
 * - BigInt values in rows become numbers when exact (past 2^53 they stay BigInt,
 *   core's one rule); sqlite3 gets Dates as UTC text and bigints as numbers (or
 *   decimal text past 2^53), which it would otherwise bind as float ms / NULL.
 * - `transaction(fn)` is `sequelize.transaction()` (IMMEDIATE on SQLite).
 * - `listen` on postgres only: one pooled connection is held while listening;
 *   if it dies, `onError` is called and the engine subscribes again.
 * - Anything but a Sequelize instance (and a Transaction of it as
 *   `options.transaction`) throws an `AdapterArgumentError`; another dialect an
 *   `UnsupportedError`; a finished transaction or a nested one a `TransactionMisuseError`.
 */
export function fromSequelize(
  sequelize: SequelizeInstance,
  options: FromSequelizeOptions = {},
): DB {
  assertArguments(sequelize, options.transaction);
  const dialectName = sequelize.getDialect();
  const known = DRIVERS[dialectName];
  if (!known) {
    throw new UnsupportedError(
      `fromSequelize: the ${dialectName} dialect is not supported; use mysql, mariadb, postgres or sqlite.`,
    );
  }
  const { family, driver } = known;
  const dialectOptions = (sequelize.config.dialectOptions ?? {}) as { foundRows?: unknown };
  if (driver === "mariadb" && dialectOptions.foundRows !== true) {
    throw new ConfigError("dialectOptions.foundRows", FOUND_ROWS);
  }
  const run = RUNNERS[driver];
  const bound = options.transaction;
  const busyTimeoutMs = Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000));
  // SQLite only, and not from inside a transaction: SQLite refuses to change the journal mode there.
  let walChecked = driver !== "sqlite3" || options.wal === false || bound !== undefined;

  /** Prepares a SQLite connection the first time it is seen (busy timeout; WAL once). */
  const prepare = async (conn: object): Promise<object> => {
    if (driver !== "sqlite3" || configured.has(conn)) return conn;
    (conn as Sqlite3Database).configure("busyTimeout", busyTimeoutMs);
    configured.add(conn);
    if (!walChecked) {
      walChecked = true;
      const storage = (sequelize as { options?: { storage?: string } }).options?.storage;
      // The switch needs the file's exclusive lock, and SQLite answers SQLITE_BUSY at once (no
      // busy handler) when several connections on a fresh file try it together, as processes starting at once do.
      const wal = () => run(conn, "PRAGMA journal_mode = WAL", [], true);
      if (storage && storage !== ":memory:") await retryWhileBusy(wal, busyTimeoutMs);
    }
    return conn;
  };

  /**
   * SQLite: calls made from inside a `transaction(fn)` of this adapter, also
   * through the root DB, run on that transaction's connection (core's gate
   * holds it as the scope). Sequelize opens a second connection per SQLite
   * transaction, which holds the file's one write lock: a root call from
   * inside `fn` on the default connection would wait for its own caller.
   */
  const gate = sqliteGate<object>(sequelize);
  /** Runs `sql` on the transaction's connection, or on one checked out of Sequelize's pool. */
  const statement = async (sql: string, params: unknown[], wantRows: boolean) => {
    const runOn = async (conn: object) => run(await prepare(conn), sql, params, wantRows);
    const conn = bound ? transactionConnection(bound) : gate.scope();
    if (conn) return runOn(conn);
    return withConnection(
      // "write" also on reads: with replication, the engine must read what it just wrote.
      () => sequelize.connectionManager.getConnection({ type: "write" }),
      (pooled) => void sequelize.connectionManager.releaseConnection(pooled),
      runOn,
    );
  };

  // LISTEN holds one connection out of the pool until unlistened. If it dies
  // (server restart, pg_terminate_backend), Sequelize's own 'error' handler destroys it.
  const listen: DB["listen"] = async (channel, onMessage, onBroken) => {
    const pool = sequelize.connectionManager;
    const connection = (await pool.getConnection({ type: "write" })) as PgClient;
    // A broken connection is not handed back: Sequelize's pool validates and drops dead ones.
    const release = (broken: boolean) => broken || pool.releaseConnection(connection);
    return listenOnConnection({ connection, channel, onMessage, onBroken, release });
  };
  const transaction: DB["transaction"] = async (fn) => {
    gate.assertNotNested(NAME);
    // IMMEDIATE takes SQLite's write lock at BEGIN: a DEFERRED transaction that
    // reads first can fail its first write with SQLITE_BUSY, without waiting.
    const txOptions = family === "sqlite" ? { type: "IMMEDIATE" } : {};
    if (!walChecked) await statement("SELECT 1", [], true); // WAL first: impossible inside the transaction
    return sequelize.transaction(txOptions, async (t) => {
      const tx = fromSequelize(sequelize, { ...options, transaction: t });
      if (family !== "sqlite") return fn(tx);
      const connection = await prepare(transactionConnection(t)); // its busy timeout, also for root calls routed to it
      return gate.hold(NAME, connection, () => fn(tx));
    });
  };
  return defineDb({
    dialect: family,
    run: statement,
    bigintUnsupported: driver === "sqlite3",
    close: bound ? undefined : () => sequelize.close(),
    listen: driver === "pg" && !bound ? listen : undefined,
    transaction: bound ? undefined : transaction,
  });
}

/** The driver connection of a begun, unfinished Sequelize transaction. */
function transactionConnection(t: SequelizeTransaction): object {
  const { connection, finished } = t as { connection?: object; finished?: string };
  if (finished) {
    throw new TransactionMisuseError(
      `fromSequelize: the transaction has already finished (${finished}); enqueue before commit() or rollback().`,
    );
  }
  if (!connection) {
    throw new TransactionMisuseError(
      "fromSequelize: the transaction has not begun (no connection); pass the one sequelize.transaction() resolved.",
    );
  }
  return connection;
}
