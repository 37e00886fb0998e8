/**
 * @persistent-queue/cli: the `persistent-queue` command, and the pieces it is
 * made of for scripts that want them without a child process.
 *
 * @packageDocumentation
 */

export { type OpenDatabaseOptions, type OpenedDatabase, openDatabase } from "./connect.js";
export { type DatabaseTarget, parseDatabaseUrl, redactUrl } from "./database-url.js";
export {
  CliError,
  DatabaseUnreachableError,
  DriverBrokenError,
  DriverMissingError,
  ExitCode,
  UsageError,
} from "./errors.js";
export type { Colors, Io } from "./output.js";
export { type RunOptions, run } from "./run.js";
