import type { ResolvedJobSpec } from "./config.js";
import type { DB } from "./db.js";
import type { Dialect, OnConflict } from "./dialects/dialect.js";
import { type Duration, parseDuration } from "./duration.js";
import { type ConfigError, PersistentQueueError } from "./errors.js";
import type { AnyJob, JobRef, ParamsOf } from "./job.js";
import type { NewJobRow } from "./statements/jobs.js";

/** The most characters of JSON the seed's `params varchar(4096)` column holds. */
export const MAX_PARAMS_LENGTH = 4096;
/** Rows per INSERT statement in `addMany()`. */
const BATCH = 1000;

/** The longest unique key: the `unique_key varchar(255)` column. */
export const MAX_UNIQUE_KEY_LENGTH = 255;

/** The lowest and highest priority: the range of the INT column. */
export const PRIORITY_RANGE = [-2_147_483_648, 2_147_483_647] as const;

/** True for an integer within {@link PRIORITY_RANGE}: a job's or a schedule's priority. */
export function isPriority(value: unknown): value is number {
  return (
    typeof value === "number" &&
    Number.isInteger(value) &&
    value >= PRIORITY_RANGE[0] &&
    value <= PRIORITY_RANGE[1]
  );
}

/** How one job runs: when, and before which others. Per job in `addMany()`. */
export interface JobOptions {
  /** Run after this long (ms or text like "10m"), measured by the database's clock. */
  readonly delay?: Duration | undefined;
  /** Run at this time: a Date, or unix seconds as in the seed's start_time. */
  readonly startTime?: Date | number | undefined;
  /**
   * Lower runs first, default 0 (BullMQ's, graphile-worker's and River's direction);
   * an integer that fits an INT. Among due jobs of one type, a worker takes every
   * due job of the lowest priority before any of a higher one: a steady stream of
   * low numbers starves the high ones (see the README, "Priorities").
   */
  readonly priority?: number | undefined;
  /**
   * At most one unfinished job (waiting, continuing, retrying or running) per
   * (job type, uniqueKey), enforced by the database's unique index, so that
   * concurrent adds in many processes insert one row. A non-empty string of at
   * most 255 characters, compared exactly (case and spaces count). Once that
   * job finishes or is cancelled the key is free again.
   */
  readonly uniqueKey?: string | undefined;
  /**
   * With `uniqueKey`, when an unfinished job already has the key: `"keep"`
   * (default) inserts nothing; `"replace"` gives that job these params, due
   * time and priority if it has not started yet (debounce), else keeps it.
   * Either way `add()` resolves the existing job's id.
   */
  readonly onConflict?: OnConflict | undefined;
  /**
   * The job's group (a tenant, a customer, an account): the job type's
   * `groupConcurrency` limits the running jobs of each group across the cluster,
   * while other groups go on. A non-empty string of at most 255 characters,
   * compared exactly. Without it the job belongs to no group.
   */
  readonly group?: string | undefined;
}

/** Options of `add()`. */
export interface AddOptions extends JobOptions {
  /** Insert through this DB instead of the queue's, e.g. one bound to your open transaction. */
  readonly db?: DB | undefined;
}

/** One job for `addMany()`: `jobType` is the job type's integer, name or definition. */
export type NewJob<J extends readonly AnyJob[]> =
  JobRef<J> extends infer K
    ? K extends JobRef<J>
      ? {
          readonly jobType: K;
          readonly params: ParamsOf<J, K>;
        } & JobOptions
      : never
    : never;

/** A job given to `add()` is not valid: nothing was inserted. `field` says what to change. */
export class JobInputError extends PersistentQueueError {
  readonly field: string;
  constructor(field: string, message: string, options?: { cause?: unknown }) {
    super("ERR_PQ_INPUT", `${field}: ${message}`, options);
    this.field = field;
  }
}

/** The params' JSON is longer than the column holds. */
export class PayloadTooLargeError extends JobInputError {
  constructor(field: string, length: number) {
    super(
      field,
      `the params serialise to ${length} characters of JSON; the params column holds ${MAX_PARAMS_LENGTH}. Store large data elsewhere and enqueue a reference to it.`,
    );
  }
}

/** One job as the enqueue code takes it: its job type resolved to the integer. */
export interface LooseJob extends JobOptions {
  readonly jobType: number;
  readonly params: unknown;
}

/**
 * Validates one job and inserts it synchronously through `db.querySync`/`execSync` (SQLite);
 * `traceContext` (the enqueuing span's) goes into its `trace_context`.
 */
export function enqueueSync(
  db: DB,
  dialect: Dialect,
  table: string,
  configs: ReadonlyMap<number, ResolvedJobSpec>,
  job: LooseJob,
  traceContext?: string,
): number {
  const row = { ...toRowSync(job, "", configs), traceContext };
  if (row.uniqueKey !== undefined) return dialect.statements.insertUniqueJobSync(db, table, row);
  return dialect.statements.insertJobsSync(db, table, [row])[0]!;
}

/**
 * Validates every job, then inserts them (one statement per {@link BATCH}); resolves their
 * ids in order. `traceContext` (the enqueuing span's) goes into every row's `trace_context`.
 */
export async function enqueue(
  db: DB,
  dialect: Dialect,
  table: string,
  configs: ReadonlyMap<number, ResolvedJobSpec>,
  jobs: readonly LooseJob[],
  traceContext?: string,
): Promise<number[]> {
  const rows: NewJobRow[] = [];
  for (let i = 0; i < jobs.length; i++)
    rows.push(
      await jobRow(configs, jobs[i]!, traceContext, jobs.length === 1 ? "" : `jobs[${i}].`),
    );
  const runs = statementRuns(rows);
  const insertAll = async (target: DB): Promise<number[]> => {
    const ids: number[] = [];
    for (const run of runs) {
      if (run.length === 1 && run[0]!.uniqueKey !== undefined)
        ids.push(await dialect.statements.insertUniqueJob(target, table, run[0]!));
      else ids.push(...(await dialect.statements.insertJobs(target, table, run)));
    }
    return ids;
  };
  if (runs.length > 1 && db.transaction) return db.transaction(insertAll); // all or nothing
  return insertAll(db);
}

/**
 * True when `job` may be handed straight to a free slot of this process (due
 * now, no unique key: those go through the table as any job does).
 */
export function mayHandOff(job: LooseJob): boolean {
  return job.uniqueKey === undefined && job.delay === undefined && job.startTime === undefined;
}

/**
 * One job validated against its type's schema and converted to its row;
 * `traceContext` goes into its `trace_context`, `at` prefixes the field an
 * error names (`jobs[2].` in a batch).
 */
export async function jobRow(
  configs: ReadonlyMap<number, ResolvedJobSpec>,
  job: LooseJob,
  traceContext?: string,
  at = "",
): Promise<NewJobRow> {
  const row = await toRow(job, at, configs);
  return traceContext === undefined ? row : { ...row, traceContext };
}

/**
 * The statements of one enqueue, in input order (so ids grow in it): plain jobs
 * together, up to {@link BATCH} per multi-row INSERT; each job with a unique key
 * alone, as its conflict is resolved row by row (a later job in the batch with
 * the same key meets the earlier one, and resolves to its id).
 */
function statementRuns(rows: readonly NewJobRow[]): NewJobRow[][] {
  const runs: NewJobRow[][] = [];
  let plain: NewJobRow[] = [];
  for (const row of rows) {
    if (row.uniqueKey === undefined) {
      plain.push(row);
      if (plain.length === BATCH) plain = flush(runs, plain);
    } else {
      plain = flush(runs, plain);
      runs.push([row]);
    }
  }
  flush(runs, plain);
  return runs;
}

function flush(runs: NewJobRow[][], plain: NewJobRow[]): NewJobRow[] {
  if (plain.length > 0) runs.push(plain);
  return [];
}

async function toRow(
  job: LooseJob,
  at: string,
  configs: ReadonlyMap<number, ResolvedJobSpec>,
): Promise<NewJobRow> {
  const jobType = checkJobType(job, at);
  const schema = configs.get(jobType)?.schema;
  const result = schema ? await schema["~standard"].validate(job.params) : undefined;
  return toRowValidated(job, at, jobType, result);
}

/** {@link toRow} for `addSync()`: a schema must validate synchronously. */
function toRowSync(
  job: LooseJob,
  at: string,
  configs: ReadonlyMap<number, ResolvedJobSpec>,
): NewJobRow {
  const jobType = checkJobType(job, at);
  const schema = configs.get(jobType)?.schema;
  const result = schema ? schema["~standard"].validate(job.params) : undefined;
  if (result instanceof Promise) {
    throw new JobInputError(
      `${at}params`,
      `the schema of job type ${jobType} validates asynchronously; use add() outside the synchronous transaction.`,
    );
  }
  return toRowValidated(job, at, jobType, result);
}

/** The job type's integer range (the array and object shape were checked by the queue's JobTypes). */
function checkJobType(job: LooseJob, at: string): number {
  const { jobType } = job;
  if (
    typeof jobType !== "number" ||
    !Number.isInteger(jobType) ||
    Math.abs(jobType) > 2_147_483_647
  ) {
    throw new JobInputError(
      `${at}jobType`,
      `must be an integer that fits the job_type INT column (got ${String(jobType)}).`,
    );
  }
  return jobType;
}

type ValidationResult =
  | {
      readonly value?: unknown;
      readonly issues?: readonly { readonly message: string }[] | undefined;
    }
  | undefined;

function toRowValidated(
  job: LooseJob,
  at: string,
  jobType: number,
  result: ValidationResult,
): NewJobRow {
  let params = job.params;
  if (result) {
    if (result.issues) {
      throw new JobInputError(
        `${at}params`,
        `do not match the schema of job type ${jobType}: ${result.issues.map((i) => i.message).join("; ")}`,
      );
    }
    params = result.value;
  }
  let text: string | undefined;
  try {
    text = JSON.stringify(params);
  } catch (cause) {
    throw new JobInputError(
      `${at}params`,
      `cannot be serialised to JSON (${(cause as Error).message}).`,
      { cause },
    );
  }
  if (text === undefined)
    throw new JobInputError(
      `${at}params`,
      "must be JSON-serialisable; got undefined, a function or a symbol. Use null for no params.",
    );
  if (text.length > MAX_PARAMS_LENGTH) throw new PayloadTooLargeError(`${at}params`, text.length);
  if (job.delay !== undefined && job.startTime !== undefined) {
    throw new JobInputError(`${at}delay`, "give either delay or startTime, not both.");
  }
  let delayMs: number | undefined;
  let dueAtMs: number | undefined;
  if (job.delay !== undefined) {
    try {
      delayMs = parseDuration(`${at}delay`, job.delay);
    } catch (err) {
      throw new JobInputError(`${at}delay`, (err as ConfigError).message.replace(/^[^:]*: /, ""), {
        cause: err,
      });
    }
  }
  if (job.startTime !== undefined) {
    const st = job.startTime;
    if (st instanceof Date && Number.isFinite(st.getTime())) dueAtMs = Math.max(0, st.getTime());
    else if (typeof st === "number" && Number.isInteger(st) && st >= 0 && st <= 4_294_967_295)
      dueAtMs = st * 1000;
    else {
      throw new JobInputError(
        `${at}startTime`,
        "must be a valid Date or whole unix seconds from 0 to 4294967295 (the seed's start_time).",
      );
    }
  }
  const priority = job.priority ?? 0;
  if (!isPriority(priority)) {
    throw new JobInputError(
      `${at}priority`,
      `must be an integer from ${PRIORITY_RANGE[0]} to ${PRIORITY_RANGE[1]}, lower runs first (got ${String(priority)}).`,
    );
  }
  const group = checkGroup(job.group, at);
  return { jobType, params: text, delayMs, dueAtMs, priority, group, ...checkUnique(job, at) };
}

/** The longest group key: the group_key column's size. */
const MAX_GROUP_LENGTH = 255;

/** A job's group, checked. */
function checkGroup(group: unknown, at: string): string | undefined {
  if (group === undefined) return undefined;
  if (typeof group !== "string" || group.length === 0 || group.length > MAX_GROUP_LENGTH) {
    throw new JobInputError(
      `${at}group`,
      `must be a non-empty string of at most ${MAX_GROUP_LENGTH} characters (the group_key column); got ${typeof group === "string" ? `${group.length} characters` : typeof group}.`,
    );
  }
  return group;
}

/** The unique key and its conflict rule, checked. */
function checkUnique(
  job: LooseJob,
  at: string,
): { uniqueKey?: string; onConflict?: OnConflict } | undefined {
  const { uniqueKey, onConflict } = job;
  if (uniqueKey === undefined) {
    if (onConflict !== undefined)
      throw new JobInputError(
        `${at}onConflict`,
        "applies only with a uniqueKey: give the job a uniqueKey, or leave onConflict out.",
      );
    return undefined;
  }
  if (
    typeof uniqueKey !== "string" ||
    uniqueKey.length === 0 ||
    uniqueKey.length > MAX_UNIQUE_KEY_LENGTH
  ) {
    throw new JobInputError(
      `${at}uniqueKey`,
      `must be a non-empty string of at most ${MAX_UNIQUE_KEY_LENGTH} characters (the unique_key column); got ${typeof uniqueKey === "string" ? `${uniqueKey.length} characters` : typeof uniqueKey}. Hash a longer key.`,
    );
  }
  if (onConflict !== undefined && onConflict !== "keep" && onConflict !== "replace") {
    throw new JobInputError(
      `${at}onConflict`,
      `must be "keep" or "replace" (got ${JSON.stringify(String(onConflict)).slice(0, 40)}).`,
    );
  }
  return { uniqueKey, onConflict: onConflict ?? "keep" };
}
