/**
 * Typed errors. Every error the library throws on purpose is a
 * {@link PersistentQueueError} with a stable `code`, and its message says what
 * to change.
 */

/** The base class of every error thrown on purpose by persistent-queue. */
export class PersistentQueueError extends Error {
  /** A stable, machine-readable code. */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A configuration value is missing or out of range; `field` names it. */
export class ConfigError extends PersistentQueueError {
  readonly field: string;

  constructor(field: string, message: string) {
    super("ERR_PQ_CONFIG", `${field}: ${message}`);
    this.field = field;
  }
}

/** A table or other name is not a plain SQL identifier. */
export class InvalidIdentifierError extends PersistentQueueError {
  constructor(what: string, value: unknown) {
    super(
      "ERR_PQ_IDENTIFIER",
      `${what} must be a plain SQL identifier: 1-63 characters, a letter or underscore first, ` +
        `then letters, digits or underscores (got ${JSON.stringify(String(value)).slice(0, 80)}).`,
    );
  }
}

/** An adapter lacks a capability the call needs. */
export class UnsupportedError extends PersistentQueueError {
  constructor(message: string) {
    super("ERR_PQ_UNSUPPORTED", message);
  }
}

/** A schema migration could not be applied. */
export class MigrationError extends PersistentQueueError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("ERR_PQ_MIGRATION", message, options);
  }
}

/**
 * An adapter was given something that is not the connection it adapts
 * (undefined, another driver's pool, a closed client). The message names the
 * adapter, what it expected and what it got, then a hint: `hint` when given,
 * else what {@link recogniseConnection} makes of `got` (another driver's pool,
 * a Promise, a connection string). Never the value's contents.
 */
export class AdapterArgumentError extends PersistentQueueError {
  /** The adapter function, e.g. `fromPg`. */
  readonly adapter: string;

  constructor(adapter: string, expected: string, got: unknown, hint?: string) {
    const why = hint ?? recogniseConnection(got);
    super(
      "ERR_PQ_ADAPTER_ARGUMENT",
      `${adapter}: expected ${expected}; got ${describeValue(got)}.${why ? ` ${why}` : ""}`,
    );
    this.adapter = adapter;
  }
}

/**
 * A transaction was used in a way the driver cannot honour (an async function
 * given to a synchronous transaction, a nested transaction, a finished one).
 */
export class TransactionMisuseError extends PersistentQueueError {
  constructor(message: string) {
    super("ERR_PQ_TRANSACTION", message);
  }
}

/**
 * The queue's tables are missing or older than this build needs: run
 * `queue.migrate()` (or `persistent-queue migrate`) once, then call again.
 */
export class SchemaVersionError extends PersistentQueueError {
  /** The schema version found (0: no tables), and the one this build needs. */
  readonly found: number;
  readonly required: number;

  constructor(table: string, found: number, required: number, options?: { cause?: unknown }) {
    super(
      "ERR_PQ_SCHEMA_VERSION",
      found === 0
        ? `the job table ${table} has not been migrated by persistent-queue (schema version ${required} needed): call queue.migrate() once before add(), start() or getJob().`
        : `the job table ${table} is at schema version ${found}; this build needs ${required}: call queue.migrate() once to upgrade it.`,
      options,
    );
    this.found = found;
    this.required = required;
  }
}

/**
 * A step of `start()` (or another setup call) could not reach the database.
 * `step` says which; `cause` is the driver's error.
 */
export class DatabaseUnavailableError extends PersistentQueueError {
  readonly step: string;

  constructor(step: string, options: { cause: unknown }) {
    super(
      "ERR_PQ_DATABASE_UNAVAILABLE",
      `${step} failed: the database did not answer (${causeSummary(options.cause)}). Check that it is running and reachable, then call again.`,
      options,
    );
    this.step = step;
  }
}

/**
 * An enqueue with a unique key found, several times in a row, an unfinished
 * job holding the key that then finished before it could be read back: the key
 * is under heavy churn. Nothing was inserted; adding again is safe.
 */
export class UniqueKeyContentionError extends PersistentQueueError {
  constructor(jobType: number, uniqueKey: string, tries: number) {
    super(
      "ERR_PQ_UNIQUE_CONTENTION",
      `uniqueKey ${JSON.stringify(uniqueKey.slice(0, 80))} of job type ${jobType}: the job holding it finished during each of ${tries} tries to enqueue; nothing was inserted, add it again.`,
    );
  }
}

/** A short, safe description of an unexpected value: its type or class, never its contents. */
export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  if (typeof value === "object") {
    const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
    return typeof name === "string" && name !== "Object" ? `a ${name}` : "an object";
  }
  return `a ${typeof value}`;
}

/**
 * What a wrong adapter argument most likely is, as one sentence saying what to
 * do instead; undefined when nothing is recognised. Recognised by shape only
 * (core imports no driver), and named by fixed text, never by the value's
 * contents: a driver's config holds passwords.
 */
export function recogniseConnection(value: unknown): string | undefined {
  if (typeof value === "string") {
    return "A connection string is not a connection: pass the pool or client your driver made from it.";
  }
  if (value === null || (typeof value !== "object" && typeof value !== "function"))
    return undefined;
  try {
    const o = value as Record<string | symbol, unknown>;
    const fn = (...names: string[]) => names.every((n) => typeof o[n] === "function");
    const use = (what: string, adapter: string, pkg: string) =>
      `It looks like ${what}: ${adapter} from @persistent-queue/${pkg} adapts it.`;
    if (fn("then")) return "It is a Promise: await it first.";
    if (fn("$queryRawUnsafe")) return use("a Prisma client", "fromPrisma", "prisma");
    if (fn("unsafe", "typed")) return use("a postgres.js Sql", "fromPostgresJs", "postgres");
    if (fn("query", "transaction", "listen", "dumpDataDir"))
      return use("a PGlite database", "fromPGlite", "pglite");
    const ctor = o.constructor as unknown as Record<symbol, unknown> | undefined;
    if (typeof ctor?.[Symbol.for("drizzle:entityKind")] === "string") {
      return use("a Drizzle object", "fromDrizzle", "drizzle");
    }
    if (fn("getDialect") && typeof o.connectionManager === "object") {
      return use("a Sequelize instance", "fromSequelize", "sequelize");
    }
    if (fn("createQueryRunner")) return use("a TypeORM DataSource", "fromTypeORM", "typeorm");
    if (fn("query", "batch")) {
      return "It looks like a mariadb connector pool or connection: no adapter takes it; fromMysql2 from @persistent-queue/mysql2 takes a mysql2/promise pool.";
    }
    if (fn("query", "execute", "promise")) {
      return "It looks like a callback-style mysql2 pool or connection: pass its .promise(), or create it with mysql2/promise.";
    }
    if (fn("query", "execute") && (fn("getConnection") || fn("beginTransaction"))) {
      return use("a mysql2 pool or connection", "fromMysql2", "mysql2");
    }
    if (fn("query", "connect") && typeof o.totalCount === "number") {
      return use("a node-postgres Pool", "fromPg", "pg");
    }
    if (fn("query", "connect", "escapeIdentifier"))
      return use("a node-postgres Client", "fromPg", "pg");
    if (fn("prepare", "pragma"))
      return use("a better-sqlite3 Database", "fromBetterSqlite3", "better-sqlite3");
    if (fn("run", "all", "configure")) {
      return "It looks like a sqlite3 Database: use better-sqlite3 with fromBetterSqlite3, or Sequelize's sqlite dialect.";
    }
    if (
      fn("prepare", "exec") &&
      (o.constructor as { name?: unknown } | undefined)?.name === "DatabaseSync"
    )
      return use("a node:sqlite DatabaseSync", "fromNodeSqlite", "node-sqlite");
  } catch {
    // A getter or proxy that throws: nothing recognised.
  }
  return undefined;
}

/** The driver error's code, or its class name: enough to recognise it, nothing secret. */
function causeSummary(cause: unknown): string {
  const o = (cause ?? {}) as { code?: unknown; errno?: unknown; name?: unknown };
  const code = typeof o.code === "string" || typeof o.code === "number" ? String(o.code) : "";
  const name = typeof o.name === "string" ? o.name : "error";
  return code ? `${name} ${code}` : name;
}
