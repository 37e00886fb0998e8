import { AdapterArgumentError, type DB } from "@persistent-queue/core";
import {
  defineDb,
  hasMethods,
  listenOnConnection,
  type NotifyingConnection,
  runTransaction,
} from "@persistent-queue/core/adapter";

/** What pg returns from `query()`. */
export interface PgResult {
  rows: unknown[];
  rowCount: number | null;
}
/** The subset of node-postgres's `Client` / `PoolClient` this adapter uses (LISTEN's part is core's). */
export interface PgClient extends NotifyingConnection {
  query(text: string, values?: unknown[]): Promise<PgResult>;
  end?(): Promise<void>;
  release?(err?: Error | boolean): void;
}
/** The subset of node-postgres's `Pool` this adapter uses. */
export interface PgPool {
  query(text: string, values?: unknown[]): Promise<PgResult>;
  connect(): Promise<PgClient & { release(err?: Error | boolean): void }>;
  end(): Promise<void>;
  on(event: "error", listener: (err: Error) => void): unknown;
  listenerCount(event: string): number;
  readonly totalCount: number;
}

/** Options of {@link fromPg}. */
export interface FromPgOptions {
  /** Set when the client is already inside a transaction you manage: no nested transaction, `close()` does nothing. */
  readonly inTransaction?: boolean;
}

const isPool = (c: PgPool | PgClient): c is PgPool =>
  typeof (c as Partial<PgPool>).totalCount === "number";

const EXPECTED = "a node-postgres Pool or Client (an object with query() and connect())";

/**
 * Refuses, at once, what is not a node-postgres Pool or Client: undefined, a
 * Promise, a connection string, another driver's pool (a mysql2 pool has
 * query() too, and would fail only at the first statement, with a confusing
 * SQL error). By shape: this package never imports pg at run time.
 */
function assertPgClient(client: unknown): asserts client is PgPool | PgClient {
  // mysql2 and mariadb connections have query() and connect() as well; pg has no execute().
  const ok = hasMethods(client, "query", "connect") && !hasMethods(client, "execute");
  if (!ok) throw new AdapterArgumentError("fromPg", EXPECTED, client);
}

/**
 * Adapts a node-postgres `Pool` (recommended) or `Client` to the queue's `DB`.
 *
 * - Anything else (undefined, a Promise, another driver's pool) throws an
 *   `AdapterArgumentError` here, not at the first query.
 * - SQL uses `$1, $2, …` placeholders, written by core; text and values pass through.
 * - `affectedRows` is pg's `rowCount` (rows matched by UPDATE/DELETE).
 * - No `insertId`: PostgreSQL statements that need the id use `RETURNING`.
 * - `transaction(fn)` checks a client out of the pool, BEGIN … COMMIT, ROLLBACK on throw.
 * - `listen(channel, fn, onBroken)` holds one pooled connection for LISTEN until
 *   unlistened; if that connection dies, it is destroyed and `onBroken` is called.
 * - A pool without an `'error'` listener gets one: otherwise an idle client
 *   dropped by a server restart would crash the process (pg's documented behaviour).
 */
export function fromPg(client: PgPool | PgClient, options: FromPgOptions = {}): DB {
  assertPgClient(client);
  if (isPool(client) && client.listenerCount("error") === 0) {
    client.on("error", () => {
      // An idle client died (server restart, pg_terminate_backend). The pool
      // drops it and opens a new one on the next query; nothing to do here.
    });
  }
  const bound = options.inTransaction === true;
  return defineDb({
    dialect: "postgres",
    async run(sql, params) {
      const result = await client.query(sql, params);
      return { rows: result.rows, affectedRows: result.rowCount ?? 0 };
    },
    close: bound
      ? undefined
      : async () => {
          if (isPool(client)) await client.end();
          else if (client.release) client.release();
          else await client.end?.();
        },
    async listen(channel, onMessage, onBroken) {
      const conn = isPool(client) ? await client.connect() : client;
      return listenOnConnection({
        connection: conn,
        channel,
        onMessage,
        onBroken,
        release: (broken) => {
          if (conn !== client) conn.release?.(broken); // a broken client is destroyed, not pooled again
        },
      });
    },
    transaction: bound
      ? undefined
      : async <T>(fn: (tx: DB) => Promise<T>): Promise<T> => {
          const conn = isPool(client) ? await client.connect() : client;
          return runTransaction(
            {
              begin: () => conn.query("BEGIN"),
              commit: () => conn.query("COMMIT"),
              rollback: () => conn.query("ROLLBACK"),
              release: () => conn !== client && conn.release?.(),
            },
            () => fn(fromPg(conn, { inTransaction: true })),
          );
        },
  });
}
