import {
  AdapterArgumentError,
  type DB,
  type DialectFamily,
  UnsupportedError,
} from "@persistent-queue/core";
import {
  defineDb,
  hasMethods,
  type KyselyExecutor,
  listenOnConnection,
  membersOf,
  type NotifyingConnection,
  type RunStatement,
  runOnKysely,
  sqliteGate,
} from "@persistent-queue/core/adapter";

// MikroORM 7's SQL drivers run on Kysely: statements go to its executor as raw compiled queries.
export type { KyselyExecutor, KyselyQueryResult } from "@persistent-queue/core/adapter";

/** The subset of MikroORM 7's `AbstractSqlConnection` this adapter uses. */
export interface MikroORMConnection {
  ensureConnection(): Promise<void>;
  getClient(): KyselyExecutor;
  /** The driver's own client: node-postgres's `Pool` on PostgreSQL (for LISTEN). */
  getNativeClient?(): Promise<unknown>;
}

/**
 * The subset of MikroORM 7's `EntityManager` this adapter uses. Typed
 * structurally so this package never imports MikroORM at run time.
 */
export interface MikroORMEntityManager {
  getConnection(type?: "read" | "write"): object;
  getDriver(): { close(force?: boolean): Promise<void> };
  getTransactionContext(): unknown;
  // biome-ignore lint/suspicious/noExplicitAny: MikroORM hands the callback its own EntityManager type.
  transactional<T>(cb: (em: any) => T | Promise<T>): Promise<T>;
}

const NAME = "fromMikroORM";
const EXPECTED =
  "a MikroORM EntityManager (orm.em, em.fork(), or the em em.transactional() hands you)";

const CLOSED =
  "This DB's close() closed the ORM's connection: after orm.connect(), call fromMikroORM(orm.em) again.";

/** The drivers this adapter is tested with, by class name (a subclass of one counts as it). */
const FAMILIES: Record<string, DialectFamily> = {
  MySqlDriver: "mysql", // @mikro-orm/mysql; MariaDbDriver (@mikro-orm/mariadb) extends it
  PostgreSqlDriver: "postgres",
  SqliteDriver: "sqlite", // @mikro-orm/sqlite (better-sqlite3), and @mikro-orm/sql's generic one
};

/** The dialect family from the class of the em's driver (or one it extends). */
function familyOf(em: MikroORMEntityManager): DialectFamily {
  const driver = em.getDriver();
  for (let p = Object.getPrototypeOf(driver); p && p !== Object.prototype; ) {
    const family = FAMILIES[p.constructor?.name as string];
    if (family) return family;
    p = Object.getPrototypeOf(p);
  }
  throw new UnsupportedError(
    `${NAME}: the MikroORM driver ${driver.constructor.name} is not supported; use @mikro-orm/mysql or @mikro-orm/mariadb, @mikro-orm/postgresql or @mikro-orm/sqlite (MikroORM 7).`,
  );
}

/*
 * Statements run as raw compiled queries on MikroORM's Kysely client (the kit's runOnKysely):
 * MikroORM's own `connection.execute(sql, params)` would inline the parameters into the SQL
 * text instead, and knows only `?` placeholders (core writes `$1` for PostgreSQL).
 */

/** The transaction a DB from {@link fromMikroORM} opened, for calls made from inside it. */
interface OpenTransaction {
  ctx?: unknown;
}

/**
 * Adapts a MikroORM 7 `EntityManager` to the queue's `DB`.
 *
 * - The dialect comes from the driver: `@mikro-orm/mysql` or `@mikro-orm/mariadb`,
 *   `@mikro-orm/postgresql`, `@mikro-orm/sqlite`. Others (MongoDB, MSSQL, libSQL)
 *   are an `UnsupportedError`.
 * - Every statement runs on the transaction the em is in at that moment
 *   (`em.getTransactionContext()`: the em that `em.transactional(fn)` hands
 *   `fn`, or the global `orm.em` inside it), so `queue.add(type, params, { db:
 *   fromMikroORM(em) })` commits or rolls back with your entities. Outside a
 *   transaction each statement runs on its own, on the write connection.
 * - `transaction(fn)` uses `em.transactional()`. A DB made from an em already
 *   in a transaction has none, and its `close()` does nothing; otherwise
 *   `close()` closes the ORM's connection (as `orm.close()` does), and the DB
 *   refuses later statements (an `AdapterArgumentError`).
 * - SQL and parameters reach the driver untouched (through MikroORM's Kysely
 *   client), so the queue's statements do not pass through MikroORM's query
 *   logger. `affectedRows` counts matched rows (mysql2's default FOUND_ROWS
 *   flag: keep it); `insertId` is reported on MySQL and SQLite.
 * - SQLite: MikroORM has one connection; a transaction opened here takes the
 *   connection's turn (core's SQLite gate), so other queue work waits for it,
 *   and statements from inside it (through any DB on that connection) join
 *   it; a nested one is a `TransactionMisuseError`.
 * - `listen` on PostgreSQL: one connection of MikroORM's `pg` pool per subscription.
 * - Anything but such an em (undefined, a Promise, the MikroORM instance) is
 *   an `AdapterArgumentError`.
 */
export function fromMikroORM(em: MikroORMEntityManager): DB {
  if (!hasMethods(em, "getConnection", "getDriver", "getTransactionContext", "transactional")) {
    const hint = hasMethods(membersOf(em).em, "getConnection") ? "Pass orm.em." : undefined;
    throw new AdapterArgumentError(NAME, EXPECTED, em, hint);
  }
  const dialect = familyOf(em);
  const connection = em.getConnection("write") as MikroORMConnection;
  if (!hasMethods(connection, "getClient", "ensureConnection")) {
    throw new UnsupportedError(
      `${NAME}: this MikroORM connection has no Kysely client; use MikroORM 7.`,
    );
  }
  const bound = em.getTransactionContext() !== undefined;
  const gate = sqliteGate<OpenTransaction>(connection);
  // MikroORM reconnects on the next query after a close; this DB refuses instead.
  let closed = false;
  const run: RunStatement = async (sql, params) => {
    if (closed) {
      throw new AdapterArgumentError(NAME, "an open EntityManager", em, CLOSED);
    }
    let ctx = (gate.scope()?.ctx ?? em.getTransactionContext()) as KyselyExecutor | undefined;
    if (!ctx) {
      if (dialect === "sqlite") await gate.turn();
      await connection.ensureConnection();
      ctx = connection.getClient();
    }
    return runOnKysely(ctx, sql, params);
  };
  return defineDb({
    dialect,
    run,
    close: bound
      ? undefined
      : () => {
          closed = true;
          return em.getDriver().close();
        },
    transaction: bound
      ? undefined
      : (fn) => {
          const tx: OpenTransaction = {};
          const open = () =>
            em.transactional((trxEm: MikroORMEntityManager) => {
              tx.ctx = trxEm.getTransactionContext();
              return fn(fromMikroORM(trxEm));
            });
          return dialect === "sqlite" ? gate.hold(NAME, tx, open) : open();
        },
    listen:
      dialect !== "postgres" || bound
        ? undefined
        : async (channel, onMessage, onBroken) => {
            const pool = (await connection.getNativeClient?.()) as {
              connect(): Promise<NotifyingConnection & { release(broken?: boolean): void }>;
            };
            const client = await pool.connect();
            return listenOnConnection({
              connection: client,
              channel,
              onMessage,
              onBroken,
              release: (broken) => client.release(broken),
            });
          },
  });
}
