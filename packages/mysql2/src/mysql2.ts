import { AdapterArgumentError, type DB } from "@persistent-queue/core";
import { defineDb, hasMethods, mysqlOutcome, runTransaction } from "@persistent-queue/core/adapter";

/**
 * The subset of mysql2/promise's `Pool`, `PoolConnection` and `Connection`
 * this adapter uses. Typed structurally so core and this package never import
 * the driver at run time; any mysql2 ≥ 3 object fits.
 */
export interface Mysql2Queryable {
  query(sql: string, values?: unknown): Promise<[unknown, unknown]>;
}
/** A mysql2/promise pool. */
export interface Mysql2Pool extends Mysql2Queryable {
  getConnection(): Promise<Mysql2Connection & { release(): void }>;
  end(): Promise<void>;
}
/** A single mysql2/promise connection. */
export interface Mysql2Connection extends Mysql2Queryable {
  beginTransaction(): Promise<unknown>;
  commit(): Promise<unknown>;
  rollback(): Promise<unknown>;
  end?(): Promise<void>;
}

/** Options of {@link fromMysql2}. */
export interface FromMysql2Options {
  /**
   * Set when the connection is already inside a transaction you manage, so
   * `close()` leaves it alone and no nested transaction is offered.
   */
  readonly inTransaction?: boolean;
}

const isPool = (c: Mysql2Queryable): c is Mysql2Pool =>
  typeof (c as Partial<Mysql2Pool>).getConnection === "function";

const EXPECTED =
  "a mysql2/promise Pool or Connection (an object with query() and getConnection() or beginTransaction())";

/**
 * Refuses, at once, what is not a mysql2/promise pool or connection:
 * undefined, a Promise, a connection string, a node-postgres Pool (which has
 * query() too, and would make mysql2 defaults connect to 127.0.0.1:5432 at the
 * first query), a callback-style mysql2 pool (its query() returns no Promise),
 * a mariadb connector pool (its query() returns rows, not [rows, fields]). By
 * shape: this package never imports mysql2 at run time.
 */
function assertMysql2Client(client: unknown): asserts client is Mysql2Pool | Mysql2Connection {
  const ok =
    hasMethods(client, "query") &&
    (hasMethods(client, "getConnection") || hasMethods(client, "beginTransaction")) &&
    !hasMethods(client, "promise") && // mysql2's callback API: pool.promise() is the one to pass
    !hasMethods(client, "batch"); // the mariadb connector
  if (!ok) throw new AdapterArgumentError("fromMysql2", EXPECTED, client);
}

/**
 * Adapts a mysql2/promise pool or connection (MySQL 8, MariaDB 10.6+) to the
 * queue's `DB`.
 *
 * - SQL and parameters go to `query()` unchanged (mysql2 escapes client-side).
 * - `affectedRows` counts matched rows: mysql2 sets the FOUND_ROWS client flag by default.
 * - `insertId` is the AUTO_INCREMENT id of an INSERT.
 * - `transaction(fn)` takes a connection from the pool (or uses the given
 *   connection), runs `fn` on it between BEGIN and COMMIT, and rolls back if `fn` throws.
 * - `close()` ends the pool or connection you passed in.
 * - No `listen`: MySQL has no notifications; the engine polls.
 * - Anything else (undefined, a Promise, a pg Pool, a callback-style mysql2
 *   pool) throws an `AdapterArgumentError` here, not at the first query.
 */
export function fromMysql2(
  client: Mysql2Pool | Mysql2Connection,
  options: FromMysql2Options = {},
): DB {
  assertMysql2Client(client);
  const bound = options.inTransaction === true;
  return defineDb({
    dialect: "mysql",
    async run(sql, params) {
      // Rows, or a ResultSetHeader: matched rows (FOUND_ROWS is on by default) and the AUTO_INCREMENT id.
      return mysqlOutcome((await client.query(sql, params))[0]);
    },
    close: bound ? undefined : async () => (isPool(client) ? client.end() : client.end?.()),
    transaction: bound
      ? undefined
      : async <T>(fn: (tx: DB) => Promise<T>): Promise<T> => {
          const pooled = isPool(client) ? await client.getConnection() : undefined;
          const conn: Mysql2Connection = pooled ?? (client as Mysql2Connection);
          return runTransaction(
            {
              begin: () => conn.beginTransaction(),
              commit: () => conn.commit(),
              rollback: () => conn.rollback(),
              release: () => pooled?.release(),
            },
            () => fn(fromMysql2(conn, { inTransaction: true })),
          );
        },
  });
}
