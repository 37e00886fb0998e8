import { DatabaseUnavailableError, PersistentQueueError } from "@persistent-queue/core";

/**
 * The exit codes of the `persistent-queue` command, for scripts:
 *
 * - `Ok` (0): done.
 * - `Failed` (1): the operation did not succeed: no such job, an action that
 *   did not apply (cancel of a finished job), tables not migrated, a database error.
 * - `Usage` (2): the command line cannot work as given: an unknown command or
 *   flag, a bad value, a bad database URL, a driver that is not installed.
 *   Running it again unchanged fails again.
 * - `Unreachable` (3): the database could not be reached or refused the
 *   connection (not listening, unknown host, timeout, wrong credentials, no
 *   such database, no SQLite file). Worth retrying once the database is back.
 */
export const ExitCode = {
  Ok: 0,
  Failed: 1,
  Usage: 2,
  Unreachable: 3,
} as const;

/** One of the values of {@link ExitCode}. */
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** An error the command reports in one line and exits with `exitCode`; `code` is stable, for `--json` output. */
export class CliError extends Error {
  /** A stable, machine-readable code (`ERR_PQ_CLI_…`). */
  readonly code: string;
  /** The process's exit code for this error. */
  readonly exitCode: ExitCode;

  constructor(code: string, exitCode: ExitCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.exitCode = exitCode;
  }
}

/** The command line cannot work as given (a bad flag value, database URL or missing driver): exit 2. */
export class UsageError extends CliError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("ERR_PQ_CLI_USAGE", ExitCode.Usage, message, options);
  }
}

/** A database driver (or its persistent-queue adapter) that the URL needs is not installed: exit 2. */
export class DriverMissingError extends CliError {
  /** The packages to install, e.g. `["@persistent-queue/pg", "pg"]`. */
  readonly packages: readonly string[];

  /**
   * `or`: another set that would do instead (a `sqlite:` URL on Node 22.13+ also opens
   * through @persistent-queue/node-sqlite and the built-in `node:sqlite`).
   */
  constructor(
    scheme: string,
    packages: readonly string[],
    options?: { cause?: unknown; or?: readonly string[] | undefined },
  ) {
    const or = options?.or;
    super(
      "ERR_PQ_CLI_DRIVER_MISSING",
      ExitCode.Usage,
      `a ${scheme} URL needs ${packages.join(" and ")}, which could not be loaded: install ${packages.length > 1 ? "them" : "it"} next to @persistent-queue/cli (npm install ${packages.join(" ")})${or ? `, or ${or.join(" and ")} (npm install ${or.join(" ")}), which needs no native addon on this Node` : ""}.`,
      { cause: options?.cause },
    );
    this.packages = packages;
  }
}

/**
 * better-sqlite3 is installed but its native addon does not load on this Node (built for
 * another Node, or never built): exit 2, with how to mend it. `nodeSqlite`: this Node has
 * `node:sqlite`, so @persistent-queue/node-sqlite is the other way.
 */
export class DriverBrokenError extends CliError {
  constructor(cause: unknown, nodeSqlite: boolean) {
    // Node's message puts the reason on its second line ("was compiled against a different
    // Node.js version using NODE_MODULE_VERSION …"): one line, cut at 240 characters.
    const text = String((cause as Error | null)?.message ?? cause).replace(/\s+/g, " ");
    const why = text.length > 240 ? `${text.slice(0, 239)}…` : text;
    super(
      "ERR_PQ_CLI_DRIVER_BROKEN",
      ExitCode.Usage,
      `a sqlite: URL needs better-sqlite3, whose native addon does not load on Node ${process.version} (${why}): rebuild it for this Node (npm rebuild better-sqlite3)${nodeSqlite ? ", or install @persistent-queue/node-sqlite (npm install @persistent-queue/node-sqlite), which uses Node's built-in node:sqlite and needs no addon" : ""}.`,
      { cause },
    );
  }
}

/** The database could not be reached or refused the connection: exit 3. */
export class DatabaseUnreachableError extends CliError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("ERR_PQ_CLI_UNREACHABLE", ExitCode.Unreachable, message, options);
  }
}

/**
 * Driver error codes that mean "no connection could be made or kept", as
 * node (network), node-postgres (SQLSTATE class 08, 28 and 3D000) and mysql2
 * report them.
 */
const CONNECTION_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EPIPE",
  "PROTOCOL_CONNECTION_LOST",
  "ER_ACCESS_DENIED_ERROR",
  "ER_DBACCESS_DENIED_ERROR",
  "ER_BAD_DB_ERROR",
  "28000",
  "28P01",
  "3D000",
  "57P03",
  "SQLITE_CANTOPEN",
]);

const codeOf = (e: unknown): unknown =>
  e !== null && typeof e === "object" ? (e as { code?: unknown }).code : undefined;

/** The error, its `cause`s and an AggregateError's members (pg and mysql2 wrap per-address failures). */
function* chain(error: unknown, depth = 0): Generator<unknown> {
  if (depth > 5 || error === null || typeof error !== "object") return;
  yield error;
  if (error instanceof AggregateError) for (const e of error.errors) yield* chain(e, depth + 1);
  yield* chain((error as { cause?: unknown }).cause, depth + 1);
}

/** Whether an error says the database could not be reached (anywhere in its cause chain). */
export function isConnectionError(error: unknown): boolean {
  for (const e of chain(error)) {
    if (e instanceof DatabaseUnavailableError) return true;
    const code = codeOf(e);
    if (typeof code === "string" && CONNECTION_CODES.has(code)) return true;
    // node-postgres: "timeout expired" / "Connection terminated" carry no code.
    if (e instanceof Error && /^Connection terminated|timeout expired/i.test(e.message))
      return true;
  }
  return false;
}

/**
 * Whether an error says a table does not exist: PostgreSQL's 42P01,
 * MySQL/MariaDB's ER_NO_SUCH_TABLE, SQLite's "no such table". With migrated
 * tables this means a table flag names a table the queue does not use.
 */
export function isMissingTableError(error: unknown): boolean {
  for (const e of chain(error)) {
    const code = codeOf(e);
    if (code === "42P01" || code === "ER_NO_SUCH_TABLE") return true;
    if (e instanceof Error && /^no such table:/i.test(e.message)) return true;
  }
  return false;
}

/** One line for an error, without the stack: the message, and the driver's code when it has one. */
export function describeError(error: unknown): string {
  if (error instanceof CliError || error instanceof PersistentQueueError) return error.message;
  const parts: string[] = [];
  for (const e of chain(error)) {
    const message = e instanceof Error ? e.message : String(e);
    const code = codeOf(e);
    const text =
      typeof code === "string" && !message.includes(code) ? `${message} (${code})` : message;
    if (text && !parts.includes(text)) parts.push(text);
  }
  return parts.join(": ") || String(error);
}

/** The exit code for an error thrown by a command. */
export function exitCodeOf(error: unknown): ExitCode {
  if (error instanceof CliError) return error.exitCode;
  if (isConnectionError(error)) return ExitCode.Unreachable;
  return ExitCode.Failed;
}
