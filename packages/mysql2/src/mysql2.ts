import {
  AdapterArgumentError,
  type DB,
  type ExecResult,
  type Row,
  type SqlValue,
} from "@persistent-queue/core";

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

/** What mysql2 returns for a statement without rows. */
interface ResultSetHeader {
  affectedRows: number;
  insertId: number;
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
  const c = (typeof client === "object" && client !== null ? client : {}) as Record<
    string,
    unknown
  >;
  const fn = (name: string) => typeof c[name] === "function";
  const ok =
    fn("query") &&
    (fn("getConnection") || fn("beginTransaction")) &&
    !fn("then") &&
    !fn("promise") && // mysql2's callback API: pool.promise() is the one to pass
    !fn("batch"); // the mariadb connector
  if (!ok) throw new AdapterArgumentError("fromMysql2", EXPECTED, client);
}

/**
 * Adapts a mysql2/promise pool or connection (MySQL 8, MariaDB 10.6+) to the
 * queue's {@link DB}.
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
  const db: DB = {
    dialect: "mysql",
    async exec(sql: string, params: readonly SqlValue[] = []): Promise<ExecResult> {
      const [result] = await client.query(sql, params);
      const header = result as Partial<ResultSetHeader>;
      return {
        affectedRows: Number(header.affectedRows ?? 0),
        insertId: header.insertId ? header.insertId : undefined,
      };
    },
    async query<T extends Row = Row>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
      const [rows] = await client.query(sql, params);
      return Array.isArray(rows) ? (rows as T[]) : [];
    },
    async ping() {
      await client.query("SELECT 1");
    },
    async close() {
      if (options.inTransaction) return;
      if (isPool(client)) await client.end();
      else await client.end?.();
    },
  };
  if (!options.inTransaction) {
    db.transaction = async <T>(fn: (tx: DB) => Promise<T>): Promise<T> => {
      const pooled = isPool(client) ? await client.getConnection() : undefined;
      const conn: Mysql2Connection = pooled ?? (client as Mysql2Connection);
      try {
        await conn.beginTransaction();
        try {
          const result = await fn(fromMysql2(conn, { inTransaction: true }));
          await conn.commit();
          return result;
        } catch (err) {
          await conn.rollback().catch(() => undefined); // the original error matters more
          throw err;
        }
      } finally {
        pooled?.release();
      }
    };
  }
  return db;
}
