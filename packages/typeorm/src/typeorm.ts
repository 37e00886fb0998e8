import { EventEmitter, once } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import { type BetterSqlite3Database, runStatement } from "@persistent-queue/better-sqlite3";
import {
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
  mysqlOutcome,
  type NotifyingConnection,
  type Outcome,
  sqliteGate,
  withConnection,
} from "@persistent-queue/core/adapter";
import type {
  FromTypeORMOptions,
  TypeORMDataSource,
  TypeORMEntityManager,
  TypeORMQueryRunner,
} from "./types.js";

// By shape: TypeORM is never imported.
const isDataSource = (x: unknown): x is TypeORMDataSource =>
  hasMethods(x, "createQueryRunner") && typeof membersOf(x).options === "object";
const isQueryRunner = (x: unknown): x is TypeORMQueryRunner =>
  hasMethods(x, "release", "startTransaction");
const isEntityManager = (x: unknown): x is TypeORMEntityManager =>
  hasMethods(x, "transaction") && isDataSource(membersOf(x).connection);

const NAME = "fromTypeORM";
const EXPECTED = "a TypeORM DataSource, EntityManager or QueryRunner";
const OPEN = "an initialized TypeORM DataSource";
const UNRELEASED = "a QueryRunner that is not released";
const RELEASED = "It was released: create a new one with dataSource.createQueryRunner().";
const OPEN_IT =
  "It is not initialized, or was destroyed: await dataSource.initialize() before the queue uses it.";

/** The error of a statement that waited `ms` for a transaction opened on TypeORM directly. */
const held = (ms: number) =>
  new TransactionMisuseError(
    `${NAME}: a TypeORM transaction has held the SQLite connection for over ${ms} ms. ` +
      "Inside dataSource.transaction(fn), pass { db: fromTypeORM(manager) } instead of the DataSource's DB.",
  );

/** Hands a query runner taken for one statement back to the pool. */
const release = (runner: TypeORMQueryRunner) => runner.release();

/** The dialect family from the DataSource's own `type` option. */
function familyOf(dataSource: TypeORMDataSource): DialectFamily {
  const type = dataSource.options.type;
  if (type === "mysql" || type === "mariadb" || type === "aurora-mysql") return "mysql";
  if (type === "postgres") return "postgres";
  if (type === "better-sqlite3") return "sqlite";
  throw new UnsupportedError(
    `${NAME}: DataSource type "${type}" is not supported; use "mysql"/"mariadb" (mysql2), "postgres" (pg) or "better-sqlite3".`,
  );
}

/**
 * Adapts a TypeORM `DataSource`, `EntityManager` or `QueryRunner` to the queue's `DB`.
 *
 * - The dialect comes from the DataSource's `type` option.
 * - A DataSource (or its non-transactional `manager`) runs each statement on a
 *   query runner taken from its pool and released afterwards.
 * - An EntityManager that carries a query runner (the `manager` TypeORM hands
 *   to `dataSource.transaction(fn)`) and a QueryRunner run every statement on
 *   that runner, so `queue.add(type, params, { db: fromTypeORM(manager) })`
 *   joins the transaction. Such a DB has no `transaction` and `close()` does nothing.
 * - `transaction(fn)` uses TypeORM's own `transaction()`.
 * - `affectedRows` counts matched rows (also when MySQL's FOUND_ROWS flag is
 *   off); `insertId` is reported on MySQL and SQLite; `bigint` cells become
 *   numbers when safe; booleans bind as 1/0 and, on SQLite, Dates as UTC text.
 * - `listen` on PostgreSQL (a DataSource): one pooled connection per subscription.
 * - `close()` destroys the DataSource, or releases a QueryRunner you passed.
 * - Anything else (undefined, a Promise, DataSource options, a raw pool) or a
 *   released QueryRunner throws an `AdapterArgumentError` here; so does a
 *   statement on a DataSource that is not (or no longer) initialized. A type
 *   other than mysql/mariadb, postgres and better-sqlite3 is an `UnsupportedError`;
 *   a nested transaction, a `TransactionMisuseError`.
 */
export function fromTypeORM(
  source: TypeORMDataSource | TypeORMEntityManager | TypeORMQueryRunner,
  options: FromTypeORMOptions = {},
): DB {
  if (isDataSource(source)) return fromDataSource(source, options);
  if (isQueryRunner(source)) {
    expectArgument(!source.isReleased, NAME, UNRELEASED, source, RELEASED);
    return fromRunner(source, false);
  }
  expectArgument(isEntityManager(source), NAME, EXPECTED, source);
  const runner = source.queryRunner;
  return runner ? fromRunner(runner, false) : fromDataSource(source.connection, options);
}

/**
 * A DB on the DataSource. Each statement takes a query runner from the pool,
 * except on SQLite, where TypeORM has one shared runner and connection, and a
 * transaction opened on it (by anyone) captures every statement issued
 * meanwhile; a second becomes a SAVEPOINT inside the first. There a statement
 * waits until no transaction holds the runner, unless it comes from inside a
 * transaction this adapter opened: core's SQLite gate knows those, and wakes
 * waiters at their end; one opened on TypeORM directly is waited for through
 * TypeORM's transaction events, up to `sqliteBusyTimeoutMs`.
 */
function fromDataSource(dataSource: TypeORMDataSource, options: FromTypeORMOptions): DB {
  const dialect = familyOf(dataSource);
  // It may still be uninitialized when fromTypeORM() is called, so this is checked at use.
  const checkOpen = () => expectArgument(dataSource.isInitialized, NAME, OPEN, dataSource, OPEN_IT);
  const gate = sqliteGate<true>(dataSource);
  const sqliteTurn = async (shared: TypeORMQueryRunner) => {
    await gate.turn();
    const timeoutMs = options.sqliteBusyTimeoutMs ?? 5000;
    const deadline = Date.now() + timeoutMs;
    while (shared.isTransactionActive && !gate.scope()) {
      if (!(await transactionEnd(dataSource, deadline - Date.now()))) throw held(timeoutMs);
    }
  };
  const listen: DB["listen"] = async (channel, onMessage, onBroken) => {
    checkOpen();
    const runner = dataSource.createQueryRunner("master");
    const connection = (await runner.connect()) as NotifyingConnection;
    const query = (sql: string) => runner.query(sql, [], true);
    // Released at once, broken or not: a broken client is then dropped by the pool on its next use.
    const release = () => (runner.isReleased ? undefined : runner.release());
    return listenOnConnection({ connection, channel, onMessage, onBroken, run: query, release });
  };
  return defineDb({
    dialect,
    async run(sql, params) {
      checkOpen();
      if (dialect !== "sqlite") {
        const pooled = () => dataSource.createQueryRunner("master");
        return withConnection(pooled, release, (r) => runOn(r, dialect)(sql, params));
      }
      const shared = dataSource.createQueryRunner(); // TypeORM's one SQLite runner
      const conn = (await shared.connect()) as BetterSqlite3Database; // what TypeORM's SQLite runner holds
      await sqliteTurn(shared);
      // Synchronous from the last check on: TypeORM cannot BEGIN in between.
      return runStatement(conn.prepare(sql), params);
    },
    close: async () => dataSource.isInitialized && dataSource.destroy(),
    async transaction(fn) {
      checkOpen();
      const inTx = (m: TypeORMEntityManager) => fn(fromRunner(m.queryRunner!, true));
      if (dialect !== "sqlite") return dataSource.transaction(inTx);
      const shared = dataSource.createQueryRunner();
      return gate.hold(NAME, true, async () => {
        await sqliteTurn(shared);
        // No await between the check and this call: TypeORM marks the runner busy synchronously.
        return dataSource.transaction(inTx);
      });
    },
    listen: dialect === "postgres" ? listen : undefined,
  });
}

/**
 * A TypeORM subscriber (TypeORM's public hook for transaction events) that
 * emits "end" at every commit or rollback on its DataSource.
 */
class TransactionEnds extends EventEmitter {
  afterTransactionCommit = () => this.emit("end");
  afterTransactionRollback = () => this.emit("end");
}
const transactionEnds = new WeakMap<object, TransactionEnds>();

/**
 * Resolves true at the end (commit or rollback) of a transaction on the
 * DataSource, false after `ms`. The subscriber is added to
 * `dataSource.subscribers` on first use and again after a re-initialize,
 * which replaces that list.
 */
function transactionEnd(dataSource: TypeORMDataSource, ms: number): Promise<boolean> {
  const ends = transactionEnds.get(dataSource) ?? new TransactionEnds().setMaxListeners(0);
  transactionEnds.set(dataSource, ends);
  const subscribers = (dataSource as { subscribers?: object[] }).subscribers;
  if (subscribers && !subscribers.includes(ends)) subscribers.push(ends);
  const stop = new AbortController(); // whichever comes first cancels the other
  const ended = once(ends, "end", { signal: stop.signal }).then(() => true);
  const timeout = sleep(Math.max(0, ms), false, { signal: stop.signal });
  return Promise.race([ended, timeout]).finally(() => stop.abort());
}

/** A DB bound to one query runner: every statement runs on it, in its transaction if one is open. */
function fromRunner(runner: TypeORMQueryRunner, forceTx: boolean): DB {
  const dialect = familyOf(runner.connection);
  // Decided once: a runner inside a transaction belongs to whoever opened it.
  const inTransaction = forceTx || runner.isTransactionActive;
  return defineDb({
    dialect,
    run: runOn(runner, dialect),
    close: inTransaction ? undefined : async () => runner.isReleased || runner.release(),
    transaction: inTransaction
      ? undefined
      : (fn) => runner.manager.transaction((m) => fn(fromRunner(m.queryRunner ?? runner, true))),
  });
}

/**
 * Runs statements on a query runner. TypeORM's structured result per driver:
 * mysql2's rows or header in `raw`; pg's rows in `records`, its rowCount in
 * `affected`; better-sqlite3's rows in `records`, or its changes in `affected`
 * and last rowid in `raw`.
 */
function runOn(runner: TypeORMQueryRunner, dialect: DialectFamily) {
  return async (sql: string, params: unknown[]): Promise<Outcome> => {
    const { records: rows, raw, affected } = await runner.query(sql, params, true);
    if (dialect === "mysql") return mysqlOutcome(raw);
    const affectedRows = affected ?? undefined;
    return Array.isArray(rows) ? { rows, affectedRows } : { affectedRows, insertId: raw };
  };
}
