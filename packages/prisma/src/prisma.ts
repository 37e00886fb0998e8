import { ConfigError, type DB, type DialectFamily, UnsupportedError } from "@persistent-queue/core";
import {
  defineDb,
  expectArgument,
  hasMethods,
  isInsert,
  type Outcome,
  replaceCells,
  retryWhileBusy,
  sqliteGate,
} from "@persistent-queue/core/adapter";
import type { FromPrismaOptions, PrismaRootClient, PrismaTransactionClient } from "./types.js";

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

// A transaction client is the root client minus $connect/$disconnect/$on/$extends
// (Prisma's ITXClientDenyList); `$transaction` alone is no tell, the proxy keeps it.
const isRoot = (c: PrismaTransactionClient): c is PrismaRootClient => hasMethods(c, "$disconnect");

const isClient = (c: unknown): c is PrismaTransactionClient =>
  hasMethods(c, "$executeRawUnsafe", "$queryRawUnsafe");

const NAME = "fromPrisma";
const OPTION = "fromPrisma options.dialect";
const EXPECTED =
  "a PrismaClient or the tx of prisma.$transaction (an object with $executeRawUnsafe() and $queryRawUnsafe())";
const CLOSED =
  "This DB was closed (its PrismaClient disconnected): make a new one with fromPrisma(new PrismaClient(…)).";

/** Where Prisma 7 keeps the provider, having no public getter for it. */
interface PrismaInternals {
  readonly _activeProvider?: unknown;
  readonly _engineConfig?: { readonly adapter?: { readonly provider?: unknown } };
}

/**
 * Reads the SQL family from the client. Prisma 7 has no public getter for it,
 * so this reads the generated client's `_activeProvider` (the schema's
 * datasource provider, also present on transaction clients), then the driver
 * adapter's `provider`; `options.dialect` overrides both.
 */
function detectDialect(client: PrismaTransactionClient, explicit?: DialectFamily): DialectFamily {
  if (explicit !== undefined) {
    if (explicit === "postgres" || explicit === "mysql" || explicit === "sqlite") return explicit;
    const got = JSON.stringify(String(explicit)).slice(0, 40);
    throw new ConfigError(OPTION, `must be "postgres", "mysql" or "sqlite" (got ${got}).`);
  }
  const { _activeProvider: schema, _engineConfig: config } = client as PrismaInternals;
  const names = [schema, config?.adapter?.provider].filter((n) => typeof n === "string");
  const family = names.map((name) => FAMILIES[name]).find((f) => f !== undefined);
  if (family) return family;
  const [provider] = names;
  if (provider !== undefined && /^[a-z0-9-]{1,40}$/i.test(provider)) {
    // The schema's provider name (sqlserver, mongodb, cockroachdb…): no connection details.
    throw new UnsupportedError(
      `fromPrisma: the ${provider} provider is not supported; use postgresql, mysql or sqlite.`,
    );
  }
  throw new ConfigError(
    OPTION,
    'cannot tell which database this client speaks; pass { dialect: "postgres" | "mysql" | "sqlite" } as the second argument.',
  );
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
  // At once, what is not a Prisma client (undefined, a Promise, a raw driver pool, the PrismaPg
  // adapter). By shape: @prisma/client is never imported.
  expectArgument(isClient(client), NAME, EXPECTED, client);
  const dialect = detectDialect(client, options.dialect);
  const root = isRoot(client) ? client : undefined;
  let closed = false;
  /** SQLite: the transaction client of the `transaction(fn)` the current call comes from. */
  const gate = sqliteGate<PrismaTransactionClient>(client);
  const guard = () => expectArgument(!closed, NAME, "an open PrismaClient", client, CLOSED);

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
    const inTransaction = async () => {
      // WAL lets readers and the writer of other processes go on; it persists in the file.
      if (!walDone) await root.$queryRawUnsafe("PRAGMA journal_mode = WAL");
      walDone = true;
      return root.$transaction(async (tx) => fn(tx), settings);
    };
    return retryWhileBusy(inTransaction, 10_000, adapterErrorCode);
  };

  const run = async (sql: string, params: unknown[], wantRows: boolean): Promise<Outcome> => {
    guard();
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
  const close = async () => {
    if (closed) return;
    closed = true;
    await root?.$disconnect();
  };
  const sqlite = dialect === "sqlite";
  return defineDb({
    dialect,
    // PrismaBetterSqlite3 binds a bigint as a double, losing digits past 2^53.
    bigintUnsupported: sqlite,
    run: (sql, params, wantRows) => withCause(() => run(sql, params, wantRows)),
    close: root ? close : undefined,
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

/** What a Prisma error carries of the driver's own error. */
interface DriverAdapterError {
  cause?: { originalCode?: unknown; originalMessage?: unknown; kind?: unknown };
}

/** `meta.driverAdapterError` of a Prisma error. */
const driverAdapterError = (err: unknown) =>
  (err as { meta?: { driverAdapterError?: DriverAdapterError } } | null)?.meta?.driverAdapterError;

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
    if (adapterError && (err as { cause?: unknown }).cause === undefined) {
      const { originalCode: code, originalMessage: message, kind } = adapterError.cause ?? {};
      const cause = new Error(String(message ?? kind ?? "driver error"), { cause: adapterError });
      const value = Object.assign(cause, { code: code === undefined ? undefined : String(code) });
      Object.defineProperty(err, "cause", { value, configurable: true, writable: true });
    }
    throw err;
  }
}

/** Prisma's Decimal (DECIMAL columns, SUM on MySQL), which becomes a string, as mysql2 and pg give it. BigInts are core's rule. */
const decimalText = (decimal: unknown): string => (decimal as object).toString();

// An object with Decimal's toFixed() and isFinite(): no Date, Buffer or bigint has them.
const isDecimal = (value: unknown): boolean =>
  typeof value === "object" && hasMethods(value, "toFixed", "isFinite");
