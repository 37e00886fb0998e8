import { AsyncLocalStorage } from "node:async_hooks";
import {
  AdapterArgumentError,
  type DB,
  type DialectFamily,
  type ExecResult,
  listenOnConnection,
  type NotifyingConnection,
  type Row,
  type SqlValue,
  TransactionMisuseError,
  type Unlisten,
  UnsupportedError,
} from "@persistent-queue/core";

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

/** The DataSource's shared SQLite runner while a transaction opened through this adapter runs `fn`. */
const ownTransaction = new AsyncLocalStorage<TypeORMQueryRunner>();

const isDataSource = (x: object): x is TypeORMDataSource =>
  typeof (x as Partial<TypeORMDataSource>).createQueryRunner === "function" &&
  typeof (x as Partial<TypeORMDataSource>).options === "object";
const isQueryRunner = (x: object): x is TypeORMQueryRunner =>
  typeof (x as Partial<TypeORMQueryRunner>).release === "function" &&
  typeof (x as Partial<TypeORMQueryRunner>).startTransaction === "function";
const isEntityManager = (x: object): x is TypeORMEntityManager => {
  const connection = (x as Partial<TypeORMEntityManager>).connection;
  return (
    typeof (x as Partial<TypeORMEntityManager>).transaction === "function" &&
    typeof connection === "object" &&
    connection !== null &&
    isDataSource(connection)
  );
};

const EXPECTED = "a TypeORM DataSource, EntityManager or QueryRunner";

/**
 * Refuses, at once, what is not a TypeORM DataSource, EntityManager or
 * QueryRunner (undefined, a Promise, DataSource options, a raw driver pool),
 * and a QueryRunner already released. By shape: TypeORM is never imported.
 */
function assertSource(
  source: unknown,
): asserts source is TypeORMDataSource | TypeORMEntityManager | TypeORMQueryRunner {
  const ok =
    typeof source === "object" &&
    source !== null &&
    typeof (source as { then?: unknown }).then !== "function" &&
    (isDataSource(source) || isQueryRunner(source) || isEntityManager(source));
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

/**
 * A DataSource must be initialized when a statement runs; it may still be
 * uninitialized when fromTypeORM() is called, so this is checked at use.
 */
function notInitialized(dataSource: TypeORMDataSource): AdapterArgumentError {
  return new AdapterArgumentError(
    "fromTypeORM",
    "an initialized TypeORM DataSource",
    dataSource,
    "It is not initialized, or was destroyed: await dataSource.initialize() before the queue uses it.",
  );
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
 * Adapts a TypeORM `DataSource`, `EntityManager` or `QueryRunner` to the queue's {@link DB}.
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
  return fromRunner(runner, false, options);
}

function fromDataSource(dataSource: TypeORMDataSource, options: FromTypeORMOptions): DB {
  const dialect = familyOf(dataSource);
  const ensureOpen = () => {
    if (!dataSource.isInitialized) throw notInitialized(dataSource);
  };

  let run: (sql: string, params: readonly SqlValue[]) => Promise<Outcome>;
  if (dialect === "sqlite") {
    run = async (sql, params) => {
      ensureOpen();
      const shared = dataSource.createQueryRunner(); // TypeORM's one SQLite runner
      const conn = (await shared.connect()) as SqliteConnection;
      await waitForSqliteTurn(shared, options);
      // Synchronous from the last check on: TypeORM cannot BEGIN in between.
      const stmt = conn.prepare(sql);
      const bound = bindParams("sqlite", params);
      if (stmt.reader) return { rows: stmt.all(...bound) };
      const { changes, lastInsertRowid } = stmt.run(...bound);
      return { affected: changes, lastInsertRowid };
    };
  } else {
    run = async (sql, params) => {
      ensureOpen();
      const runner = dataSource.createQueryRunner("master");
      try {
        return toOutcome(dialect, await runner.query(sql, bindParams(dialect, params), true));
      } finally {
        await runner.release();
      }
    };
  }

  const db: DB = {
    dialect,
    exec: async (sql, params = []) => execResult(sql, await run(sql, params)),
    query: async <T extends Row = Row>(sql: string, params: readonly SqlValue[] = []) =>
      normaliseRows<T>((await run(sql, params)).rows),
    async ping() {
      await run("SELECT 1", []);
    },
    async close() {
      if (dataSource.isInitialized) await dataSource.destroy();
    },
    async transaction<T>(fn: (tx: DB) => Promise<T>): Promise<T> {
      ensureOpen();
      const inTx = (m: TypeORMEntityManager) => fn(fromRunner(m.queryRunner!, true, options));
      if (dialect !== "sqlite") return dataSource.transaction(inTx);
      const shared = dataSource.createQueryRunner();
      if (ownTransaction.getStore() === shared) {
        throw new TransactionMisuseError(
          "fromTypeORM: transactions do not nest; use the `tx` you were given.",
        );
      }
      await waitForSqliteTurn(shared, options);
      // No await between the check and this call: TypeORM marks the runner busy synchronously.
      return ownTransaction.run(shared, () => dataSource.transaction(inTx));
    },
  };
  if (dialect === "postgres") {
    db.listen = async (channel, onMessage, onBroken): Promise<Unlisten> => {
      ensureOpen();
      const runner = dataSource.createQueryRunner("master");
      const client = (await runner.connect()) as NotifyingConnection;
      return listenOnConnection({
        connection: client,
        channel,
        onMessage,
        onBroken,
        run: (sql) => runner.query(sql, [], true),
        // Released at once, broken or not: a broken client is then dropped by the pool on its next use.
        release: () => (runner.isReleased ? undefined : runner.release()),
      });
    };
  }
  return db;
}

/** A DB bound to one query runner: every statement runs on it, in its transaction if one is open. */
function fromRunner(runner: TypeORMQueryRunner, forceTx: boolean, options: FromTypeORMOptions): DB {
  const dialect = familyOf(runner.connection);
  // Decided once: a runner inside a transaction belongs to whoever opened it.
  const inTransaction = forceTx || runner.isTransactionActive;
  const run = async (sql: string, params: readonly SqlValue[]): Promise<Outcome> =>
    toOutcome(dialect, await runner.query(sql, bindParams(dialect, params), true));
  const db: DB = {
    dialect,
    exec: async (sql, params = []) => execResult(sql, await run(sql, params)),
    query: async <T extends Row = Row>(sql: string, params: readonly SqlValue[] = []) =>
      normaliseRows<T>((await run(sql, params)).rows),
    async ping() {
      await run("SELECT 1", []);
    },
    async close() {
      if (!inTransaction && !runner.isReleased) await runner.release();
    },
  };
  if (!inTransaction) {
    db.transaction = <T>(fn: (tx: DB) => Promise<T>): Promise<T> =>
      runner.manager.transaction((m) => fn(fromRunner(m.queryRunner ?? runner, true, options)));
  }
  return db;
}

/**
 * TypeORM runs every SQLite statement on one shared runner and connection,
 * and a transaction opened on it (by anyone) captures every statement issued
 * meanwhile; a second transaction becomes a SAVEPOINT inside the first. So a
 * statement on the DataSource waits until no transaction holds the runner,
 * unless it is issued from inside a transaction this adapter opened.
 */
async function waitForSqliteTurn(shared: TypeORMQueryRunner, options: FromTypeORMOptions) {
  const timeoutMs = options.sqliteBusyTimeoutMs ?? 5000;
  const deadline = Date.now() + timeoutMs;
  let step = 1;
  while (shared.isTransactionActive && ownTransaction.getStore() !== shared) {
    if (Date.now() > deadline) {
      throw new TransactionMisuseError(
        `fromTypeORM: a TypeORM transaction has held the SQLite connection for over ${timeoutMs} ms. ` +
          "Inside dataSource.transaction(fn), pass { db: fromTypeORM(manager) } instead of the DataSource's DB.",
      );
    }
    await new Promise((r) => setTimeout(r, step));
    step = Math.min(step * 2, 20);
  }
}

/** One statement's result, before it is shaped as rows or an ExecResult. */
interface Outcome {
  rows?: unknown[];
  affected?: number;
  lastInsertRowid?: number | bigint | string;
}

/** TypeORM's structured result per driver: mysql2's header in `raw`, SQLite's rowid in `raw`, pg's rowCount in `affected`. */
function toOutcome(dialect: DialectFamily, result: TypeORMQueryResult): Outcome {
  const raw = result.raw;
  if (dialect === "mysql") {
    if (Array.isArray(raw)) return { rows: raw };
    const header = (raw ?? {}) as {
      affectedRows?: number;
      insertId?: number | string;
      info?: string;
    };
    // "Rows matched: N  Changed: M": the matched count, whatever the FOUND_ROWS flag says.
    const matched = /Rows matched:\s*(\d+)/.exec(header.info ?? "");
    return {
      affected: matched ? Number(matched[1]) : Number(header.affectedRows ?? 0),
      lastInsertRowid: header.insertId ? header.insertId : undefined,
    };
  }
  if (dialect === "sqlite" && !Array.isArray(result.records)) {
    return { affected: Number(result.affected ?? 0), lastInsertRowid: raw as number | bigint };
  }
  const affected = typeof result.affected === "number" ? result.affected : undefined;
  return { rows: Array.isArray(result.records) ? result.records : [], affected };
}

function execResult(sql: string, outcome: Outcome): ExecResult {
  const affectedRows =
    outcome.rows && outcome.affected === undefined ? outcome.rows.length : (outcome.affected ?? 0);
  // SQLite reports the last rowid of the connection even after an UPDATE: only an INSERT's counts.
  const inserted = affectedRows > 0 && /^\s*(insert|replace)\b/i.test(sql);
  return { affectedRows, insertId: inserted ? (outcome.lastInsertRowid ?? undefined) : undefined };
}

/** Booleans as 1/0 everywhere (core never binds one, a caller's tx might); Dates as UTC text on SQLite, which cannot bind them. */
function bindParams(dialect: DialectFamily, params: readonly SqlValue[]): unknown[] {
  return params.map((p: unknown) => {
    if (typeof p === "boolean") return p ? 1 : 0;
    if (dialect === "sqlite" && p instanceof Date)
      return p.toISOString().replace("T", " ").replace("Z", "");
    return p;
  });
}

/** `bigint` cells (better-sqlite3 safeIntegers, some mysql2 settings) become numbers when exact. */
function normaliseRows<T extends Row>(rows: unknown[] | undefined): T[] {
  if (!rows) return [];
  for (const row of rows as Record<string, unknown>[]) {
    for (const key in row) {
      const v = row[key];
      if (
        typeof v === "bigint" &&
        v <= BigInt(Number.MAX_SAFE_INTEGER) &&
        v >= BigInt(Number.MIN_SAFE_INTEGER)
      ) {
        row[key] = Number(v);
      }
    }
  }
  return rows as T[];
}
