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
