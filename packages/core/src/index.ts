/**
 * @persistent-queue/core: a durable job queue that keeps its jobs in the SQL
 * database an application already has.
 *
 * Adapter authors: the adapter kit and the internals adapters use are on
 * the `@persistent-queue/core/adapter` subpath.
 *
 * @packageDocumentation
 */

export type { QueueOptions } from "./config.js";
export type { DB, DialectFamily, ExecResult, Row, SqlValue, Unlisten } from "./db.js";
export type {
  ClaimLocking,
  Dialect,
  DialectCapabilities,
  DialectName,
  DialectOptions,
  OnConflict,
  TableNames,
} from "./dialects/index.js";
export { claimLockingFor, withClaimLocking } from "./dialects/index.js";
export { type Duration, parseDuration } from "./duration.js";
export { JobCancelledError } from "./engine/cancelled.js";
export { JobOutputError, type JobOutputField } from "./engine/job-output.js";
export { JobTimeoutError } from "./engine/run-handler.js";
export {
  type AddOptions,
  JobInputError,
  type JobOptions,
  MAX_PARAMS_LENGTH,
  MAX_UNIQUE_KEY_LENGTH,
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
  UniqueKeyContentionError,
  UnsupportedError,
} from "./errors.js";
export type { JobOf, QueueEventMap } from "./events.js";
export { type InitJobConfig, init } from "./init.js";
export {
  type AnyJob,
  type AnyJobConfig,
  type AnyJobDefinition,
  type AnyJobSpec,
  type Backoff,
  type DefineWithParams,
  type DefinitionInput,
  defineJob,
  type HandlerOutput,
  type HandlerResult,
  type Job,
  type JobConfig,
  type JobContext,
  type JobDefinition,
  type JobHandler,
  type JobNameOf,
  type JobRef,
  type JobSpec,
  type JobTypeOf,
  type ParamsOf,
  type RateLimit,
  type ResultOf,
  type SpecResult,
  type WorkerOptions,
} from "./job.js";
export {
  DEFAULT_LIST_LIMIT,
  type JobAction,
  JobActionError,
  JobNotFoundError,
  type JobPage,
  JobRunningError,
  type ListJobsOptions,
  MAX_LIST_LIMIT,
} from "./job-actions.js";
export type { JobRecord } from "./job-record.js";
export { JOB_STATUS_NAMES, JOB_STATUS_ORDER, JobStatus } from "./job-status.js";
export {
  LockNotAcquiredError,
  type LockTimes,
  ShedLock,
  type ShedLockOptions,
} from "./lock/shed-lock.js";
export type { Logger } from "./logger.js";
export {
  type FinishedBucket,
  type FinishedJobsOptions,
  finishedJobs,
  type LockInfo,
  listLocks,
  type OldestWaiting,
  type OverviewOptions,
  oldestWaiting,
} from "./overview.js";
export { PersistentQueue, QueueStateError } from "./queue.js";
export {
  type BackOffScope,
  RateLimitedError,
  type RateLimitedOptions,
} from "./rate-limited.js";
export {
  type PrunableStatus,
  PruneInputError,
  type PruneOptions,
  type RetentionOptions,
} from "./retention.js";
export {
  type Schedule,
  ScheduleError,
  type ScheduleFields,
  type ScheduleInfo,
} from "./schedules/schedule-spec.js";
export { type MigrateOptions, type MigrateResult, migrate } from "./schema/migrate.js";
export { LATEST_SCHEMA_VERSION } from "./schema/migrations.js";
export { type CountJobsOptions, countJobs, type JobCount } from "./stats.js";
export {
  PROMETHEUS_CONTENT_TYPE,
  type PrometheusOptions,
  prometheusMetrics,
  type QueueWithMetrics,
} from "./telemetry/prometheus.js";
export {
  INSTRUMENTATION_NAME,
  MESSAGING_SYSTEM,
  type TelemetryOptions,
} from "./telemetry/telemetry.js";
export {
  type FinalStatus,
  type JobOutcome,
  type WaitForOptions,
  WaitTimeoutError,
} from "./wait-for.js";
