import {
  AdapterArgumentError,
  type DB,
  type DialectFamily,
  TransactionMisuseError,
  UnsupportedError,
} from "@persistent-queue/core";
import {
  defineDb,
  hasMethods,
  listenOnConnection,
  membersOf,
  mysqlOutcome,
  type NotifyingConnection,
  type Outcome,
  type RunStatement,
  sqliteGate,
  withConnection,
} from "@persistent-queue/core/adapter";

/** What `queryRunner.query(sql, params, true)` returns on every TypeORM driver. */
export interface TypeORMQueryResult {
  records?: unknown[];
  raw?: unknown;
  affected?: number | null;
}

/**
 * The subset of TypeORM's `QueryRunner` this adapter uses. Typed structurally
 * so this package never imports TypeORM at run time; TypeORM 0.3.20+ and 1.x fit.
 */
export interface TypeORMQueryRunner {
  readonly connection: TypeORMDataSource;
  readonly manager: TypeORMEntityManager;
  readonly isReleased: boolean;
  readonly isTransactionActive: boolean;
  query(
    sql: string,
    parameters: unknown[] | undefined,
    useStructuredResult: true,
  ): Promise<TypeORMQueryResult>;
  connect(): Promise<unknown>;
  release(): Promise<void>;
  startTransaction(...args: never[]): Promise<void>;
}

/** The subset of TypeORM's `EntityManager` this adapter uses. */
export interface TypeORMEntityManager {
  readonly connection: TypeORMDataSource;
  readonly queryRunner?: TypeORMQueryRunner | undefined;
  transaction<T>(runInTransaction: (manager: TypeORMEntityManager) => Promise<T>): Promise<T>;
}

/** The subset of TypeORM's `DataSource` this adapter uses. */
export interface TypeORMDataSource {
  readonly options: { readonly type: string };
  readonly isInitialized: boolean;
  createQueryRunner(mode?: "master" | "slave"): TypeORMQueryRunner;
  transaction<T>(runInTransaction: (manager: TypeORMEntityManager) => Promise<T>): Promise<T>;
  destroy(): Promise<void>;
}

/** Options of {@link fromTypeORM}. */
export interface FromTypeORMOptions {
  /**
   * SQLite only: how long a statement on the DataSource waits for a TypeORM
   * transaction that holds the (single, shared) connection, in ms. Default 5000.
   */
  readonly sqliteBusyTimeoutMs?: number;
}

/** The subset of a better-sqlite3 `Database` (what TypeORM's SQLite runner connects to). */
interface SqliteConnection {
  prepare(sql: string): {
    readonly reader: boolean;
    run(...params: unknown[]): { changes: number; lastInsertRowid: number | bigint };
    all(...params: unknown[]): unknown[];
  };
}

const isDataSource = (x: unknown): x is TypeORMDataSource =>
  hasMethods(x, "createQueryRunner") && typeof membersOf(x).options === "object";
const isQueryRunner = (x: unknown): x is TypeORMQueryRunner =>
  hasMethods(x, "release", "startTransaction");
const isEntityManager = (x: unknown): x is TypeORMEntityManager =>
  hasMethods(x, "transaction") && isDataSource(membersOf(x).connection);

const EXPECTED = "a TypeORM DataSource, EntityManager or QueryRunner";

/**
 * Refuses, at once, what is not a TypeORM DataSource, EntityManager or
 * QueryRunner (undefined, a Promise, DataSource options, a raw driver pool),
 * and a QueryRunner already released. By shape: TypeORM is never imported.
 */
function assertSource(
  source: unknown,
): asserts source is TypeORMDataSource | TypeORMEntityManager | TypeORMQueryRunner {
  const ok = isDataSource(source) || isQueryRunner(source) || isEntityManager(source);
  if (!ok) throw new AdapterArgumentError("fromTypeORM", EXPECTED, source);
  if (isQueryRunner(source) && source.isReleased) {
    throw new AdapterArgumentError(
      "fromTypeORM",
      "a QueryRunner that is not released",
      source,
      "It was released: create a new one with dataSource.createQueryRunner().",
    );
  }
}

/** The dialect family from the DataSource's own `type` option. */
function familyOf(dataSource: TypeORMDataSource): DialectFamily {
  const type = dataSource.options.type;
  if (type === "mysql" || type === "mariadb" || type === "aurora-mysql") return "mysql";
  if (type === "postgres") return "postgres";
  if (type === "better-sqlite3") return "sqlite";
  throw new UnsupportedError(
    `fromTypeORM: DataSource type "${type}" is not supported; use "mysql"/"mariadb" (mysql2), "postgres" (pg) or "better-sqlite3".`,
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
  assertSource(source);
  if (isDataSource(source)) return fromDataSource(source, options);
  const runner = isQueryRunner(source) ? source : source.queryRunner;
  if (runner === undefined) return fromDataSource(source.connection, options);
  return fromRunner(runner, false);
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
  const ensureOpen = () => {
    if (dataSource.isInitialized) return;
    throw new AdapterArgumentError(
      "fromTypeORM",
      "an initialized TypeORM DataSource",
      dataSource,
      "It is not initialized, or was destroyed: await dataSource.initialize() before the queue uses it.",
    );
  };
  const gate = sqliteGate<true>(dataSource);
  const sqliteTurn = async (shared: TypeORMQueryRunner) => {
    await gate.turn();
    const timeoutMs = options.sqliteBusyTimeoutMs ?? 5000;
    const deadline = Date.now() + timeoutMs;
    while (shared.isTransactionActive && !gate.scope()) {
      if (!(await transactionEnd(dataSource, deadline - Date.now()))) {
        throw new TransactionMisuseError(
          `fromTypeORM: a TypeORM transaction has held the SQLite connection for over ${timeoutMs} ms. ` +
            "Inside dataSource.transaction(fn), pass { db: fromTypeORM(manager) } instead of the DataSource's DB.",
        );
      }
    }
  };
  const run: RunStatement = async (sql, params) => {
    ensureOpen();
    if (dialect === "sqlite") {
      const shared = dataSource.createQueryRunner(); // TypeORM's one SQLite runner
      const conn = (await shared.connect()) as SqliteConnection;
      await sqliteTurn(shared);
      // Synchronous from the last check on: TypeORM cannot BEGIN in between.
      const stmt = conn.prepare(sql);
      if (stmt.reader) return { rows: stmt.all(...params) };
      const { changes, lastInsertRowid } = stmt.run(...params);
      return { affectedRows: changes, insertId: lastInsertRowid };
    }
    return withConnection(
      () => dataSource.createQueryRunner("master"),
      (runner) => runner.release(),
      async (runner) => toOutcome(dialect, await runner.query(sql, params, true)),
    );
  };
  return defineDb({
    dialect,
    run,
    close: async () => dataSource.isInitialized && dataSource.destroy(),
    async transaction(fn) {
      ensureOpen();
      const inTx = (m: TypeORMEntityManager) => fn(fromRunner(m.queryRunner!, true));
      if (dialect !== "sqlite") return dataSource.transaction(inTx);
      const shared = dataSource.createQueryRunner();
      return gate.hold("fromTypeORM", true, async () => {
        await sqliteTurn(shared);
        // No await between the check and this call: TypeORM marks the runner busy synchronously.
        return dataSource.transaction(inTx);
      });
    },
    listen:
      dialect !== "postgres"
        ? undefined
        : async (channel, onMessage, onBroken) => {
            ensureOpen();
            const runner = dataSource.createQueryRunner("master");
            return listenOnConnection({
              connection: (await runner.connect()) as NotifyingConnection,
              channel,
              onMessage,
              onBroken,
              run: (sql) => runner.query(sql, [], true),
              // Released at once, broken or not: a broken client is then dropped by the pool on its next use.
              release: () => (runner.isReleased ? undefined : runner.release()),
            });
          },
  });
}

/** Per DataSource: the wake-ups of those waiting for its current transaction to end. */
const transactionEnds = new WeakMap<object, { waiters: Set<() => void>; subscriber: object }>();

/**
 * Resolves true at the end (commit or rollback) of a transaction on the
 * DataSource, false after `ms`. Told by a TypeORM subscriber (TypeORM's public
 * hook for transaction events), added to `dataSource.subscribers` on first use
 * and again after a re-initialize, which replaces that list.
 */
function transactionEnd(dataSource: TypeORMDataSource, ms: number): Promise<boolean> {
  let ends = transactionEnds.get(dataSource);
  if (!ends) {
    const waiters = new Set<() => void>();
    const wake = () => {
      for (const waiter of [...waiters]) waiter();
    };
    ends = {
      waiters,
      subscriber: { afterTransactionCommit: wake, afterTransactionRollback: wake },
    };
    transactionEnds.set(dataSource, ends);
  }
  const subscribers = (dataSource as { subscribers?: object[] }).subscribers;
  if (subscribers && !subscribers.includes(ends.subscriber)) subscribers.push(ends.subscriber);
  const { waiters } = ends;
  return new Promise((resolve) => {
    const done = (ended: boolean) => {
      clearTimeout(timer);
      waiters.delete(wake);
      resolve(ended);
    };
    const wake = () => done(true);
    const timer = setTimeout(() => done(false), Math.max(0, ms));
    waiters.add(wake);
  });
}

/** A DB bound to one query runner: every statement runs on it, in its transaction if one is open. */
function fromRunner(runner: TypeORMQueryRunner, forceTx: boolean): DB {
  const dialect = familyOf(runner.connection);
  // Decided once: a runner inside a transaction belongs to whoever opened it.
  const inTransaction = forceTx || runner.isTransactionActive;
  const run: RunStatement = async (sql, params) =>
    toOutcome(dialect, await runner.query(sql, params, true));
  return defineDb({
    dialect,
    run,
    close: inTransaction ? undefined : async () => runner.isReleased || runner.release(),
    transaction: inTransaction
      ? undefined
      : (fn) => runner.manager.transaction((m) => fn(fromRunner(m.queryRunner ?? runner, true))),
  });
}

/** TypeORM's structured result per driver: mysql2's rows or header in `raw`, SQLite's rowid in `raw`, pg's rowCount in `affected`. */
function toOutcome(dialect: DialectFamily, result: TypeORMQueryResult): Outcome {
  const raw = result.raw;
  if (dialect === "mysql") return mysqlOutcome(raw);
  if (dialect === "sqlite" && !Array.isArray(result.records)) {
    return { affectedRows: Number(result.affected ?? 0), insertId: raw };
  }
  const affectedRows = typeof result.affected === "number" ? result.affected : undefined;
  return { rows: Array.isArray(result.records) ? result.records : [], affectedRows };
}
