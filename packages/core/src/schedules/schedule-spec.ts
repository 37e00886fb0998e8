import type { ResolvedJobSpec } from "../config.js";
import { type Duration, parseDuration } from "../duration.js";
import { isPriority, MAX_PARAMS_LENGTH, PRIORITY_RANGE } from "../enqueue.js";
import { ConfigError, PersistentQueueError } from "../errors.js";
import type { AnyJob, JobRef, ParamsOf } from "../job.js";
import type { JobTypes } from "../job-types.js";
import { type CronSchedule, canonicalTimeZone, parseCron } from "./cron.js";

/**
 * One cron schedule: each tick of `cron` (read in `tz`) enqueues one job of
 * `jobType` with `params`, once in the whole cluster. `jobType` is the job
 * type's integer, its name in the queue's `jobs`, or its definition; `params`
 * is typed and validated as `add()` does for that job type.
 */
export type Schedule<J extends readonly AnyJob[] = readonly AnyJob[]> =
  JobRef<J> extends infer K
    ? K extends JobRef<J>
      ? ScheduleFields & { readonly jobType: K; readonly params?: ParamsOf<J, K> }
      : never
    : never;

/** The fields of a {@link Schedule} other than its job type and params. */
export interface ScheduleFields {
  /** Unique per job table: 1-64 letters, digits, `_`, `-`, `.`, `:` or `/` (as job names). */
  readonly name: string;
  /**
   * A cron pattern: 5 fields (`minute hour day month weekday`) or 6 with seconds
   * first (`second minute hour day month weekday`); names (`MON`, `JAN`), ranges,
   * lists, steps and nicknames (`@daily`, `@hourly`) as croner reads them.
   */
  readonly cron: string;
  /** The IANA time zone the pattern is read in, e.g. "Europe/Berlin". Default "UTC", whatever the host's zone. */
  readonly tz?: string | undefined;
  /** The enqueued jobs' priority (lower runs first). Default 0. */
  readonly priority?: number | undefined;
  /**
   * Ticks missed while no process ran the schedule are skipped, unless they fall
   * within this window before now (e.g. "1h"): those are enqueued, oldest first,
   * each once. Default 0: none.
   */
  readonly backfill?: Duration | undefined;
}

/** A schedule as {@link PersistentQueue.listSchedules} reports it. */
export interface ScheduleInfo {
  readonly name: string;
  readonly cron: string;
  /** The time zone the pattern is read in ("UTC" unless one was given). */
  readonly tz: string;
  readonly jobType: number;
  /** The job type's name in this queue's `jobs`, or undefined for a type it does not list. */
  readonly jobName: string | undefined;
  /** The params each tick's job gets (parsed from the stored JSON). */
  readonly params: unknown;
  readonly priority: number;
  /** The backfill window in ms (0: missed ticks are skipped). */
  readonly backfillMs: number;
  /** The next tick: when the next job will be enqueued (missed ticks aside). */
  readonly nextRun: Date | undefined;
  /** The last tick a job was enqueued for, or undefined if none yet. */
  readonly lastRun: Date | undefined;
  /** "config": from the queue's `schedules` option (start() may remove it); "runtime": from `schedule()`. */
  readonly source: "config" | "runtime";
  /** When the row was last written (ms), by the database's clock. */
  readonly updatedAt: Date;
}

/**
 * A schedule is not valid (bad cron pattern, unknown time zone, bad backfill,
 * duplicate or bad name, unknown job type, params that fail the job type's
 * schema or do not fit): nothing was written. `field` says what to change.
 */
export class ScheduleError extends ConfigError {
  constructor(field: string, message: string) {
    super(field, message);
  }
}

/** A schedule with every field checked: what the schedules table stores. */
export interface ResolvedSchedule {
  readonly name: string;
  readonly cron: string;
  readonly tz: string;
  readonly jobType: number;
  readonly priority: number;
  readonly backfillMs: number;
  /** The job type's spec, to validate params by (when it has a schema). */
  readonly spec: ResolvedJobSpec | undefined;
  readonly params: unknown;
  /** The parsed pattern. */
  readonly pattern: CronSchedule;
}

const NAME = /^[\w.:/-]{1,64}$/;

/**
 * Checks everything about a schedule that needs no database and no async
 * schema validation; `at` names it in errors ("schedules[2]" or "schedule").
 */
export function resolveSchedule(input: unknown, at: string, types: JobTypes): ResolvedSchedule {
  if (input === null || typeof input !== "object")
    throw new ScheduleError(
      at,
      "must be an object { name, cron, jobType, params?, tz?, backfill? }.",
    );
  const s = input as Record<string, unknown>;
  if (typeof s.name !== "string" || !NAME.test(s.name))
    throw new ScheduleError(
      `${at}.name`,
      `must be 1-64 characters of letters, digits, '_', '-', '.', ':' or '/' (got ${describe(s.name)}).`,
    );
  const tzGiven = s.tz ?? "UTC";
  const tz = typeof tzGiven === "string" ? canonicalTimeZone(tzGiven) : undefined;
  if (tz === undefined)
    throw new ScheduleError(
      `${at}.tz`,
      `must be an IANA time zone such as "UTC" or "Europe/Berlin" (got ${describe(s.tz)}).`,
    );
  if (typeof s.cron !== "string" || s.cron.trim() === "" || s.cron.length > 128)
    throw new ScheduleError(
      `${at}.cron`,
      `must be a cron pattern of 5 fields ("30 2 * * *") or 6 with seconds first ("*/10 * * * * *"), at most 128 characters (got ${describe(s.cron)}).`,
    );
  let pattern: CronSchedule;
  try {
    pattern = parseCron(s.cron, tz);
  } catch (err) {
    throw new ScheduleError(
      `${at}.cron`,
      `${JSON.stringify(s.cron)} is not a valid cron pattern (${(err as Error).message}). Use 5 fields ("30 2 * * *") or 6 with seconds first ("*/10 * * * * *").`,
    );
  }
  if (pattern.nextAfter(Date.now()) === undefined)
    throw new ScheduleError(
      `${at}.cron`,
      `${JSON.stringify(s.cron)} never fires (e.g. February 30th); check its day and month fields.`,
    );
  let backfillMs: number;
  try {
    backfillMs = parseDuration(`${at}.backfill`, s.backfill ?? 0);
  } catch (err) {
    throw new ScheduleError(`${at}.backfill`, stripField((err as Error).message));
  }
  const priority = s.priority ?? 0;
  if (!isPriority(priority))
    throw new ScheduleError(
      `${at}.priority`,
      `must be an integer from ${PRIORITY_RANGE[0]} to ${PRIORITY_RANGE[1]}, lower runs first (got ${describe(priority)}).`,
    );
  let ref: ReturnType<JobTypes["resolveRef"]>;
  try {
    ref = types.resolveRef(s.jobType, `${at}.jobType`);
  } catch (err) {
    if (err instanceof PersistentQueueError)
      throw new ScheduleError(`${at}.jobType`, stripField(err.message));
    throw err;
  }
  if (!Number.isInteger(ref.jobType) || Math.abs(ref.jobType) > 2_147_483_647)
    throw new ScheduleError(
      `${at}.jobType`,
      `must be an integer that fits the job_type INT column (got ${describe(ref.jobType)}).`,
    );
  return {
    name: s.name,
    cron: s.cron,
    tz,
    jobType: ref.jobType,
    priority,
    backfillMs,
    spec: "name" in ref ? (ref as ResolvedJobSpec) : undefined,
    params: s.params === undefined ? {} : s.params,
    pattern,
  };
}

/**
 * The schedule's params as stored: validated (and transformed) by the job
 * type's schema when it has one, as JSON text that fits the params column.
 */
export async function scheduleParams(s: ResolvedSchedule, at: string): Promise<string> {
  let value = s.params;
  const schema = s.spec?.schema;
  if (schema) {
    const result = await schema["~standard"].validate(value);
    if (result.issues)
      throw new ScheduleError(
        `${at}.params`,
        `do not match the schema of job type ${s.jobType}: ${result.issues.map((i) => i.message).join("; ")}`,
      );
    value = result.value;
  }
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (err) {
    throw new ScheduleError(
      `${at}.params`,
      `cannot be serialised to JSON (${(err as Error).message}).`,
    );
  }
  if (text === undefined)
    throw new ScheduleError(`${at}.params`, "must be JSON-serialisable; use null for no params.");
  if (text.length > MAX_PARAMS_LENGTH)
    throw new ScheduleError(
      `${at}.params`,
      `serialise to ${text.length} characters of JSON; the params column holds ${MAX_PARAMS_LENGTH}.`,
    );
  return text;
}

/** Checks a queue's `schedules` option: each schedule, and that no name is used twice. */
export function resolveSchedules(input: unknown, types: JobTypes): ResolvedSchedule[] | undefined {
  if (input === undefined) return undefined;
  if (!Array.isArray(input))
    throw new ScheduleError("schedules", "must be an array of { name, cron, jobType, … }.");
  const seen = new Set<string>();
  return input.map((one, i) => {
    const resolved = resolveSchedule(one, `schedules[${i}]`, types);
    if (seen.has(resolved.name))
      throw new ScheduleError(
        `schedules[${i}].name`,
        `"${resolved.name}" names two schedules; schedule names are unique per job table.`,
      );
    seen.add(resolved.name);
    return resolved;
  });
}

/** A ConfigError's message without its "field: " prefix (the new error names its own field). */
function stripField(message: string): string {
  return message.replace(/^[^:]*: /, "");
}

function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value.slice(0, 60));
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return value === null ? "null" : typeof value;
}

/** The name rule, for callers that only check a name (unschedule). */
export function assertScheduleName(name: unknown, at: string): string {
  if (typeof name !== "string" || !NAME.test(name))
    throw new ScheduleError(
      at,
      `must be a schedule's name: 1-64 characters of letters, digits, '_', '-', '.', ':' or '/' (got ${describe(name)}).`,
    );
  return name;
}
