import {
  AdapterArgumentError,
  ConfigError,
  type DB,
  type DialectFamily,
  UnsupportedError,
} from "@persistent-queue/core";
import {
  defineDb,
  hasMethods,
  type KyselyExecutor,
  listenOnConnection,
  type NotifyingConnection,
  type Outcome,
  runOnKysely,
  runTransaction,
  sqliteGate,
} from "@persistent-queue/core/adapter";
import type { Kysely } from "kysely";

/**
 * A Kysely instance, or the `trx` of `db.transaction().execute(async (trx) => …)`
 * (or of a controlled `db.startTransaction()`), whatever its database types.
 * Only types come from kysely: this package never imports it at run time.
 */
// biome-ignore lint/suspicious/noExplicitAny: any database interface fits; no table is read through it.
export type KyselyHandle = Kysely<any>;

/** The subset of a node-postgres `Pool` that LISTEN needs: the one you gave `PostgresDialect`. */
export interface KyselyPgPool {
  connect(): Promise<NotifyingConnection & { release(err?: Error | boolean): void }>;
}

/** Options of {@link fromKysely}. */
export interface FromKyselyOptions {
  /**
   * The SQL family, when it cannot be told from the Kysely dialect's adapter
   * (a third-party dialect with an adapter class of its own). Normally left out.
   */
  readonly dialect?: DialectFamily;
  /**
   * PostgreSQL: the pg `Pool` you gave `PostgresDialect`, so the queue can LISTEN on one
   * of its connections and workers wake at once on enqueue. Kysely does not expose its
   * pool; left out, the DB has no `listen` and the engine polls.
   */
  readonly pgPool?: KyselyPgPool;
  /** SQLite: switch a file database to WAL on first use, as the raw adapter does. Default true. */
  readonly sqliteWal?: boolean;
}

/** Kysely's built-in dialect adapters (the `DialectAdapter` of `db.getExecutor()`), by class name. */
const ADAPTERS: Readonly<Record<string, DialectFamily>> = {
  MysqlAdapter: "mysql",
  PostgresAdapter: "postgres",
  SqliteAdapter: "sqlite",
};
const FAMILIES: readonly DialectFamily[] = ["mysql", "postgres", "sqlite"];
const EXPECTED =
  "a Kysely instance or transaction (an object with executeQuery() and getExecutor())";

/** The parts of a Kysely instance this adapter uses: public API, plus `getExecutor()` (marked internal) for the dialect. */
interface Handle extends KyselyExecutor {
  readonly isTransaction: boolean;
  withoutPlugins(): Handle;
  getExecutor(): { readonly adapter: object };
  transaction(): { execute<T>(fn: (trx: Handle) => Promise<T>): Promise<T> };
  connection(): { execute<T>(fn: (conn: Handle) => Promise<T>): Promise<T> };
  destroy(): Promise<void>;
}

/** The dialect family: from the dialect adapter's class; `options.dialect` where that cannot tell. */
function familyOf(handle: Handle, explicit: DialectFamily | undefined): DialectFamily {
  if (explicit !== undefined && !FAMILIES.includes(explicit)) {
    throw new ConfigError(
      "fromKysely options.dialect",
      `must be "mysql", "postgres" or "sqlite" (got ${JSON.stringify(String(explicit)).slice(0, 40)}).`,
    );
  }
  const name = String(handle.getExecutor().adapter.constructor?.name ?? "");
  const detected = ADAPTERS[name];
  if (detected && explicit && explicit !== detected) {
    throw new ConfigError(
      "fromKysely options.dialect",
      `says "${explicit}", but the Kysely dialect's ${name} speaks ${detected}; leave the option out.`,
    );
  }
  const family = detected ?? explicit;
  if (family) return family;
  if (name === "MssqlAdapter") {
    throw new UnsupportedError(
      "fromKysely: Kysely's MssqlDialect is not supported; use MysqlDialect, PostgresDialect or SqliteDialect.",
    );
  }
  throw new ConfigError(
    "fromKysely options.dialect",
    `cannot tell which SQL family Kysely's ${name || "dialect adapter"} speaks; pass { dialect: "mysql" | "postgres" | "sqlite" } as the second argument, if its driver takes the SQL and parameters as MysqlDialect, PostgresDialect or SqliteDialect do.`,
  );
}

/**
 * Adapts a Kysely instance, or the `trx` of a Kysely transaction, to the queue's `DB`.
 *
 * - Statements run as `CompiledQuery.raw(sql, params)` through `executeQuery` of the
 *   handle without its plugins: text and parameters reach the driver untouched, and a
 *   plugin such as `CamelCasePlugin` does not rename the columns core reads.
 * - The family comes from the dialect's adapter (MysqlAdapter, PostgresAdapter,
 *   SqliteAdapter), else from `options.dialect`. Tested with Kysely's MysqlDialect
 *   (mysql2), PostgresDialect (pg) and SqliteDialect (better-sqlite3).
 * - `affectedRows` is Kysely's `numAffectedRows` (matched rows: mysql2 sets FOUND_ROWS
 *   by default); `insertId` its `insertId`.
 * - On a root instance, `transaction(fn)` is Kysely's `db.transaction().execute()`; on
 *   SQLite it is BEGIN IMMEDIATE … COMMIT on Kysely's one connection (`db.connection()`),
 *   held through core's SQLite gate: calls from inside `fn`, through this DB too, run in
 *   it; others wait, as they wait for any Kysely transaction.
 * - A DB made from a `trx` runs in that transaction: no `transaction`, no `listen`, and
 *   `close()` does nothing. On a root instance `close()` calls `db.destroy()`.
 * - `listen` only on PostgreSQL with `options.pgPool`.
 * - Anything but a Kysely instance throws an `AdapterArgumentError`; MssqlDialect an
 *   `UnsupportedError`; a dialect it cannot tell a `ConfigError` naming `options.dialect`.
 */
export function fromKysely(handle: KyselyHandle, options: FromKyselyOptions = {}): DB {
  if (!hasMethods(handle, "executeQuery", "getExecutor", "withoutPlugins")) {
    throw new AdapterArgumentError("fromKysely", EXPECTED, handle);
  }
  if (options.pgPool !== undefined && !hasMethods(options.pgPool, "connect")) {
    const expected = "a node-postgres Pool as options.pgPool";
    throw new AdapterArgumentError("fromKysely", expected, options.pgPool);
  }
  const h = handle as unknown as Handle;
  return kyselyDb(h, familyOf(h, options.dialect), options, h.isTransaction === true);
}

/** A DB on `h`; `bound`: `h` runs inside a transaction someone else opened and ends. */
function kyselyDb(
  h: Handle,
  dialect: DialectFamily,
  options: FromKyselyOptions,
  bound: boolean,
): DB {
  const plain = h.withoutPlugins();
  const execute = (on: Handle, sql: string, params: unknown[]): Promise<Outcome> =>
    runOnKysely(on, sql, params);
  if (bound) return defineDb({ dialect, run: (sql, params) => execute(plain, sql, params) });

  // SQLite: the connection of the transaction this DB opened, for calls from inside it.
  const gate = sqliteGate<Handle>(h);
  let walDone = dialect !== "sqlite" || options.sqliteWal === false;
  const ready = async () => {
    if (walDone) return;
    walDone = true; // journal_mode cannot change inside a transaction: set before one is opened
    await execute(plain, "PRAGMA journal_mode = WAL", []);
  };
  const inTransaction = (tx: Handle) => kyselyDb(tx, dialect, options, true);
  const sqliteTransaction = async <T>(fn: (tx: DB) => Promise<T>): Promise<T> => {
    // Before connection(): a nested one would wait for the connection its own caller holds.
    gate.assertNotNested("fromKysely");
    await ready();
    // Kysely's one SQLite connection, held until fn settles: everything else waits for it.
    return plain.connection().execute((conn) => {
      const step = (sql: string) => () => execute(conn, sql, []);
      const steps = {
        begin: step("BEGIN IMMEDIATE"),
        commit: step("COMMIT"),
        rollback: step("ROLLBACK"),
      };
      return gate.hold("fromKysely", conn, () =>
        runTransaction(steps, () => fn(inTransaction(conn))),
      );
    });
  };
  const pool = options.pgPool;
  return defineDb({
    dialect,
    async run(sql, params) {
      const scope = gate.scope();
      if (scope) return execute(scope, sql, params);
      await ready();
      return execute(plain, sql, params);
    },
    close: () => h.destroy(),
    transaction:
      dialect === "sqlite"
        ? sqliteTransaction
        : (fn) => plain.transaction().execute((trx) => fn(inTransaction(trx))),
    listen:
      dialect === "postgres" && pool
        ? async (channel, onMessage, onBroken) => {
            const connection = await pool.connect();
            const release = (broken: boolean) => connection.release(broken);
            return listenOnConnection({ connection, channel, onMessage, onBroken, release });
          }
        : undefined,
  });
}
