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
  isInsert,
  type Outcome,
  replaceCells,
  retryWhileBusy,
  sqliteGate,
} from "@persistent-queue/core/adapter";

/**
 * The part of a Prisma 7 interactive-transaction client (`tx` in
 * `prisma.$transaction(async (tx) => …)`) this adapter uses. Typed
 * structurally, so this package never imports `@prisma/client` at run time
 * and any generated client fits, whatever its models.
 */
export interface PrismaTransactionClient {
  $executeRawUnsafe(query: string, ...values: unknown[]): PromiseLike<number>;
  $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): PromiseLike<T>;
}

/** Options of Prisma's interactive `$transaction(fn, options)`. */
export interface PrismaTransactionOptions {
  /** Longest wait for a connection to start the transaction, in ms (Prisma's default: 2000). */
  readonly maxWait?: number;
  /** Longest the transaction may stay open, in ms (Prisma's default: 5000). */
  readonly timeout?: number;
  /** Isolation level name, e.g. "ReadCommitted" (Prisma's `TransactionIsolationLevel`). */
  readonly isolationLevel?: string;
}

/** The part of a Prisma 7 `PrismaClient` (or an `$extends` result) this adapter uses. */
export interface PrismaRootClient extends PrismaTransactionClient {
  $transaction<R>(
    fn: (tx: PrismaTransactionClient) => Promise<R>,
    options?: PrismaTransactionOptions,
  ): PromiseLike<R>;
  $disconnect(): Promise<void>;
}

/** Options of {@link fromPrisma}. */
export interface FromPrismaOptions {
  /**
   * The SQL family, when it cannot be read from the client (see
   * {@link fromPrisma}). Normally left out.
   */
  readonly dialect?: DialectFamily;
  /** Passed to every `$transaction` this adapter opens (`transaction()`, INSERTs that report an id). */
  readonly transactionOptions?: PrismaTransactionOptions;
  /**
   * PostgreSQL notifications, which Prisma cannot receive: pass
   * `fromPg(pool).listen` (from `@persistent-queue/pg`) with the pg `Pool` you
   * gave `PrismaPg`, and workers in other processes wake at once on enqueue.
   * Left out, the DB has no `listen` and the engine polls.
   */
  readonly listen?: DB["listen"];
  /**
   * SQLite: switch the file to WAL on first use, so other processes' readers
   * and writer are not blocked by a reader here. Default true.
   */
  readonly wal?: boolean;
}

/** Prisma's provider names (schema `_activeProvider`, driver adapter `provider`) → core's families. */
const FAMILIES: Readonly<Record<string, DialectFamily>> = {
  postgresql: "postgres",
  postgres: "postgres",
  mysql: "mysql",
  sqlite: "sqlite",
};

/** Which statement reads the id the last INSERT generated, on the connection that ran it. */
const LAST_INSERT_ID: Partial<Record<DialectFamily, string>> = {
  mysql: "SELECT LAST_INSERT_ID() AS id",
  sqlite: "SELECT last_insert_rowid() AS id",
};

const isRoot = (c: PrismaTransactionClient): c is PrismaRootClient =>
  // A transaction client is the root client minus $connect/$disconnect/$on/$extends
  // (Prisma's ITXClientDenyList); `$transaction` alone is no tell, the proxy keeps it.
  typeof (c as Partial<PrismaRootClient>).$disconnect === "function";

/**
 * Reads the SQL family from the client. Prisma 7 has no public getter for it,
 * so this reads the generated client's `_activeProvider` (the schema's
 * datasource provider, also present on transaction clients), then the driver
 * adapter's `provider`; `options.dialect` overrides both.
 */
function detectDialect(client: PrismaTransactionClient, explicit?: DialectFamily): DialectFamily {
  if (explicit !== undefined) {
    if (explicit === "postgres" || explicit === "mysql" || explicit === "sqlite") return explicit;
    throw new ConfigError(
      "fromPrisma options.dialect",
      `must be "postgres", "mysql" or "sqlite" (got ${JSON.stringify(String(explicit)).slice(0, 40)}).`,
    );
  }
  const internals = client as {
    _activeProvider?: unknown;
    _engineConfig?: { adapter?: { provider?: unknown } };
  };
  const names = [internals._activeProvider, internals._engineConfig?.adapter?.provider];
  for (const name of names) {
    const family = typeof name === "string" ? FAMILIES[name] : undefined;
    if (family) return family;
  }
  const provider = names.find((name) => typeof name === "string");
  if (typeof provider === "string" && /^[a-z0-9-]{1,40}$/i.test(provider)) {
    // The schema's provider name (sqlserver, mongodb, cockroachdb…): no connection details.
    throw new UnsupportedError(
      `fromPrisma: the ${provider} provider is not supported; use postgresql, mysql or sqlite.`,
    );
  }
  throw new ConfigError(
    "fromPrisma options.dialect",
    'cannot tell which database this client speaks; pass { dialect: "postgres" | "mysql" | "sqlite" } as the second argument.',
  );
}

const EXPECTED =
  "a PrismaClient or the tx of prisma.$transaction (an object with $executeRawUnsafe() and $queryRawUnsafe())";

/**
 * Refuses, at once, what is not a Prisma client (undefined, a Promise, a raw
 * driver pool, the PrismaPg adapter). By shape: @prisma/client is never imported.
 */
function assertClient(client: unknown): asserts client is PrismaTransactionClient {
  const ok = hasMethods(client, "$executeRawUnsafe", "$queryRawUnsafe");
  if (!ok) throw new AdapterArgumentError("fromPrisma", EXPECTED, client);
}

/**
 * Adapts a Prisma 7 client to the queue's `DB`: a `PrismaClient` (with
 * the `PrismaPg`, `PrismaMariaDb` or `PrismaBetterSqlite3` driver adapter), an
 * `$extends` result, or the `tx` of an interactive `$transaction`.
 *
 * - SQL and parameters go to `$executeRawUnsafe` / `$queryRawUnsafe` unchanged.
 * - The family comes from the client's own configuration (its schema provider).
 * - `affectedRows` is what `$executeRawUnsafe` returns: matched rows on all
 *   three databases (PrismaMariaDb's driver sets FOUND_ROWS).
 * - `insertId` (mysql, sqlite): Prisma returns only a count, so an INSERT run
 *   through `exec` is followed by `LAST_INSERT_ID()` / `last_insert_rowid()` on
 *   the same connection — inside a short `$transaction` on a root client. Core
 *   uses `INSERT … RETURNING` on MariaDB and SQLite, so the queue rarely needs it.
 * - Results: BigInt (Prisma's type for BIGINT and COUNT) becomes a number when
 *   exact, else stays a BigInt (core's one rule); Prisma `Decimal`s become
 *   strings; Dates stay Dates.
 * - Parameters: on SQLite a `Date` is bound as UTC text `YYYY-MM-DD HH:MM:SS.SSS`
 *   (what core's SQLite schema stores; Prisma would bind ISO text that compares wrongly),
 *   and a bigint past 2^53 as decimal text (Prisma would round it to a double).
 * - `transaction(fn)` is Prisma's interactive `$transaction`; `fn` gets a DB on
 *   its `tx`. Prisma closes a transaction after `transactionOptions.timeout` (5 s).
 * - A DB made from a `tx` runs in that transaction: no nested `transaction`,
 *   and `close()` does nothing.
 * - `close()` calls `$disconnect()`; this DB then rejects every call (Prisma
 *   itself would silently reconnect).
 * - No `listen` unless `options.listen` is given: Prisma cannot LISTEN.
 * - Anything but a Prisma client throws an `AdapterArgumentError`, so does any
 *   call after `close()`; a provider other than postgresql, mysql and sqlite
 *   is an `UnsupportedError`; an unreadable one a `ConfigError` (pass `dialect`).
 */
export function fromPrisma(client: PrismaTransactionClient, options: FromPrismaOptions = {}): DB {
  assertClient(client);
  const dialect = detectDialect(client, options.dialect);
  const root = isRoot(client) ? client : undefined;
  let closed = false;
  /** SQLite: the transaction client of the `transaction(fn)` the current call comes from. */
  const gate = sqliteGate<PrismaTransactionClient>(client);
  const guard = () => {
    if (closed) {
      throw new AdapterArgumentError(
        "fromPrisma",
        "an open PrismaClient",
        client,
        "This DB was closed (its PrismaClient disconnected): make a new one with fromPrisma(new PrismaClient(…)).",
      );
    }
  };

  const execOn = async (on: PrismaTransactionClient, sql: string, params: unknown[]) => {
    const affectedRows = Number(await on.$executeRawUnsafe(sql, ...params));
    const lastId = LAST_INSERT_ID[dialect];
    if (lastId === undefined || affectedRows === 0 || !isInsert(sql)) return { affectedRows };
    const [row] = await on.$queryRawUnsafe<{ id: unknown }[]>(lastId);
    return { affectedRows, insertId: row?.id };
  };

  /**
   * Runs a root-client call. On SQLite, PrismaBetterSqlite3 has one connection
   * and serialises only transactions: a plain call made while any
   * `$transaction` is open runs *inside* it (sees its uncommitted rows, is
   * rolled back with it). So there every root call runs in its own short
   * `$transaction`, which waits its turn. Elsewhere, calls go straight through.
   */
  let walDone = options.wal === false;
  const onRoot = async <T>(fn: (on: PrismaTransactionClient) => PromiseLike<T>): Promise<T> => {
    if (!root || dialect !== "sqlite") return fn(client);
    // Called from inside this DB's own transaction(fn): that transaction holds the connection.
    const current = gate.scope();
    if (current) return fn(current);
    // A wait for the connection is expected here (another transaction holds it), so allow more than Prisma's 2 s.
    const settings = { maxWait: 10_000, ...options.transactionOptions };
    return retryWhileBusy(
      async () => {
        if (!walDone) {
          // WAL lets readers and the writer of other processes go on; it persists in the file.
          await root.$queryRawUnsafe("PRAGMA journal_mode = WAL");
          walDone = true;
        }
        return root.$transaction(async (tx) => fn(tx), settings);
      },
      10_000,
      adapterErrorCode,
    );
  };

  const run = async (sql: string, params: unknown[], wantRows: boolean): Promise<Outcome> => {
    if (wantRows) {
      const rows = await onRoot((on) => on.$queryRawUnsafe<unknown>(sql, ...params));
      if (!Array.isArray(rows)) return { rows: [] };
      return { rows: rows.map((row: object) => replaceCells(row, isDecimal, decimalText)) };
    }
    if (root && dialect === "mysql" && isInsert(sql)) {
      // The id query must run on the INSERT's connection; a root client may use another one.
      return root.$transaction((tx) => execOn(tx, sql, params), options.transactionOptions);
    }
    return onRoot((on) => execOn(on, sql, params));
  };
  const sqlite = dialect === "sqlite";
  return defineDb({
    dialect,
    // PrismaBetterSqlite3 binds a bigint as a double, losing digits past 2^53.
    bigintUnsupported: sqlite,
    run: (sql, params, wantRows) => {
      guard();
      return withCause(() => run(sql, params, wantRows));
    },
    close: root
      ? async () => {
          if (closed) return;
          closed = true;
          await root.$disconnect();
        }
      : undefined,
    listen: root ? options.listen : undefined,
    transaction: root
      ? async (fn) => {
          guard(); // an async function: a closed DB rejects, as every other call does
          if (sqlite) gate.assertNotNested("fromPrisma");
          const txOptions = { dialect, transactionOptions: options.transactionOptions };
          return withCause(() =>
            root.$transaction(async (tx) => {
              const db = fromPrisma(tx, txOptions);
              return sqlite ? gate.hold("fromPrisma", tx, () => fn(db)) : fn(db);
            }, options.transactionOptions),
          );
        }
      : undefined,
  });
}

/** What a Prisma error carries of the driver's own: `meta.driverAdapterError`. */
interface PrismaError {
  cause?: unknown;
  meta?: {
    driverAdapterError?: {
      cause?: { originalCode?: unknown; originalMessage?: unknown; kind?: unknown };
    };
  };
}

const driverAdapterError = (err: unknown) => (err as PrismaError | null)?.meta?.driverAdapterError;

/** The SQLite (or other driver) code inside a Prisma error: `meta.driverAdapterError.cause.originalCode`. */
const adapterErrorCode = (err: unknown): unknown => driverAdapterError(err)?.cause?.originalCode;

/**
 * Prisma wraps the driver's error (SQLSTATE, errno, SQLite code) in
 * `meta.driverAdapterError`, where core's error classification does not look;
 * exposing it as `cause` lets core tell a duplicate key or an existing table
 * from a real failure. The error is otherwise rethrown unchanged.
 */
async function withCause<T>(fn: () => PromiseLike<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const adapterError = driverAdapterError(err);
    if (adapterError && (err as PrismaError).cause === undefined) {
      const driver = adapterError.cause ?? {};
      const cause = Object.assign(
        new Error(String(driver.originalMessage ?? driver.kind ?? "driver error"), {
          cause: adapterError,
        }),
        { code: driver.originalCode === undefined ? undefined : String(driver.originalCode) },
      );
      Object.defineProperty(err, "cause", { value: cause, configurable: true, writable: true });
    }
    throw err;
  }
}

/** Prisma's Decimal (DECIMAL columns, SUM on MySQL), which becomes a string, as mysql2 and pg give it. BigInts are core's rule. */
const decimalText = (decimal: unknown): string => (decimal as object).toString();

function isDecimal(value: unknown): boolean {
  return (
    typeof value === "object" &&
    value !== null &&
    !(value instanceof Date) &&
    !(value instanceof Uint8Array) &&
    typeof (value as { toFixed?: unknown }).toFixed === "function" &&
    typeof (value as { isFinite?: unknown }).isFinite === "function"
  );
}
