import type { StandardSchemaV1 } from "@standard-schema/spec";
import type { Duration } from "./duration.js";
import type { JobStatus } from "./job-status.js";
import type { Logger } from "./logger.js";

/** What a handler may return: a status, or nothing (= Success). */
// biome-ignore lint/suspicious/noConfusingVoidType: `void` lets `async () => {}` handlers type-check
export type HandlerResult = JobStatus | undefined | void;

/** A job as its handler sees it. */
export interface Job<P = unknown> {
  /** The row's id in `async_job_tab`. */
  readonly id: number;
  readonly jobType: number;
  /** The params, parsed from JSON (and validated, when the job type has a schema). */
  readonly params: P;
  /** The params column as stored: JSON text. */
  readonly rawParams: string;
  /** Attempts started so far, this one included (Continue re-runs do not count). */
  readonly attempts: number;
  /** Always {@link JobStatus.Running} while a handler runs. */
  readonly status: JobStatus;
  /** The seed's start_time: unix seconds it was scheduled for (0 = as soon as possible). */
  readonly startTime: number;
  /** Unix seconds the row was created. */
  readonly createTime: number;
  /** The previous failure's message, if any. */
  readonly lastError: string | null;
}

/** What a handler gets besides the job. */
export interface JobContext {
  /** Aborts when the job times out, its lease is lost, or the queue stops and the grace period ends. */
  readonly signal: AbortSignal;
  readonly logger: Logger;
}

/** The backoff between a Retry and the next attempt. */
export type Backoff =
  /** Always `waitTime` (the seed's behaviour). */
  | { readonly type: "fixed" }
  /** `waitTime × 2^(retry−1)`, capped at `max`, with full jitter by default. */
  | { readonly type: "exponential"; readonly max?: Duration; readonly jitter?: boolean }
  /** Your own: ms to wait before the given attempt (2 = first retry). */
  | ((attempt: number, error: unknown) => number);

/** One job type: the seed's per-job config, camelCased, and more. */
export interface JobConfig<P = unknown, T extends number = number> {
  /** The `async_job_tab.job_type` integer. */
  readonly jobType: T;
  /** A readable name for logs and events. Default `job-<jobType>`. */
  readonly name?: string;
  /**
   * Runs one job. Return a {@link JobStatus} (Success, Failed, Continue,
   * Retry) or nothing (= Success); a throw is a Retry when `needRetry`, else Failed.
   */
  handleJob(job: Job<P>, ctx: JobContext): Promise<HandlerResult> | HandlerResult;
  /** Retry failed runs (the seed's NeedRetry). Default false. */
  readonly needRetry?: boolean;
  /** Retries after the first run before the job is marked failed. Default 3. */
  readonly maxRetries?: number;
  /** Wait before a Continue re-run, and the fixed backoff between retries. Default "1m". */
  readonly waitTime?: Duration;
  /** How retries are spaced. Default fixed `waitTime`. */
  readonly backoff?: Backoff;
  /** Handlers of this type running at once in this process. Default 100. */
  readonly workerPoolCapacity?: number;
  /**
   * Accepted for the seed's config; in Node handlers are promises, not pooled
   * goroutines, so there are no idle workers to expire. Validated (≥ 0), unused.
   */
  readonly workerExpirySecond?: number;
  /** At start-up, Init jobs created more than this many days ago are left alone and reported; -1 = only jobs created from now on. Default 7. */
  readonly firstPullDay?: number;
  /** Most jobs of this type held in memory by this process (claimed, running or finishing). Default 50000. */
  readonly queueMaxSize?: number;
  /**
   * Jobs claimed ahead of free handler slots: held in memory (leased, heartbeated)
   * until a slot frees. Default: workerPoolCapacity. Raise it for many short jobs
   * (fewer, larger claims: 500 drains no-op jobs several times faster); lower it
   * (0 = claim only for free slots) for long jobs shared among many workers, so
   * one worker does not sit on jobs another could start. Capped by queueMaxSize.
   */
  readonly prefetch?: number;
  /** Most rows one claim takes. Default 10000 (the seed's); a claim never takes more than free capacity. */
  readonly loadLimit?: number;
  /** Abort `ctx.signal` and treat the run as failed (Retry if `needRetry`) after this long. Default: none. */
  readonly timeout?: Duration;
  /** Lease length: a worker that stops heartbeating loses the job after this. Default "30s". */
  readonly leaseTime?: Duration;
  /** Validates params at `add()` and before the handler runs: any Standard Schema validator (zod, valibot, arktype…). */
  readonly schema?: StandardSchemaV1<unknown, P>;
}

/**
 * Declares a job type with its params type, so `queue.add(jobType, params)`
 * and the handler agree: `defineJob<{ orderId: number }>()({ jobType: 1, … })`
 * or, with a schema, `defineJob({ jobType: 1, schema, … })`.
 */
export function defineJob<const T extends number, P>(config: JobConfig<P, T>): JobConfig<P, T> {
  return config;
}

/**
 * Any job type's config, whatever its params: the constraint of a queue's job
 * list. (`any` here is the one way to accept both the handler's parameter and
 * the schema's output for every params type.)
 */
// biome-ignore lint/suspicious/noExplicitAny: see above
export type AnyJobConfig = JobConfig<any, number>;

/** The params type of job type `T` among `J` (anything, for a producer-only queue with no job types). */
export type ParamsOf<J extends readonly AnyJobConfig[], T extends number> = [J[number]] extends [
  never,
]
  ? unknown
  : Extract<J[number], { readonly jobType: T }> extends JobConfig<infer P, number>
    ? P
    : never;

/** The job type numbers among `J` (any number, for a producer-only queue with no job types). */
export type JobTypeOf<J extends readonly AnyJobConfig[]> = [J[number]] extends [never]
  ? number
  : J[number]["jobType"];
