import type { DB } from "./db.js";
import type { ClaimLimits, RateWindow, TableNames } from "./dialects/dialect.js";
import { type Duration, parseDuration } from "./duration.js";
import { ConfigError } from "./errors.js";
import type { AnyJob, AnyJobConfig, AnyJobSpec, JobConfig } from "./job.js";
import type { Logger } from "./logger.js";
import { type RetentionOptions, resolveRetention } from "./retention.js";
import { type BackoffFn, makeBackoff } from "./retry.js";
import type { Schedule } from "./schedules/schedule-spec.js";
import type { TelemetryOptions } from "./telemetry/telemetry.js";

/** Options of a {@link PersistentQueue}. */
export interface QueueOptions<J extends readonly AnyJob[]> {
  /** The database, from one of the `@persistent-queue/*` adapters (`fromMysql2`, `fromPg`, …). */
  readonly db: DB;
  /** Names this service in logs and in `worker_id` / `locked_by`. */
  readonly serviceName: string;
  /**
   * The job types this queue knows: configs with a handler (from `defineJob({ …, handleJob })`
   * or `definition.handle(fn)`) run here; bare definitions (`defineJob<P>()({ jobType, name })`)
   * are only enqueued, typed and validated by `add()`. Empty for a producer that wants no checks.
   */
  readonly jobs: J;
  /** info/warn/error(/debug): console and pino fit. Default: silent. */
  readonly logger?: Logger;
  /** Table names. Default: the seed's `async_job_tab` and `shedlock_tab`, and `pq_migrations`. */
  readonly tables?: Partial<TableNames>;
  /** Ceiling of adaptive polling for jobs inserted by other processes. Default "500ms". */
  readonly pollInterval?: Duration;
  /** Use PostgreSQL LISTEN/NOTIFY for cross-process wake-ups where the adapter can. Default true. */
  readonly notify?: boolean;
  /** Randomness for backoff jitter. Default Math.random. */
  readonly random?: () => number;
  /**
   * How long finished jobs stay in the table, e.g. `{ success: "7d", failed: "30d" }`;
   * a status left out is kept forever (the default, as the seed does). While the
   * queue runs, one queue in the cluster at a time deletes older ones every
   * `interval` (default "1m"), in batches of at most 1000 rows.
   */
  readonly retention?: RetentionOptions;
  /**
   * Cron schedules, written to the schedules table at start() (source "config").
   * When given, start() also removes the config schedules of this job table it
   * no longer lists (even with `[]`); when left out, start() leaves them alone.
   * See `queue.schedule()` and docs/schedules.md.
   */
  readonly schedules?: readonly Schedule<J>[];
  /**
   * OpenTelemetry spans and metrics (docs/observability.md). By default the queue
   * uses the global tracer and meter providers when `@opentelemetry/api` is
   * installed, and does nothing otherwise; give providers to use others, or
   * `false` to make no spans or OpenTelemetry metrics at all.
   */
  readonly telemetry?: TelemetryOptions | false;
}

/** What the queue knows of a job type it may only enqueue: its integer, name and schema. */
export interface ResolvedJobSpec {
  readonly jobType: number;
  readonly name: string;
  readonly schema: JobConfig["schema"];
}

/** A job type's config with every default filled in and every value checked. */
export interface ResolvedJobConfig extends ResolvedJobSpec {
  readonly handleJob: JobConfig["handleJob"];
  readonly needRetry: boolean;
  readonly maxRetries: number;
  readonly waitMs: number;
  readonly backoff: BackoffFn;
  readonly capacity: number;
  readonly firstPullDay: number;
  readonly queueMaxSize: number;
  readonly loadLimit: number;
  /**
   * Jobs claimed ahead of free slots: jobs waiting, running or writing an outcome
   * other than success never exceed min(capacity + prefetch, queueMaxSize);
   * successes being written add at most one capacity + prefetch more.
   */
  readonly prefetch: number;
  /**
   * No explicit `prefetch`: claims run ahead of the free slots by what the
   * handlers finish within about 10 ms, from their recent run times (see the
   * claimer's SHORT_WAIT_MS): for a limited type none for slow jobs and at most a
   * capacity, for an unlimited one at least a capacity (`prefetch`) and at most
   * the claimer's MAX_SHORT_PREFETCH.
   */
  readonly prefetchShortJobs: boolean;
  readonly timeoutMs: number | undefined;
  readonly leaseMs: number;
  /** Lease expiries after which a job is failed instead of run again (a poison job). */
  readonly attemptLimit: number;
  /** Largest result a handler may return, in UTF-8 bytes of JSON. */
  readonly maxResultBytes: number;
  /** Largest value `ctx.progress()` takes, in UTF-8 bytes of JSON. */
  readonly maxProgressBytes: number;
  /** Least time between two progress writes of one job. */
  readonly progressMs: number;
  /** Cluster-wide limits (`globalConcurrency`, `groupConcurrency`); undefined: none. */
  readonly limits: ClaimLimits | undefined;
}

/** Default {@link WorkerOptions.maxResultBytes}: 64 KiB of JSON. */
export const DEFAULT_MAX_RESULT_BYTES = 65_536;
/** Default {@link WorkerOptions.maxProgressBytes}: 4 KiB of JSON. */
export const DEFAULT_MAX_PROGRESS_BYTES = 4096;
/**
 * The most a result or progress value may ever be: MySQL's MEDIUMTEXT holds
 * 16 MiB − 1 bytes (the server's max_allowed_packet must also let it through).
 */
const MAX_OUTPUT_BYTES = 16_777_215;

const MAX_INT32 = 2_147_483_647;

function integer(
  field: string,
  value: unknown,
  fallback: number,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(
      field,
      `must be an integer from ${min} to ${max} (got ${typeof value === "number" ? value : typeof value}).`,
    );
  }
  return value;
}

/** Checks the parts every job type has (integer, name, schema); `at` names the field in errors. */
export function resolveJobSpec(config: AnyJobSpec, at: string): ResolvedJobSpec {
  if (config === null || typeof config !== "object")
    throw new ConfigError(at, "must be a job config object.");
  const jobType = config.jobType;
  if (
    typeof jobType !== "number" ||
    !Number.isInteger(jobType) ||
    jobType < -MAX_INT32 - 1 ||
    jobType > MAX_INT32
  ) {
    throw new ConfigError(`${at}.jobType`, "must be an integer that fits the job_type INT column.");
  }
  const name = config.name;
  if (name !== undefined && (typeof name !== "string" || !NAME.test(name))) {
    throw new ConfigError(
      `${at}.name`,
      "must be 1-64 characters of letters, digits, '_', '-', '.', ':' or '/'.",
    );
  }
  if (config.schema !== undefined && typeof config.schema?.["~standard"]?.validate !== "function") {
    throw new ConfigError(
      `${at}.schema`,
      "must be a Standard Schema validator (zod, valibot, arktype, …).",
    );
  }
  return { jobType, name: name ?? `job-${jobType}`, schema: config.schema };
}

const NAME = /^[\w.:/-]{1,64}$/;

/** A definition from `defineJob()` without a handler: enqueued by this queue, run elsewhere. */
function isBareDefinition(config: AnyJobSpec): boolean {
  const c = config as { handleJob?: unknown; handle?: unknown };
  return c.handleJob === undefined && typeof c.handle === "function";
}

/** Checks one job type's config and fills in the seed's defaults. */
export function resolveJobConfig(
  config: AnyJobConfig,
  at: string,
  random: () => number,
): ResolvedJobConfig {
  const { jobType, name, schema } = resolveJobSpec(config, at);
  if (typeof config.handleJob !== "function") {
    throw new ConfigError(
      `${at}.handleJob`,
      "must be a function (job, ctx) => JobStatus | void. For a job type this queue only enqueues, list its defineJob() definition (no handler) instead.",
    );
  }
  if (config.needRetry !== undefined && typeof config.needRetry !== "boolean") {
    throw new ConfigError(`${at}.needRetry`, "must be true or false.");
  }
  const waitMs = parseDuration(`${at}.waitTime`, config.waitTime ?? 60_000);
  const leaseMs = parseDuration(`${at}.leaseTime`, config.leaseTime ?? 30_000, {
    allowZero: false,
  });
  if (leaseMs < 200)
    throw new ConfigError(
      `${at}.leaseTime`,
      "must be at least 200ms: heartbeats renew it every third of it.",
    );
  const timeoutMs =
    config.timeout === undefined
      ? undefined
      : parseDuration(`${at}.timeout`, config.timeout, { allowZero: false });
  const maxRetries = integer(`${at}.maxRetries`, config.maxRetries, 3, 0, 1_000_000);
  const needRetry = config.needRetry ?? false;
  let maxBackoffMs = 3_600_000;
  const backoff = config.backoff;
  if (backoff !== undefined && typeof backoff !== "function") {
    if (
      backoff === null ||
      typeof backoff !== "object" ||
      (backoff.type !== "fixed" && backoff.type !== "exponential")
    ) {
      throw new ConfigError(
        `${at}.backoff`,
        'must be { type: "fixed" }, { type: "exponential", max?, jitter? } or a function (attempt, error) => ms.',
      );
    }
    if (backoff.type === "exponential" && backoff.max !== undefined)
      maxBackoffMs = parseDuration(`${at}.backoff.max`, backoff.max);
  }
  integer(`${at}.workerExpirySecond`, config.workerExpirySecond, 60, 0);
  const firstPullDay = config.firstPullDay ?? 7;
  if (
    typeof firstPullDay !== "number" ||
    !Number.isFinite(firstPullDay) ||
    (firstPullDay < 0 && firstPullDay !== -1)
  ) {
    throw new ConfigError(
      `${at}.firstPullDay`,
      "must be a number of days ≥ 0, or -1 to pull no jobs created before start-up.",
    );
  }
  const capacity = integer(`${at}.workerPoolCapacity`, config.workerPoolCapacity, 100, 1, 100_000);
  const limits = resolveLimits(config, at);
  return {
    jobType,
    name,
    handleJob: config.handleJob,
    needRetry,
    maxRetries,
    waitMs,
    backoff: makeBackoff(backoff, waitMs, maxBackoffMs, random),
    capacity,
    prefetch: integer(`${at}.prefetch`, config.prefetch, limits ? 0 : capacity, 0, 100_000),
    prefetchShortJobs: config.prefetch === undefined,
    firstPullDay,
    queueMaxSize: integer(`${at}.queueMaxSize`, config.queueMaxSize, 50_000, 1),
    loadLimit: integer(`${at}.loadLimit`, config.loadLimit, 10_000, 1, 100_000),
    timeoutMs,
    leaseMs,
    schema,
    attemptLimit: Math.max(needRetry ? maxRetries + 1 : 1, 3),
    maxResultBytes: integer(
      `${at}.maxResultBytes`,
      config.maxResultBytes,
      DEFAULT_MAX_RESULT_BYTES,
      2,
      MAX_OUTPUT_BYTES,
    ),
    maxProgressBytes: integer(
      `${at}.maxProgressBytes`,
      config.maxProgressBytes,
      DEFAULT_MAX_PROGRESS_BYTES,
      1,
      MAX_OUTPUT_BYTES,
    ),
    progressMs: parseDuration(`${at}.progressInterval`, config.progressInterval ?? 1000),
    limits,
  };
}

/** `globalConcurrency`, `groupConcurrency`, `rateLimit` and `groupRateLimit`, checked; undefined when none is set. */
function resolveLimits(config: AnyJobConfig, at: string): ClaimLimits | undefined {
  const limit = (field: "globalConcurrency" | "groupConcurrency") => {
    const value: unknown = config[field];
    if (value === undefined) return undefined;
    if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > 100_000) {
      throw new ConfigError(
        `${at}.${field}`,
        `must be a whole number of jobs from 1 to 100000 (got ${typeof value === "number" ? value : typeof value}); leave it out for no limit.`,
      );
    }
    return value;
  };
  const rate = (field: "rateLimit" | "groupRateLimit"): RateWindow | undefined => {
    const value: unknown = config[field];
    if (value === undefined) return undefined;
    const r = value as { max?: unknown; per?: unknown };
    if (value === null || typeof value !== "object" || r.per === undefined)
      throw new ConfigError(
        `${at}.${field}`,
        'must be { max, per }, e.g. { max: 100, per: "1m" }.',
      );
    if (typeof r.max !== "number" || !Number.isInteger(r.max) || r.max < 1 || r.max > 1_000_000)
      throw new ConfigError(
        `${at}.${field}.max`,
        `must be a whole number of starts from 1 to 1000000 (got ${typeof r.max === "number" ? r.max : typeof r.max}).`,
      );
    const perMs = parseDuration(`${at}.${field}.per`, r.per, { allowZero: false });
    if (perMs > 31 * 86_400_000)
      throw new ConfigError(`${at}.${field}.per`, "must be at most 31 days.");
    return { max: r.max, perMs };
  };
  const limits: ClaimLimits = {
    global: limit("globalConcurrency"),
    group: limit("groupConcurrency"),
    rate: rate("rateLimit"),
    groupRate: rate("groupRateLimit"),
  };
  return Object.values(limits).some((v) => v !== undefined) ? limits : undefined;
}

/** Checks the queue's options; throws {@link ConfigError} naming the first bad field. */
export function resolveQueueOptions<J extends readonly AnyJob[]>(options: QueueOptions<J>) {
  if (options === null || typeof options !== "object")
    throw new ConfigError("options", "must be an object.");
  const db = options.db;
  if (!db || typeof db.exec !== "function" || typeof db.query !== "function") {
    throw new ConfigError(
      "db",
      "must be a DB from one of the @persistent-queue adapters (fromMysql2, fromPg, fromBetterSqlite3, …).",
    );
  }
  const serviceName = options.serviceName;
  if (typeof serviceName !== "string" || !/^[\w.:-]{1,64}$/.test(serviceName)) {
    throw new ConfigError(
      "serviceName",
      "must be 1-64 characters of letters, digits, '_', '-', '.' or ':'.",
    );
  }
  if (!Array.isArray(options.jobs))
    throw new ConfigError(
      "jobs",
      "must be an array of job configs (it may be empty for a producer-only queue).",
    );
  const random = options.random ?? Math.random;
  /** Job types with a handler: this queue runs them. */
  const jobs = new Map<number, ResolvedJobConfig>();
  /** Every job type listed, by integer and by name: what add() accepts and validates. */
  const specs = new Map<number, ResolvedJobSpec>();
  const names = new Map<string, ResolvedJobSpec>();
  options.jobs.forEach((config, i) => {
    const at = `jobs[${i}]`;
    const bare = isBareDefinition(config);
    const resolved = bare
      ? resolveJobSpec(config, at)
      : resolveJobConfig(config as AnyJobConfig, at, random);
    if (specs.has(resolved.jobType))
      throw new ConfigError(`${at}.jobType`, `${resolved.jobType} is configured twice.`);
    if (names.has(resolved.name))
      throw new ConfigError(
        `${at}.name`,
        `"${resolved.name}" names two job types; names are unique in a queue.`,
      );
    specs.set(resolved.jobType, resolved);
    names.set(resolved.name, resolved);
    if (!bare) jobs.set(resolved.jobType, resolved as ResolvedJobConfig);
  });
  const pollMs = parseDuration("pollInterval", options.pollInterval ?? 500, { allowZero: false });
  const retention = resolveRetention(options.retention);
  return {
    db,
    serviceName,
    jobs,
    specs,
    names,
    pollMs,
    notify: options.notify ?? true,
    random,
    retention,
  };
}
