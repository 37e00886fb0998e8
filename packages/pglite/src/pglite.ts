import { AdapterArgumentError, type DB } from "@persistent-queue/core";
import { assertIdentifier, defineDb, hasMethods, sqliteGate } from "@persistent-queue/core/adapter";

/** What PGlite's `query()` resolves to (its `Results`), as far as this adapter reads it. */
export interface PGliteResult {
  readonly rows: unknown[];
  /** Rows inserted, updated or deleted so far by the call (PGlite sums them over statements). */
  readonly affectedRows?: number;
  /** The row count of the command tag: rows returned by SELECT, changed by UPDATE (newer PGlite). */
  readonly rowCount?: number;
}

/**
 * The subset of a PGlite `Transaction` (what `pg.transaction(async (tx) => …)`
 * hands you) this adapter uses, typed structurally: the package never imports
 * PGlite at run time.
 */
export interface PGliteTransaction {
  query(sql: string, params?: unknown[]): Promise<PGliteResult>;
  rollback(): Promise<void>;
}

/** A `PGlite` (or `PGliteWorker`) database: also transactions, LISTEN and `close()`. */
export interface PGliteDatabase {
  query(sql: string, params?: unknown[]): Promise<PGliteResult>;
  transaction<T>(fn: (tx: PGliteTransaction) => Promise<T>): Promise<T>;
  listen(channel: string, onPayload: (payload: string) => void): Promise<unknown>;
  unlisten(channel: string, onPayload: (payload: string) => void): Promise<void>;
  close(): Promise<void>;
  readonly closed: boolean;
}

/** The transaction a DB's `transaction(fn)` opened, for statements made through the root DB from inside `fn`. */
interface Scope {
  tx?: PGliteTransaction;
}

const EXPECTED =
  "a PGlite database or transaction (an object with query() and transaction(), or query() and rollback())";

const isRoot = (handle: PGliteDatabase | PGliteTransaction): handle is PGliteDatabase =>
  typeof (handle as Partial<PGliteDatabase>).transaction === "function";

/**
 * Refuses, at once, what is not a PGlite database or transaction: undefined, a
 * Promise, a connection string, another driver's pool. By shape: PGlite is not
 * imported. Sequelize and TypeORM have query() and transaction() too; PGlite
 * alone also has listen() and unlisten().
 */
function assertPGlite(handle: unknown): asserts handle is PGliteDatabase | PGliteTransaction {
  const root = hasMethods(handle, "query", "transaction", "listen", "unlisten", "close");
  const tx = hasMethods(handle, "query", "rollback", "listen") && !hasMethods(handle, "commit");
  if (!root && !tx) throw new AdapterArgumentError("fromPGlite", EXPECTED, handle);
}

/**
 * Adapts a PGlite database (`new PGlite()`, `await PGlite.create()`, a
 * `PGliteWorker`), or the `tx` that `pg.transaction(async (tx) => …)` hands
 * you, to the queue's `DB`.
 *
 * - Anything else throws an `AdapterArgumentError` here, not at the first query.
 * - SQL passes through `query(text, params)` untouched (core writes `$1, $2, …`).
 *   PGlite serialises each value by the parameter type the statement gives it:
 *   JSON text as it is, a Date as ISO text, 1/0 as a boolean where one is wanted.
 * - Rows come back through the database's parsers. PGlite's defaults are core's
 *   rule: int8 as a number when it fits a safe integer, else a bigint.
 * - `affectedRows` is PGlite's `rowCount` (its `affectedRows` on a PGlite without rowCount).
 * - On a database: `transaction(fn)` is PGlite's `transaction()`, `listen()` is
 *   PGlite's `listen()` (notifications from this same database only: it is in
 *   this process), `close()` is `pg.close()`. On a `tx`: statements only, and
 *   `close()` leaves it alone.
 *
 * PGlite has one connection. While a transaction runs, PGlite holds every other
 * `query()` until it ends, so the queue's work from elsewhere waits and never runs
 * inside it. A statement made through the root DB from inside `fn` (found by async
 * context, through the kit's gate) joins the transaction, where PGlite alone would
 * wait for it forever; a nested `transaction()` is refused.
 */
export function fromPGlite(handle: PGliteDatabase | PGliteTransaction): DB {
  assertPGlite(handle);
  if (!isRoot(handle)) {
    return defineDb({ dialect: "postgres", run: (sql, params) => runOn(handle, sql, params) });
  }
  const pg = handle;
  const gate = sqliteGate<Scope>(pg);
  return defineDb({
    dialect: "postgres",
    run: (sql, params) => runOn(gate.scope()?.tx ?? pg, sql, params),
    close: async () => {
      if (!pg.closed) await pg.close();
    },
    transaction: <T>(fn: (tx: DB) => Promise<T>): Promise<T> => {
      const scope: Scope = {};
      // PGlite commits when the callback resolves and rolls back (then rethrows) when it rejects.
      return gate.hold("fromPGlite", scope, () =>
        pg.transaction((tx) => {
          scope.tx = tx;
          return fn(fromPGlite(tx));
        }),
      );
    },
    listen: async (channel, onMessage) => {
      const name = assertIdentifier("listen channel", channel);
      // Quoted, so that a name with capitals is kept: PGlite sends `LISTEN ${channel}` as given
      // and keys its listeners by the name PostgreSQL will use. Unlistened with pg.unlisten() and
      // the same quoted name: the function listen() resolves to lower-cases it (PGlite 0.5.17)
      // and would leave such a listener subscribed. One callback per subscription, so that two
      // subscriptions of one function are two.
      const channelName = `"${name}"`;
      const callback = (payload: string) => onMessage(payload);
      await pg.listen(channelName, callback);
      return async () => {
        if (!pg.closed) await pg.unlisten(channelName, callback);
      };
    },
  });
}

async function runOn(on: PGliteDatabase | PGliteTransaction, sql: string, params: unknown[]) {
  const result = await on.query(sql, params);
  return { rows: result.rows, affectedRows: result.rowCount ?? result.affectedRows ?? 0 };
}
