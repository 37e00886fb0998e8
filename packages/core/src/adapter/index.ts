/**
 * @persistent-queue/core/adapter: the kit adapter packages are built on, and
 * the internals that adapters, ORM schema helpers and the conformance suite
 * use. Applications need only the main entry.
 *
 * - {@link defineDb}: a `DB` from one statement runner, with the shared value
 *   rules ({@link normaliseValue}: bigints that fit a safe integer become
 *   numbers, larger ones stay bigint), insert ids and binding.
 * - {@link sqliteGate}: one asynchronous transaction at a time on a shared SQLite connection.
 * - {@link syncSqliteDb}: a `DB` on a synchronous SQLite driver (better-sqlite3, `node:sqlite`)
 *   from a few hooks: pragmas, statement cache, sync calls, transactions through the gate.
 * - {@link runTransaction}, {@link listenOnConnection}: BEGIN/COMMIT/ROLLBACK and LISTEN on one connection.
 * - By-shape checks, and {@link expectArgument}: an argument check that throws `AdapterArgumentError` with a hint.
 *
 * @packageDocumentation
 */

export type { ColumnTypes } from "../dialects/dialect.js";
export {
  type DialectDdl,
  type DialectIntrospection,
  type DialectStatements,
  mariadbDialect,
  mysqlDialect,
  postgresDialect,
  resolveDialect,
  type SqlHooks,
  sqliteDialect,
} from "../dialects/index.js";
export type { MysqlVariant } from "../dialects/mysql/version.js";
// The types the dialect interfaces above take and return, for dialect authors.
export type {
  ClaimLimits,
  ClaimParams,
  Completion,
  FlowTables,
  JobLease,
  JobOperations,
  RateWindow,
  StaleCutoff,
  SucceededRun,
  SucceededWrite,
} from "../dialects/operations.js";
export type { SqlFragment, SqlPart } from "../dialects/sql.js";
export { describeValue, recogniseConnection } from "../errors.js";
export { assertIdentifier } from "../identifier.js";
export { describeSchema } from "../schema/describe.js";
export { DEFAULT_TABLES, resolveTableNames } from "../schema/tables.js";
export type { NewJobRow } from "../statements/jobs.js";
export { withConnection } from "./connection.js";
export {
  type DbParts,
  defineDb,
  type Outcome,
  type RunStatement,
  runTransaction,
  type TransactionSteps,
} from "./define-db.js";
export { type KyselyExecutor, type KyselyQueryResult, runOnKysely } from "./kysely-query.js";
export { type ListenOnConnection, listenOnConnection, type NotifyingConnection } from "./listen.js";
export { mysqlOutcome } from "./mysql-result.js";
export { expectArgument, hasMethods, membersOf } from "./shape.js";
export { retryWhileBusy } from "./sqlite-busy.js";
export { SqliteGate, sqliteGate } from "./sqlite-gate.js";
export {
  type SyncSqliteDriver,
  type SyncSqliteOptions,
  type SyncSqliteSettings,
  syncSqliteDb,
} from "./sync-sqlite.js";
export {
  type BindOptions,
  bigintAsNumberOrText,
  bindParams,
  insertIdOf,
  isInsert,
  normaliseRows,
  normaliseValue,
  replaceCells,
  sqliteTime,
} from "./values.js";
