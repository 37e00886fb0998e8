import {
  ConfigError,
  InvalidIdentifierError,
  JobInputError,
  PruneInputError,
  SchemaVersionError,
} from "@persistent-queue/core";
import { Command, CommanderError } from "commander";
import type { Context } from "./context.js";
import { describeError, ExitCode, exitCodeOf } from "./errors.js";
import { addJobsCommands } from "./jobs-commands.js";
import { type Io, processIo } from "./output.js";
import { addQueueCommands } from "./queue-commands.js";
import { addTypesCommands } from "./types-commands.js";

declare const __PQ_CLI_VERSION__: string;
/** This package's version (set at build time). */
const VERSION = typeof __PQ_CLI_VERSION__ === "string" ? __PQ_CLI_VERSION__ : "0.0.0-dev";

/** Options of {@link run}; every member defaults to the process's. */
export interface RunOptions {
  /** Environment variables (`PQ_DATABASE_URL`, `NO_COLOR`, `FORCE_COLOR`). */
  readonly env?: NodeJS.ProcessEnv;
  /** Where output goes; default stdout and stderr, coloured where they are terminals. */
  readonly io?: Io;
  /** The directory a relative `sqlite:PATH` is read from. */
  readonly cwd?: string;
}

/** Core's errors that mean a value given on the command line is not valid: exit 2. */
const isInputError = (error: unknown) =>
  error instanceof JobInputError ||
  error instanceof PruneInputError ||
  error instanceof ConfigError ||
  error instanceof InvalidIdentifierError;

/**
 * Runs the `persistent-queue` command with `argv` (the arguments after the
 * command's name) and resolves its exit code ({@link ExitCode}); never
 * rejects, and never calls `process.exit`. Errors are written to `io.err` as
 * one line that says what to change.
 */
export async function run(argv: readonly string[], options: RunOptions = {}): Promise<ExitCode> {
  const env = options.env ?? process.env;
  const noColor = argv.includes("--no-color");
  const io = options.io ?? processIo(noColor);
  const ctx: Context = { io, env, cwd: options.cwd ?? process.cwd() };
  let exitCode: ExitCode = ExitCode.Ok;
  const program = new Command("persistent-queue")
    .description(
      "Operate a persistent-queue job table: migrate it, count, list and act on jobs, pause and resume job types, prune, list schedules.",
    )
    .version(VERSION, "-V, --version", "print the version")
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.out(s),
      writeErr: (s) => io.err(s),
      outputError: (s, write) => write(io.errColor.red(s)),
    })
    .showSuggestionAfterError()
    .option("--db <url>", "the database URL (default: $PQ_DATABASE_URL)")
    .option("--jobs-table <name>", "the job table (default async_job_tab)")
    .option("--schedules-table <name>", "the schedules table (default pq_schedules)")
    .option("--locks-table <name>", "the ShedLock table (default shedlock_tab)")
    .option("--job-types-table <name>", "the job types (pause state) table (default pq_job_types)")
    .option("--migrations-table <name>", "the schema versions table (default pq_migrations)")
    .option("--no-color", "no colours (also: NO_COLOR=1, or output that is not a terminal)")
    .addHelpText(
      "after",
      `
Databases: mysql://user:pass@host:3306/db, mariadb://…, postgres://user:pass@host:5432/db,
postgresql://…, sqlite:path/to/file.sqlite. Install the driver and adapter the URL needs
(mysql2 + @persistent-queue/mysql2, pg + @persistent-queue/pg, better-sqlite3 +
@persistent-queue/better-sqlite3, or on Node 22.13+ @persistent-queue/node-sqlite alone;
PQ_SQLITE_DRIVER=node:sqlite|better-sqlite3 picks one).

Exit codes: 0 ok; 1 the operation failed (no such job, an action that did not apply,
tables not migrated); 2 usage (bad flag or value, bad URL, driver not installed);
3 the database could not be reached.`,
    );
  addQueueCommands(program, ctx);
  addJobsCommands(program, ctx, (code) => {
    exitCode = code;
  });
  addTypesCommands(program, ctx);
  try {
    await program.parseAsync([...argv], { from: "user" });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and --version exit 0; the message of a usage error was already written.
      return error.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
    }
    const hint =
      error instanceof SchemaVersionError
        ? " From the command line: persistent-queue migrate (with the same --db)."
        : "";
    io.err(io.errColor.red(`error: ${describeError(error)}${hint}\n`));
    return isInputError(error) ? ExitCode.Usage : exitCodeOf(error);
  }
}
