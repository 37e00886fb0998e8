import type { DB } from "./db.js";
import type { Dialect } from "./dialects/dialect.js";
import { execSql, querySql } from "./dialects/index.js";
import { JobCancelledError } from "./engine/cancelled.js";
import { JobInputError, MAX_PARAMS_LENGTH } from "./enqueue.js";
import { PersistentQueueError } from "./errors.js";
import { type JobRecord, toJobRecord } from "./job-record.js";
import { JobStatus } from "./job-status.js";
import type { JobTypes } from "./job-types.js";
import {
  cancelJob,
  jobState,
  likePattern,
  listJobs,
  maxJobId,
  promoteJob,
  removeJob,
  retryJob,
} from "./statements/actions.js";

/** The job actions (and `waitFor`, which may not find its job), by the method names of {@link PersistentQueue}. */
export type JobAction = "cancel" | "retry" | "promote" | "remove" | "waitFor";

/**
 * An action on a job by id could not be carried out; `action` and `jobId` say
 * which. Its subclasses say why: {@link JobNotFoundError}, {@link JobRunningError}.
 * Thrown as itself when `retry()` would make a second unfinished job with the
 * same unique key.
 */
export class JobActionError extends PersistentQueueError {
  readonly action: JobAction;
  readonly jobId: number;

  constructor(
    code: string,
    action: JobAction,
    jobId: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, `${action}(${jobId}): ${message}`, options);
    this.action = action;
    this.jobId = jobId;
  }
}

/** No job has this id in the job table (never added, removed, or pruned). */
export class JobNotFoundError extends JobActionError {
  constructor(action: JobAction, jobId: number, table: string) {
    super(
      "ERR_PQ_JOB_NOT_FOUND",
      action,
      jobId,
      `no job has id ${jobId} in ${table}; it was never added here, or was removed or pruned. Check the id (and the queue's tables option).`,
    );
  }
}

/** `remove()` of a job that a worker runs right now: cancel it first. */
export class JobRunningError extends JobActionError {
  /** The worker that holds the job, as `worker_id` names it. */
  readonly workerId: string | null;

  constructor(action: JobAction, jobId: number, workerId: string | null) {
    super(
      "ERR_PQ_JOB_RUNNING",
      action,
      jobId,
      `the job is running${workerId ? ` on ${workerId}` : ""}, and a running job is not deleted under its worker. Call cancel(${jobId}) first, then remove(${jobId}).`,
    );
    this.workerId = workerId;
  }
}

/** Most jobs one {@link PersistentQueue.listJobs} page holds. */
export const MAX_LIST_LIMIT = 500;
/** The page size of {@link PersistentQueue.listJobs} when `limit` is not given. */
export const DEFAULT_LIST_LIMIT = 50;

/** What {@link PersistentQueue.listJobs} filters on; every member optional. */
export interface ListJobsOptions<R = unknown> {
  /** One job type: its integer, its name in the queue's `jobs`, or its definition. */
  readonly jobType?: R;
  /** One status or several (any of them). */
  readonly status?: JobStatus | readonly JobStatus[];
  /**
   * A case-insensitive substring of the params as stored (their JSON text, e.g.
   * `"order-42"` or `"orderId":42`). `%`, `_` and `!` match themselves.
   */
  readonly search?: string;
  /** Only jobs created at or after this time (the seed's create_time, whole seconds). */
  readonly createdFrom?: Date;
  /** Only jobs created before this time. */
  readonly createdTo?: Date;
  /** Only jobs last updated at or after this time (update_time: a finished job's finish time). */
  readonly updatedFrom?: Date;
  /** Only jobs last updated before this time. */
  readonly updatedTo?: Date;
  /** Jobs per page: 1 to {@link MAX_LIST_LIMIT}, default {@link DEFAULT_LIST_LIMIT}. */
  readonly limit?: number;
  /** `nextCursor` of the previous page, for the page after it; absent: the newest jobs. */
  readonly cursor?: string;
  /**
   * Bounds the work of one page when no index serves the filters (a `search`; statuses
   * without a `jobType`; a `jobType` without exactly one status; a time range): only the
   * `scanLimit` ids below the cursor (or the newest id) are looked at. The page may then
   * hold fewer than `limit` jobs, even none, and still have a `nextCursor`, which goes on
   * where the scan stopped. A whole number from 1,000; default no bound (a rare match in
   * a big table reads all of it). The dashboard and the CLI use 100,000.
   */
  readonly scanLimit?: number;
}

/** One page of {@link PersistentQueue.listJobs}. */
export interface JobPage {
  /** Newest (highest id) first. */
  readonly jobs: JobRecord[];
  /** Pass it as `cursor` for the next (older) page; undefined on the last page. */
  readonly nextCursor: string | undefined;
  /**
   * With `scanLimit`: the lowest id this page looked at, when the scan stopped at its
   * bound before the page was full (older jobs were not looked at; `nextCursor` goes on
   * from there). Undefined otherwise.
   */
  readonly scannedDownTo?: number;
}

/** What {@link JobActions} needs from its queue. */
export interface JobActionsDeps {
  readonly db: DB;
  readonly table: string;
  readonly workerId: string;
  readonly types: JobTypes;
  /** The queue's dialect on `db`, once the schema was found current. */
  readonly ready: () => Promise<Dialect>;
  /** `cancel()` from this process: aborts the run if a worker of this queue holds the job. */
  readonly cancelledHere: (id: number, reason: Error) => void;
  /** A job became due now: wakes this queue's claimers. */
  readonly wake: () => void;
}

const STATUSES = new Set<number>(
  Object.values(JobStatus).filter((v): v is number => typeof v === "number"),
);

/**
 * The queue's actions on one job by id (`cancel`, `retry`, `promote`,
 * `remove`) and `listJobs()`. Each action is one conditional statement by id
 * and status (statements/actions.ts), so it is safe against workers in any
 * process acting on the row at the same moment. They resolve `true` when the
 * action applied, `false` when the job exists in a state the action does not
 * apply to, and reject with {@link JobNotFoundError} for an unknown id (read
 * after the statement did not apply). They work on a queue that was never
 * started, through the queue's own DB.
 */
export class JobActions {
  readonly #d: JobActionsDeps;

  constructor(deps: JobActionsDeps) {
    this.#d = deps;
  }

  /**
   * A waiting (0), continuing (3) or retrying (4) job never runs; a running one
   * (5) is marked Cancelled and its lease ends, so its handler's signal aborts
   * with a {@link JobCancelledError}: at once in this process, at the holding
   * worker's next heartbeat elsewhere.
   */
  async cancel(id: number): Promise<boolean> {
    const message = `cancelled by cancel() from ${this.#d.workerId} at ${new Date().toISOString()}`;
    const applied = await this.#apply("cancel", id, (d) =>
      cancelJob(d, this.#d.table, id, message),
    );
    if (applied) this.#d.cancelledHere(id, new JobCancelledError(id));
    return applied;
  }

  /** A Failed (2) or Cancelled (6) job waits again (0), due now, attempts back to 0. */
  async retry(id: number): Promise<boolean> {
    let applied: boolean;
    try {
      applied = await this.#apply("retry", id, (d) => retryJob(d, this.#d.table, id));
    } catch (error) {
      if (
        !(error instanceof PersistentQueueError) &&
        (await this.#d.ready()).isAlreadyExists(error)
      ) {
        throw new JobActionError(
          "ERR_PQ_JOB_CONFLICT",
          "retry",
          id,
          "another unfinished job of its type has the same unique key, and a key allows one at a time. Wait for that job to finish, or cancel it, then retry.",
          { cause: error },
        );
      }
      throw error;
    }
    if (applied) this.#d.wake();
    return applied;
  }

  /** A delayed waiting (0, 3, 4) job becomes due now. */
  async promote(id: number): Promise<boolean> {
    const applied = await this.#apply("promote", id, (d) => promoteJob(d, this.#d.table, id));
    if (applied) this.#d.wake();
    return applied;
  }

  /** Deletes a job that is not running; a running one: {@link JobRunningError}. */
  remove(id: number): Promise<boolean> {
    return this.#apply("remove", id, (d) => removeJob(d, this.#d.table, id));
  }

  /** A page of jobs, newest first; see {@link ListJobsOptions}. */
  async list(options: ListJobsOptions = {}): Promise<JobPage> {
    if (options === null || typeof options !== "object")
      throw new JobInputError("listJobs options", "must be an object (or nothing).");
    const { types } = this.#d;
    const jobType =
      options.jobType === undefined
        ? undefined
        : types.resolveRef(options.jobType, "jobType").jobType;
    const statuses = options.status === undefined ? undefined : checkStatuses(options.status);
    const limit = checkLimit(options.limit);
    const beforeId = options.cursor === undefined ? undefined : checkCursor(options.cursor);
    const search = checkSearch(options.search);
    const scanLimit = checkScanLimit(options.scanLimit);
    const times = {
      createdFrom: checkTime(options.createdFrom, "createdFrom"),
      createdTo: checkTime(options.createdTo, "createdTo"),
      updatedFrom: checkTime(options.updatedFrom, "updatedFrom"),
      updatedTo: checkTime(options.updatedTo, "updatedTo"),
    };
    const dialect = await this.#d.ready();
    const { db, table } = this.#d;
    const filtered =
      search !== undefined ||
      Object.values(times).some((t) => t !== undefined) ||
      (jobType === undefined ? statuses !== undefined : statuses?.length !== 1);
    // Unserved filters read rows until `limit` match: bounded to scanLimit ids when asked.
    let fromId: number | undefined;
    if (scanLimit !== undefined && filtered) {
      const top =
        beforeId ?? Number((await querySql(db, dialect, maxJobId(table)))[0]?.id ?? 0) + 1;
      if (top - scanLimit > 1) fromId = top - scanLimit;
    }
    const rows = await querySql(
      db,
      dialect,
      listJobs(dialect, table, {
        jobType,
        statuses,
        beforeId,
        fromId,
        pattern: search === undefined ? undefined : likePattern(search),
        ...times,
        limit: limit + 1, // one more than the page: is there a next page?
      }),
    );
    const page = rows.slice(0, limit);
    const jobs = page.map((row) =>
      toJobRecord(row, types.specs.get(Number(row.job_type ?? 0))?.name),
    );
    if (rows.length > limit) return { jobs, nextCursor: String(jobs[jobs.length - 1]!.id) };
    if (fromId !== undefined) return { jobs, nextCursor: String(fromId), scannedDownTo: fromId };
    return { jobs, nextCursor: undefined };
  }

  /**
   * Runs one action's statement; when it changed no row, finds out why: no such
   * job (JobNotFoundError), a running job for remove() (JobRunningError), or a
   * state the action does not apply to (false).
   */
  async #apply(
    action: JobAction,
    id: number,
    statement: (d: Dialect) => Parameters<typeof execSql>[2],
  ): Promise<boolean> {
    checkId(id);
    const dialect = await this.#d.ready();
    const { db, table } = this.#d;
    if ((await execSql(db, dialect, statement(dialect))).affectedRows > 0) return true;
    const [row] = await querySql(db, dialect, jobState(dialect, table, id));
    if (!row) throw new JobNotFoundError(action, id, table);
    if (action === "remove" && Number(row.job_status) === JobStatus.Running) {
      throw new JobRunningError(
        action,
        id,
        row.worker_id === null || row.worker_id === undefined ? null : String(row.worker_id),
      );
    }
    return false;
  }
}

function checkId(id: unknown): void {
  if (typeof id !== "number" || !Number.isSafeInteger(id) || id < 1)
    throw new JobInputError(
      "id",
      `must be a job id, a positive integer as add() resolves it (got ${typeof id === "number" ? id : typeof id}).`,
    );
}

function checkStatuses(status: unknown): JobStatus[] {
  const list = Array.isArray(status) ? (status as unknown[]) : [status];
  if (list.length === 0)
    throw new JobInputError("status", "must name at least one status; leave it out for all.");
  for (const s of list) {
    if (typeof s !== "number" || !STATUSES.has(s))
      throw new JobInputError(
        "status",
        `${JSON.stringify(s) ?? String(s)} is not a JobStatus; use JobStatus.Init (0), Success (1), Failed (2), Continue (3), Retry (4), Running (5) or Cancelled (6).`,
      );
  }
  return [...new Set(list as JobStatus[])];
}

function checkLimit(limit: unknown): number {
  if (limit === undefined) return DEFAULT_LIST_LIMIT;
  if (typeof limit !== "number" || !Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT)
    throw new JobInputError(
      "limit",
      `must be an integer from 1 to ${MAX_LIST_LIMIT} (got ${typeof limit === "number" ? limit : typeof limit}); page through more with nextCursor.`,
    );
  return limit;
}

/** The smallest `scanLimit`: a bound that small would make pages of little use. */
const MIN_SCAN_LIMIT = 1000;

function checkScanLimit(scanLimit: unknown): number | undefined {
  if (scanLimit === undefined) return undefined;
  if (
    typeof scanLimit !== "number" ||
    !Number.isSafeInteger(scanLimit) ||
    scanLimit < MIN_SCAN_LIMIT
  )
    throw new JobInputError(
      "scanLimit",
      `must be a whole number of ids from ${MIN_SCAN_LIMIT} (got ${typeof scanLimit === "number" ? scanLimit : typeof scanLimit}), or left out for no bound.`,
    );
  return scanLimit;
}

function checkCursor(cursor: unknown): number {
  const id = typeof cursor === "string" && /^[1-9][0-9]{0,15}$/.test(cursor) ? Number(cursor) : 0;
  if (!Number.isSafeInteger(id) || id < 1)
    throw new JobInputError(
      "cursor",
      "must be the nextCursor of an earlier listJobs() page, passed back unchanged.",
    );
  return id;
}

/** A time bound as the table's unit (unix seconds, rounded up: `from` and `to` both stay exact on whole seconds). */
function checkTime(value: unknown, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!(value instanceof Date) || Number.isNaN(value.getTime()))
    throw new JobInputError(name, "must be a valid Date (or left out).");
  return Math.ceil(value.getTime() / 1000);
}

function checkSearch(search: unknown): string | undefined {
  if (search === undefined) return undefined;
  if (typeof search !== "string")
    throw new JobInputError("search", `must be a string (got ${typeof search}).`);
  if (search.length > MAX_PARAMS_LENGTH)
    throw new JobInputError(
      "search",
      `is ${search.length} characters; params hold at most ${MAX_PARAMS_LENGTH}, so it could match nothing.`,
    );
  return search === "" ? undefined : search;
}
