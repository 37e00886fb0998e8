import {
  type AnyJob,
  countJobs,
  type DB,
  type FinishedBucket,
  finishedJobs,
  JobActionError,
  JobInputError,
  JobNotFoundError,
  JobRunningError,
  JobStatus,
  type ListJobsOptions,
  listLocks,
  oldestWaiting,
  PersistentQueue,
  type TableNames,
} from "@persistent-queue/core";
import { badInput, DashboardHttpError } from "./errors.js";
import {
  parseCursor,
  parseId,
  parseJobType,
  parseLimit,
  parseStatuses,
  parseTime,
} from "./parse.js";

/** The job actions the API offers, single and bulk. */
export type JobActionName = "retry" | "cancel" | "promote" | "remove";
export const JOB_ACTIONS: readonly JobActionName[] = ["retry", "cancel", "promote", "remove"];

/** What one action did to one job. */
export interface ActionResult {
  readonly id: number;
  /**
   * applied: done; skipped: the job's status is not one the action applies to;
   * not-found: no such job; running: remove() of a running job (cancel first);
   * conflict: retry() refused by another unfinished job with the same unique key.
   */
  readonly outcome: "applied" | "skipped" | "not-found" | "running" | "conflict";
  readonly message?: string;
}

/**
 * How long the throughput is reused (ms): the finished-job counters it reads
 * (core's `finishedJobs`, a row per type, status and minute) are added to by each
 * queue process every 5 s.
 */
export const THROUGHPUT_TTL_MS = 5_000;

/**
 * How old the counts of finished jobs may be on the overview and `GET /metrics`
 * (ms): counting them reads the claim index's finished ranges, most of a table
 * with a long history (1,000,000 finished jobs: 0.2 to 0.7 s), so once a minute;
 * the backlog's counts (waiting, running, retrying) are read on every poll.
 */
export const FINISHED_COUNTS_MAX_AGE_MS = 60_000;

/**
 * Ids one page of the jobs list looks at when no index serves its filters (a search,
 * a status without a type, a time range): core's `scanLimit`. On a table of 1,000,000
 * jobs a tenth of it, 0.05 to 0.2 s; the page then offers to go on from there.
 */
export const SCAN_LIMIT = 100_000;

/** Most ids one bulk action takes. */
export const MAX_BULK_IDS = 500;

const APPLIES_TO: Record<JobActionName, string> = {
  retry: "failed or cancelled jobs",
  cancel: "waiting, continuing, retrying or running jobs",
  promote: "waiting jobs that are not due yet",
  remove: "jobs that are not running",
};

/** The queries and actions behind the JSON API, on an unstarted queue with no job types. */
export class DashboardApi {
  readonly #db: DB;
  readonly #tables: Partial<TableNames>;
  readonly #queue: PersistentQueue;
  #throughput: { at: number; value: Promise<FinishedBucket[]> } | undefined;

  readonly #jobs: readonly AnyJob[];

  constructor(db: DB, tables: Partial<TableNames>, jobs: readonly AnyJob[] = []) {
    this.#db = db;
    this.#tables = tables;
    this.#jobs = jobs;
    // Never started: it runs no worker, cleaner or schedule loop, only the calls made here
    // (the definitions give names to the records it reads; their handlers never run).
    this.#queue = new PersistentQueue<readonly AnyJob[]>({
      db,
      serviceName: "persistent-queue-dashboard",
      jobs,
      tables,
    });
  }

  /** `[{ jobType, name }]` of the definitions given, for the pages to name types. */
  typeNames(): { jobType: number; name: string }[] {
    return this.#jobs.flatMap((j) =>
      typeof j.name === "string" ? [{ jobType: j.jobType, name: j.name }] : [],
    );
  }

  async overview() {
    const opts = { tables: this.#tables };
    const [counts, paused, oldest, day] = await Promise.all([
      countJobs(this.#db, { ...opts, finishedMaxAgeMs: FINISHED_COUNTS_MAX_AGE_MS }),
      this.#queue.pausedTypes(),
      oldestWaiting(this.#db, opts),
      this.#lastDay(),
    ]);
    // One read of the day by minute serves both charts.
    const since = Math.floor(Date.now() / 1000) - 3600;
    const perMinute = day.filter((b) => b.bucket >= since - (since % 60));
    const hours = new Map<string, FinishedBucket>();
    for (const b of day) {
      const bucket = b.bucket - (b.bucket % 3600);
      const key = `${b.jobType}/${b.status}/${bucket}`;
      const prev = hours.get(key);
      hours.set(key, { ...b, bucket, count: (prev?.count ?? 0) + b.count });
    }
    const perHour = [...hours.values()].sort((a, b) => a.bucket - b.bucket);
    return {
      counts,
      paused,
      oldestWaiting: oldest,
      throughput: {
        perMinute: { bucketSeconds: 60, windowSeconds: 3600, buckets: perMinute },
        perHour: { bucketSeconds: 3600, windowSeconds: 86_400, buckets: perHour },
      },
    };
  }

  /** Finished jobs per minute over the last day, reused for {@link THROUGHPUT_TTL_MS}; one read at a time. */
  #lastDay(): Promise<FinishedBucket[]> {
    const now = Date.now();
    if (!this.#throughput || now - this.#throughput.at > THROUGHPUT_TTL_MS) {
      const value = finishedJobs(this.#db, {
        tables: this.#tables,
        bucketSeconds: 60,
        windowSeconds: 86_400,
      });
      this.#throughput = { at: now, value };
      value.catch(() => {
        if (this.#throughput?.value === value) this.#throughput = undefined;
      });
    }
    return this.#throughput.value;
  }

  /** `GET api/jobs?type=&status=&search=&createdFrom=&createdTo=&updatedFrom=&updatedTo=&limit=&cursor=` */
  async jobs(query: URLSearchParams) {
    const known = new Set([
      "type",
      "status",
      "search",
      "createdFrom",
      "createdTo",
      "updatedFrom",
      "updatedTo",
      "limit",
      "cursor",
    ]);
    for (const key of query.keys()) {
      if (!known.has(key))
        throw badInput(key, `is not a filter of the jobs list; use ${[...known].join(", ")}.`);
    }
    const get = (k: string) => {
      const v = query.get(k);
      return v === null || v === "" ? undefined : v;
    };
    const type = get("type");
    const status = get("status");
    const search = get("search");
    const limit = get("limit");
    const cursor = get("cursor");
    const times: Record<string, Date> = {};
    for (const k of ["createdFrom", "createdTo", "updatedFrom", "updatedTo"] as const) {
      const v = get(k);
      if (v !== undefined) times[k] = parseTime(v, k);
    }
    const options: ListJobsOptions<number | string> = {
      ...(type !== undefined && {
        jobType: /^-?[0-9]+$/.test(type) ? parseJobType(type) : type,
      }),
      ...(status !== undefined && { status: parseStatuses(status) }),
      ...(search !== undefined && { search }),
      ...(limit !== undefined && { limit: parseLimit(limit) }),
      ...(cursor !== undefined && { cursor: parseCursor(cursor) }),
      ...times,
      scanLimit: SCAN_LIMIT,
    };
    try {
      // A name is checked at run time against the definitions given (else a JobInputError).
      return await this.#queue.listJobs(options as ListJobsOptions<number>);
    } catch (error) {
      if (error instanceof JobInputError)
        throw new DashboardHttpError(
          400,
          "ERR_PQ_DASHBOARD_BAD_INPUT",
          error.message,
          error.field === "jobType" ? "type" : error.field, // the query's name for it
        );
      throw error;
    }
  }

  async job(idText: string) {
    const id = parseId(idText);
    const job = await this.#queue.getJob(id);
    if (!job)
      throw new DashboardHttpError(
        404,
        "ERR_PQ_DASHBOARD_NOT_FOUND",
        `no job has id ${id}; it was never added, or was removed or pruned.`,
      );
    return job;
  }

  /** One action on one job; never throws for the job's own state (see {@link ActionResult}). */
  async act(action: JobActionName, id: number): Promise<ActionResult> {
    try {
      const applied = await this.#queue[action](id);
      if (applied) return { id, outcome: "applied" };
      const job = await this.#queue.getJob(id);
      const status = job ? (JobStatus[job.status] ?? String(job.status)) : "gone";
      return {
        id,
        outcome: "skipped",
        message: `job ${id} is ${status}; ${action} applies to ${APPLIES_TO[action]}.`,
      };
    } catch (error) {
      if (error instanceof JobNotFoundError)
        return { id, outcome: "not-found", message: error.message };
      if (error instanceof JobRunningError)
        return { id, outcome: "running", message: error.message };
      if (error instanceof JobActionError)
        return { id, outcome: "conflict", message: error.message };
      throw error;
    }
  }

  /** One action on each of `ids`, one after another; a result per id, in order. */
  async bulk(action: JobActionName, ids: readonly number[]): Promise<ActionResult[]> {
    const results: ActionResult[] = [];
    for (const id of ids) results.push(await this.act(action, id));
    return results;
  }

  async setPaused(jobType: number, paused: boolean) {
    if (paused) await this.#queue.pause(jobType);
    else await this.#queue.resume(jobType);
    return { jobType, paused: await this.#queue.isPaused(jobType) };
  }

  schedules() {
    return this.#queue.listSchedules();
  }

  locks() {
    return listLocks(this.#db, { tables: this.#tables });
  }

  /** Lets a NOTIFY sent by cancel() or resume() go out; the DB stays open. */
  close(): Promise<void> {
    return this.#queue.stop({ timeoutMs: 5000 });
  }
}

/** The body of `POST api/jobs/bulk`: `{ action, ids }`. */
export function parseBulkBody(body: unknown): { action: JobActionName; ids: number[] } {
  if (body === null || typeof body !== "object" || Array.isArray(body))
    throw badInput("body", 'must be a JSON object: { "action": "retry", "ids": [1, 2] }.');
  const { action, ids } = body as { action?: unknown; ids?: unknown };
  if (typeof action !== "string" || !JOB_ACTIONS.includes(action as JobActionName))
    throw badInput(
      "action",
      `must be one of ${JOB_ACTIONS.join(", ")} (got ${JSON.stringify(action)}).`,
    );
  if (!Array.isArray(ids) || ids.length === 0 || ids.length > MAX_BULK_IDS)
    throw badInput("ids", `must be an array of 1 to ${MAX_BULK_IDS} job ids.`);
  return {
    action: action as JobActionName,
    ids: [...new Set(ids.map((id) => parseId(id, "ids")))],
  };
}
