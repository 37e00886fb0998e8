import { type AnyJob, type DB, PersistentQueue, type TableNames } from "@persistent-queue/core";
import { openDatabase } from "./connect.js";
import { parseDatabaseUrl, redactUrl } from "./database-url.js";
import {
  CliError,
  DatabaseUnreachableError,
  describeError,
  ExitCode,
  isConnectionError,
  isMissingTableError,
  UsageError,
} from "./errors.js";
import type { Io } from "./output.js";

/** The options every command takes (the program's global options). */
export interface GlobalOptions {
  readonly db?: string;
  readonly jobsTable?: string;
  readonly schedulesTable?: string;
  readonly locksTable?: string;
  readonly jobTypesTable?: string;
  readonly migrationsTable?: string;
  readonly color?: boolean;
}

/** What a command runs with: output, environment, and its way to the database. */
export interface Context {
  readonly io: Io;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
}

/** The `tables` option from the global flags (defaults: the seed's names). */
export function tablesOf(options: GlobalOptions): Partial<TableNames> {
  return {
    ...(options.jobsTable !== undefined && { jobs: options.jobsTable }),
    ...(options.schedulesTable !== undefined && { schedules: options.schedulesTable }),
    ...(options.locksTable !== undefined && { locks: options.locksTable }),
    ...(options.jobTypesTable !== undefined && { jobTypes: options.jobTypesTable }),
    ...(options.migrationsTable !== undefined && { migrations: options.migrationsTable }),
  };
}

/** The queue and DB a command works through. */
export interface Session {
  readonly queue: PersistentQueue;
  readonly db: DB;
  readonly tables: Partial<TableNames>;
}

/**
 * Opens the database named by `--db` (else `PQ_DATABASE_URL`), runs `fn` with
 * a queue on it, then stops the queue and closes the database. The queue lists
 * no job types and is never started, so it runs no worker, cleaner or
 * schedule loop: every call is one the caller makes. A connection failure is
 * reported as a {@link DatabaseUnreachableError} naming the (redacted) URL.
 */
export async function withQueue<T>(
  ctx: Context,
  options: GlobalOptions,
  fn: (session: Session) => Promise<T>,
  { createSqliteFile = false }: { createSqliteFile?: boolean } = {},
): Promise<T> {
  const url = options.db ?? ctx.env.PQ_DATABASE_URL;
  if (url === undefined || url.trim() === "")
    throw new UsageError(
      "no database given: pass --db URL or set PQ_DATABASE_URL (mysql://, mariadb://, postgres://, postgresql:// or sqlite:PATH).",
    );
  const target = parseDatabaseUrl(url.trim(), ctx.cwd);
  const tables = tablesOf(options);
  const opened = await openDatabase(target, { createSqliteFile });
  // No job types: the queue runs nothing; job types are named by their integers.
  const queue: PersistentQueue = new PersistentQueue<readonly AnyJob[]>({
    db: opened.db,
    serviceName: "persistent-queue-cli",
    jobs: [],
    tables,
  });
  try {
    return await fn({ queue, db: opened.db, tables });
  } catch (error) {
    if (!(error instanceof CliError) && isConnectionError(error)) {
      const where = target.kind === "sqlite" ? target.path : redactUrl(url.trim());
      throw new DatabaseUnreachableError(
        `cannot reach the database at ${where}: ${reason(error)}. Check that it is running and accepts connections, and that --db or PQ_DATABASE_URL is right.`,
        { cause: error },
      );
    }
    if (!(error instanceof CliError) && isMissingTableError(error))
      throw new CliError(
        "ERR_PQ_CLI_NO_SUCH_TABLE",
        ExitCode.Failed,
        `${describeError(error)}. The table flags (--jobs-table, --job-types-table, --schedules-table, --locks-table, --migrations-table) must name the tables your queue's tables option names, and \`persistent-queue migrate\` must have run with them.`,
        { cause: error },
      );
    throw error;
  } finally {
    await queue.stop({ timeoutMs: 5000 }); // lets a NOTIFY sent by cancel() go out first
    await opened.close();
  }
}

/** The innermost driver message of a connection failure ("connect ECONNREFUSED 127.0.0.1:1"). */
function reason(error: unknown): string {
  let e: unknown = error;
  let last = error instanceof Error ? error.message : String(error);
  for (let i = 0; i < 5 && e instanceof Error; i++) {
    if (e instanceof AggregateError && e.errors[0] instanceof Error) e = e.errors[0];
    else e = e.cause;
    if (e instanceof Error && e.message) last = e.message;
  }
  return last;
}
