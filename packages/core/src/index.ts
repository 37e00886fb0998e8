/**
 * @persistent-queue/core: a durable job queue that keeps its jobs in the SQL
 * database an application already has.
 *
 * @packageDocumentation
 */

export type { QueueOptions } from "./config.js";
export type { DB, DialectFamily, ExecResult, Row, SqlValue, Unlisten } from "./db.js";
export type {
  Dialect,
  DialectCapabilities,
  DialectDdl,
  DialectIntrospection,
  DialectName,
  DialectStatements,
  SqlHooks,
  TableNames,
} from "./dialects/index.js";
export {
  mariadbDialect,
  mysqlDialect,
  postgresDialect,
  resolveDialect,
  sqliteDialect,
} from "./dialects/index.js";
export { type Duration, parseDuration } from "./duration.js";
export { JobTimeoutError } from "./engine/run-handler.js";
export {
  type AddOptions,
  JobInputError,
  MAX_PARAMS_LENGTH,
  type NewJob,
  PayloadTooLargeError,
} from "./enqueue.js";
export {
  AdapterArgumentError,
  ConfigError,
  DatabaseUnavailableError,
  InvalidIdentifierError,
  MigrationError,
  PersistentQueueError,
  SchemaVersionError,
  TransactionMisuseError,
  UnsupportedError,
} from "./errors.js";
export type { QueueEventMap } from "./events.js";
export { assertIdentifier } from "./identifier.js";
export { type InitJobConfig, init } from "./init.js";
export {
  type AnyJobConfig,
  type Backoff,
  defineJob,
  type Job,
  type JobConfig,
  type JobContext,
  type JobTypeOf,
  type ParamsOf,
} from "./job.js";
export { JobStatus } from "./job-status.js";
export { type ListenOnConnection, listenOnConnection, type NotifyingConnection } from "./listen.js";
export {
  LockNotAcquiredError,
  type LockTimes,
  ShedLock,
  type ShedLockOptions,
} from "./lock/shed-lock.js";
export type { Logger } from "./logger.js";
export { type JobRecord, PersistentQueue, QueueStateError } from "./queue.js";
export { describeSchema } from "./schema/describe.js";
export { type MigrateOptions, type MigrateResult, migrate } from "./schema/migrate.js";
export { LATEST_SCHEMA_VERSION } from "./schema/migrations.js";
export { DEFAULT_TABLES, resolveTableNames } from "./schema/tables.js";
