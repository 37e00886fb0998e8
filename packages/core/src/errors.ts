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
 * adapter, what it expected and what it got.
 */
export class AdapterArgumentError extends PersistentQueueError {
  /** The adapter function, e.g. `fromPg`. */
  readonly adapter: string;

  constructor(adapter: string, expected: string, got: unknown) {
    super(
      "ERR_PQ_ADAPTER_ARGUMENT",
      `${adapter}: expected ${expected}; got ${describeValue(got)}.`,
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

/** The driver error's code, or its class name: enough to recognise it, nothing secret. */
function causeSummary(cause: unknown): string {
  const o = (cause ?? {}) as { code?: unknown; errno?: unknown; name?: unknown };
  const code = typeof o.code === "string" || typeof o.code === "number" ? String(o.code) : "";
  const name = typeof o.name === "string" ? o.name : "error";
  return code ? `${name} ${code}` : name;
}
