import type { StandardSchemaV1 } from "@standard-schema/spec";
import type { Duration } from "./duration.js";
import type { JobStatus } from "./job-status.js";
import type { Logger } from "./logger.js";
import type { BackOffScope, RateLimitedError } from "./rate-limited.js";

/**
 * What a handler may return: a status, nothing (= Success), or
 * `{ status?, result? }` (status default Success) to store a result.
 */
// biome-ignore lint/suspicious/noConfusingVoidType: `void` lets `async () => {}` handlers type-check
export type HandlerResult<R = unknown> = JobStatus | undefined | void | HandlerOutput<R>;

/**
 * A handler's outcome with a result: `return { result: { url } }`. The result
 * is stored as JSON in the job's `result` column (at most the job type's
 * `maxResultBytes`), read back by `getJob()` and `waitFor()`.
 */
export interface HandlerOutput<R = unknown> {
  /** The outcome; default {@link JobStatus.Success}. */
  readonly status?: JobStatus;
  /** Any JSON-serialisable value; stored with the outcome, whatever the status. */
  readonly result?: R;
}

/** A job as its handler (and the queue's events) see it. */
export interface Job<P = unknown, T extends number = number> {
  /** The row's id in `async_job_tab`. */
  readonly id: number;
  readonly jobType: T;
  /** The job type's name ({@link JobDefinition.name}; `job-<jobType>` when it has none). */
  readonly name: string;
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
  /** The job's group (`add(…, { group })`), or null. */
  readonly group: string | null;
}

/** A rate: at most `max` starts in any window of `per`. */
export interface RateLimit {
  /** Starts allowed per window: a whole number from 1. */
  readonly max: number;
  /** The window: ms or text like "1m". */
  readonly per: Duration;
}

/** What a handler gets besides the job. */
export interface JobContext {
  /** Aborts when the job times out, its lease is lost, or the queue stops and the grace period ends. */
  readonly signal: AbortSignal;
  readonly logger: Logger;
  /**
   * Stores `value` (any JSON, at most the job type's `maxProgressBytes`) as the
   * job's progress, read back by `getJob()`. Throttled: at most one write per
   * `progressInterval` per job, the latest value winning; the last value is
   * always written before the outcome. Written only while this run holds the
   * job's lease. Resolves once the value (or a later one) is written or fenced
   * off; rejects only with a `JobOutputError` for a value that cannot be
   * stored (a database error is logged and emitted as an `error` event instead).
   */
  progress(value: unknown): Promise<void>;
  /**
   * Backs this job type off — or only this job's group, with `{ scope: "group" }` —
   * for `retryAfter` (ms or text like "30s"), in the whole cluster: no process
   * claims its jobs until then (a longer back-off already set stays). For a
   * remote rate limit; the run itself goes on (to give the job up for now as well,
   * throw a {@link RateLimitedError} instead). Rejects with a `JobInputError`
   * for a bad duration, or for the group scope on a job without a group or of a
   * type without any flow-control limit (only limited claims look at groups).
   */
  backOff(retryAfter: Duration, options?: { readonly scope?: BackOffScope }): Promise<void>;
}

/** The backoff between a Retry and the next attempt. */
export type Backoff =
  /** Always `waitTime` (the seed's behaviour). */
  | { readonly type: "fixed" }
  /** `waitTime × 2^(retry−1)`, capped at `max`, with full jitter by default. */
  | { readonly type: "exponential"; readonly max?: Duration; readonly jitter?: boolean }
  /** Your own: ms to wait before the given attempt (2 = first retry). */
  | ((attempt: number, error: unknown) => number);

/**
 * What producers and workers share about a job type: its integer (the Go
 * contract's `job_type`), an optional name to address it by, and an optional
 * params schema. A producer that lists definitions gets typed `add()` without
 * importing handler code; a worker attaches a handler with {@link JobDefinition.handle}.
 */
export interface JobSpec<
  P = unknown,
  T extends number = number,
  N extends string = never,
  R = unknown,
> {
  /** The `async_job_tab.job_type` integer. */
  readonly jobType: T;
  /** A name to address the job type by (`add("send-email", …)`), unique in a queue; shown in logs and events. Default `job-<jobType>`. */
  readonly name?: N;
  /** Validates params at `add()` and before the handler runs: any Standard Schema validator (zod, valibot, arktype…). */
  readonly schema?: StandardSchemaV1<unknown, P>;
  /**
   * The params type, at the type level only (never set at run time): a
   * definition without a schema or a handler has nowhere else to keep it.
   * (The `~` prefix, as Standard Schema's `~standard`, keeps it last in completions.)
   */
  readonly "~params"?: P;
  /** The result type, at the type level only (never set at run time), as `~params`. */
  readonly "~result"?: R;
}

/** How a worker runs one job type: the seed's per-job config, camelCased, and more. */
export interface WorkerOptions {
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
   * until a slot frees. Default: what the handlers finish within about 10 ms by
   * their recent run times, at least workerPoolCapacity and at most 512 (many
   * short jobs: fewer, larger claims); with a cluster-wide limit, at most
   * workerPoolCapacity and none for slow jobs (see globalConcurrency). Set it to
   * fix the number: lower (0 = claim only for free slots) for long jobs shared
   * among many workers, so one worker does not sit on jobs another could start.
   * Capped by queueMaxSize.
   */
  readonly prefetch?: number;
  /** Most rows one claim takes. Default 10000 (the seed's); a claim never takes more than free capacity. */
  readonly loadLimit?: number;
  /** Abort `ctx.signal` and treat the run as failed (Retry if `needRetry`) after this long. Default: none. */
  readonly timeout?: Duration;
  /** Lease length: a worker that stops heartbeating loses the job after this. Default "30s". */
  readonly leaseTime?: Duration;
  /**
   * Largest result a handler may return, in UTF-8 bytes of its JSON. A larger
   * (or non-JSON) result fails the job with a `JobOutputError`. Default 65536 (64 KiB).
   */
  readonly maxResultBytes?: number;
  /**
   * At most this many jobs of this type run at once in the whole cluster (every
   * process and host on this job table), enforced in the claim. Jobs over the
   * limit wait; they do not fail or use attempts. A crashed worker's jobs stop
   * counting when their lease expires (`leaseTime`). Default: no limit. With a
   * cluster-wide limit, jobs claimed ahead would hold room in the limit while they
   * wait for a slot here, so without an explicit `prefetch` a worker claims ahead
   * only what its handlers finish within about 10 ms (by their recent run times):
   * a capacity for very short jobs, none for jobs of 160 ms or more at 16 slots.
   */
  readonly globalConcurrency?: number;
  /**
   * At most this many jobs of one group (`add(…, { group })`) run at once in the
   * whole cluster, while other groups go on. Jobs without a group are not limited
   * by it. Groups share workers oldest job first. Default: no limit. See
   * `globalConcurrency` for what waits, crashes and `prefetch`.
   */
  readonly groupConcurrency?: number;
  /**
   * At most `max` jobs of this type start in any window of `per` (ms or text like
   * "1m"), in the whole cluster. Jobs over the limit wait; they do not fail or
   * use attempts. Counted from the claims (a job claimed is a job started).
   * Default: no limit. See `globalConcurrency` for `prefetch`.
   */
  readonly rateLimit?: RateLimit;
  /**
   * `rateLimit` per group (`add(…, { group })`): at most `max` starts of one group
   * in any window of `per`, cluster-wide, while other groups go on. Jobs without
   * a group are not limited by it.
   */
  readonly groupRateLimit?: RateLimit;
  /** Largest value `ctx.progress()` takes, in UTF-8 bytes of its JSON. Default 4096. */
  readonly maxProgressBytes?: number;
  /** Least time between two progress writes of one job (the latest value waits). Default "1s". */
  readonly progressInterval?: Duration;
}

/**
 * Runs one job: returns a {@link JobStatus}, nothing (= Success) or
 * `{ status?, result }`; a throw is a Retry when `needRetry`, else Failed.
 */
export type JobHandler<P = unknown, T extends number = number, R = unknown> = (
  job: Job<P, T>,
  ctx: JobContext,
) => Promise<HandlerResult<R>> | HandlerResult<R>;

/** One job type a worker runs: its spec, its handler and how to run it. */
export interface JobConfig<
  P = unknown,
  T extends number = number,
  N extends string = never,
  R = unknown,
> extends JobSpec<P, T, N, R>,
    WorkerOptions {
  /**
   * Runs one job. Return a {@link JobStatus} (Success, Failed, Continue,
   * Retry), nothing (= Success), or `{ status?, result }` to store a result;
   * a throw is a Retry when `needRetry`, else Failed.
   */
  handleJob(job: Job<P, NoInfer<T>>, ctx: JobContext): Promise<HandlerResult<R>> | HandlerResult<R>;
}

/** A job type without its handler, from {@link defineJob}: list it in a producer's `jobs`, or `.handle()` it in a worker's. */
export interface JobDefinition<
  P = unknown,
  T extends number = number,
  N extends string = never,
  R = unknown,
> extends JobSpec<P, T, N, R> {
  /** This job type with its handler and worker options, for a worker queue's `jobs`. */
  handle(handler: JobHandler<P, T, R>, options?: WorkerOptions): JobConfig<P, T, N, R>;
}

/** What {@link defineJob} takes to make a definition without a handler. */
export type DefinitionInput<P, T extends number, N extends string, R = unknown> = JobSpec<
  P,
  T,
  N,
  R
> & {
  readonly handleJob?: undefined;
};

/**
 * What `defineJob<P, R>()` returns: declares a job type whose params are `P`
 * (and whose handler's result is `R`), with or without its handler.
 */
export interface DefineWithParams<P, R = unknown> {
  <const T extends number, const N extends string = never>(
    config: JobConfig<P, T, N, R>,
  ): JobConfig<P, T, N, R>;
  <const T extends number, const N extends string = never>(
    spec: DefinitionInput<P, T, N, R>,
  ): JobDefinition<P, T, N, R>;
}

/**
 * Declares a job type, typed from end to end.
 *
 * - `defineJob<{ orderId: number }>()({ jobType: 1, name: "ship-order" })`: a
 *   definition with a params type and no runtime validation;
 * - `defineJob<{ orderId: number }, { label: string }>()({ … })`: the same,
 *   and its handler's result (`return { result }`) typed for `getJob()` and `waitFor()`;
 * - `defineJob({ jobType: 1, name: "ship-order", schema })`: params typed and
 *   validated by a Standard Schema validator;
 * - `defineJob({ jobType: 1, handleJob: async (job: Job<P>) => … })`: a job
 *   type with its handler in one object (the seed's shape).
 *
 * A definition goes in a producer's `jobs` (typed `add()` with no handler code)
 * and, with `.handle(fn, options)`, in a worker's.
 */
export function defineJob<P, R = unknown>(): DefineWithParams<P, R>;
export function defineJob<const T extends number, P, const N extends string = never, R = unknown>(
  config: JobConfig<P, T, N, R>,
): JobConfig<P, T, N, R>;
export function defineJob<const T extends number, P, const N extends string = never>(
  spec: DefinitionInput<P, T, N>,
): JobDefinition<P, T, N>;
export function defineJob(spec?: AnyJobSpec): unknown {
  if (spec === undefined) return (s: AnyJobSpec) => defineJob(s);
  // With a handler (even a wrong one, which the queue then reports), it is a config as given.
  if ((spec as { handleJob?: unknown }).handleJob !== undefined) return spec;
  return toDefinition(spec);
}

function toDefinition(spec: AnyJobSpec): AnyJobDefinition {
  // Frozen, and a copy: a definition is shared by producers and workers; .handle() copies it.
  const fields = { ...spec };
  return Object.freeze({
    ...fields,
    handle(handler: JobHandler, options: WorkerOptions = {}) {
      return { ...options, ...fields, handleJob: handler };
    },
  }) as AnyJobDefinition;
}

/**
 * Any job type's spec, definition or config, whatever its params: the
 * constraint of a queue's job list. (`any` here is the one way to accept both
 * the handler's parameter and the schema's output for every params type.)
 */
// biome-ignore lint/suspicious/noExplicitAny: see above
export type AnyJobSpec = JobSpec<any, number, string, any>;
// biome-ignore lint/suspicious/noExplicitAny: see above
export type AnyJobConfig = JobConfig<any, number, string, any>;
// biome-ignore lint/suspicious/noExplicitAny: see above
export type AnyJobDefinition = JobDefinition<any, number, string, any>;
/** What a queue's `jobs` holds: configs with handlers, and bare definitions. */
export type AnyJob = AnyJobConfig | AnyJobDefinition;

/** A job type as `add()`, `getJob()` and `addMany()` take it: its integer, its name, or its definition. */
export type JobRef<J extends readonly AnyJob[]> =
  | JobTypeOf<J>
  | JobNameOf<J>
  // a definition, or a config made from one, of a job type the queue lists
  | (AnyJobSpec & { readonly jobType: JobTypeOf<J> });

/** The spec among `J` that `K` (an integer, a literal name or a spec) addresses; never if none. */
type SpecOf<J extends readonly AnyJob[], K> = K extends number
  ? SpecNumbered<J[number], K>
  : K extends string
    ? SpecNamed<J[number], K>
    : K extends AnyJobSpec
      ? K
      : never;

/** The members of the union `S` whose job type may be `K` (a config's jobType may itself be a union). */
type SpecNumbered<S, K extends number> = S extends { readonly jobType: infer T }
  ? K extends T
    ? S
    : never
  : never;

/** The members of the union `S` whose literal name is `K` (unnamed specs have name `never`). */
type SpecNamed<S, K extends string> = S extends { readonly name?: infer N }
  ? [N] extends [never]
    ? never
    : [N] extends [K]
      ? S
      : never
  : never;

/** The params type of a spec: its `~params`, else its handler's job params (an inline config), else unknown. */
export type SpecParams<S> = S extends { readonly "~params"?: infer P }
  ? unknown extends P
    ? HandlerParams<S>
    : P
  : HandlerParams<S>;

type HandlerParams<S> = S extends {
  // biome-ignore lint/suspicious/noExplicitAny: matches a handler of any job type
  handleJob(job: Job<infer P, any>, ctx: JobContext): unknown;
}
  ? P
  : unknown;

/** The params type of the job type `K` (integer, name or definition) among `J` (anything, for a producer-only queue with no job types). */
export type ParamsOf<J extends readonly AnyJob[], K> = [J[number]] extends [never]
  ? RefParams<K>
  : number extends J[number]["jobType"]
    ? RefParams<K> // a queue typed only as "some job types" (e.g. from init()): untyped
    : [SpecOf<J, K>] extends [never]
      ? unknown
      : SpecParams<SpecOf<J, K>>;

type RefParams<K> = K extends AnyJobSpec ? SpecParams<K> : unknown;

/** The result type of a spec: its `~result`, else what its handler returns as `{ result }` (an inline config), else unknown. */
export type SpecResult<S> = S extends { readonly "~result"?: infer R }
  ? unknown extends R
    ? HandlerReturnedResult<S>
    : R
  : HandlerReturnedResult<S>;

type HandlerReturnedResult<S> = S extends {
  // biome-ignore lint/suspicious/noExplicitAny: matches a handler of any job type
  handleJob(...args: any[]): infer X;
}
  ? [ResultIn<Awaited<X>>] extends [never]
    ? unknown
    : ResultIn<Awaited<X>>
  : unknown;

type ResultIn<X> = X extends { readonly result?: infer R } ? Exclude<R, undefined> : never;

/** The result type of the job type `K` (integer, name or definition) among `J`; unknown when not declared. */
export type ResultOf<J extends readonly AnyJob[], K> = [J[number]] extends [never]
  ? RefResult<K>
  : number extends J[number]["jobType"]
    ? RefResult<K>
    : [SpecOf<J, K>] extends [never]
      ? unknown
      : SpecResult<SpecOf<J, K>>;

type RefResult<K> = K extends AnyJobSpec ? SpecResult<K> : unknown;

/** The job type numbers among `J` (any number, for a producer-only queue with no job types). */
export type JobTypeOf<J extends readonly AnyJob[]> = [J[number]] extends [never]
  ? number
  : J[number]["jobType"];

/** The job type names among `J` (only literal names; any string for a producer-only queue). */
export type JobNameOf<J extends readonly AnyJob[]> = [J[number]] extends [never]
  ? string
  : NameOf<J[number]>;

type NameOf<S> = S extends { readonly name?: infer N }
  ? N extends string
    ? string extends N
      ? never
      : N
    : never
  : never;

/** The integer of the job type `K` (integer, name or definition) among `J`. */
export type JobTypeOfRef<J extends readonly AnyJob[], K> = K extends number
  ? K
  : SpecOf<J, K> extends { readonly jobType: infer T extends number }
    ? T
    : number;
