import type { DB, Unlisten } from "./db.js";
import type { Dialect } from "./dialects/dialect.js";
import { querySql } from "./dialects/sql.js";
import { type Duration, parseDuration } from "./duration.js";
import { parseOutput } from "./engine/job-output.js";
import { dbErrorMessage } from "./engine/redact.js";
import { PersistentQueueError } from "./errors.js";
import { JobNotFoundError } from "./job-actions.js";
import { FINAL_STATUSES, JobStatus } from "./job-status.js";
import type { Logger } from "./logger.js";
import { selectOutcome } from "./statements/jobs.js";

/** Options of {@link PersistentQueue.waitFor}. */
export interface WaitForOptions<K = never> {
  /** How long to wait for the job to end. Default "30s". */
  readonly timeout?: Duration;
  /**
   * The job's type (integer, name or definition): types `result`, and a job
   * of another type is not found ({@link JobNotFoundError}), as with `getJob(id, jobType)`.
   */
  readonly jobType?: K;
}

/** A status a job ends in (see `FINAL_STATUSES`). */
export type FinalStatus = JobStatus.Success | JobStatus.Failed | JobStatus.Cancelled;

/** How a job ended, as {@link PersistentQueue.waitFor} resolves it. */
export interface JobOutcome<R = unknown> {
  readonly status: FinalStatus;
  /** The result its last run returned (parsed JSON), or undefined; not validated. */
  readonly result: R | undefined;
  /** For Failed and Cancelled: why (`last_error`), or null; always null for Success. */
  readonly error: string | null;
}

/**
 * `waitFor()` gave up: job `jobId` did not end within `timeoutMs`. The job
 * itself goes on; `lastStatus` is the status last read.
 */
export class WaitTimeoutError extends PersistentQueueError {
  readonly jobId: number;
  readonly lastStatus: JobStatus;
  readonly timeoutMs: number;

  constructor(jobId: number, lastStatus: JobStatus, timeoutMs: number) {
    super(
      "ERR_PQ_WAIT_TIMEOUT",
      `job ${jobId} did not finish within ${timeoutMs} ms (last seen ${JobStatus[lastStatus] ?? lastStatus}); it goes on running: wait again, or pass a longer { timeout }.`,
    );
    this.jobId = jobId;
    this.lastStatus = lastStatus;
    this.timeoutMs = timeoutMs;
  }
}

/** What {@link Waiters} needs from its queue. */
export interface WaitersDeps {
  /** The user's DB: reads are the caller's own calls, like getJob(); LISTEN holds a connection of its own. */
  readonly db: DB;
  readonly table: string;
  /** The channel completions are announced on (PostgreSQL). */
  readonly channel: string;
  readonly logger: Logger;
  readonly dialect: () => Promise<Dialect>;
  readonly checkSchema: () => Promise<void>;
  /** LISTEN may be used now (notify on, queue not stopping or stopped). */
  readonly mayListen: () => boolean;
}

/** Polling without LISTEN: 10 ms, doubling up to 1 s. */
const POLL_FIRST_MS = 10;
const POLL_MAX_MS = 1000;
/** With LISTEN the notification wakes a waiter; reads only catch what no one announced (a rescue, a Go poller, plain SQL). */
const LISTENING_FIRST_MS = 1000;
const LISTENING_MAX_MS = 5000;
/** A subscription outlives its last waiter this long, so that a burst of waitFor() calls shares one. */
const LINGER_MS = 2000;
/** After a failed LISTEN, waiters poll and subscribing is tried again after this long. */
const RESUBSCRIBE_MS = 5000;

/**
 * The queue's `waitFor()` calls: each reads its job's status (by primary key)
 * until it is final, sleeping with back-off in between. A waiter is woken
 * early when this process writes the job's outcome, and on PostgreSQL when
 * any process announces it on the completion channel (one LISTEN shared by
 * every waiter of the queue, held while someone waits).
 */
export class Waiters {
  readonly #d: WaitersDeps;
  /** Wake-ups of the waiters, by job id. */
  readonly #waiting = new Map<number, Set<() => void>>();
  #count = 0;
  #subscription: Promise<Unlisten | undefined> | undefined;
  #listening = false;
  #retryAt = 0;
  #linger: NodeJS.Timeout | undefined;

  constructor(deps: WaitersDeps) {
    this.#d = deps;
  }

  /** Resolves how job `id` ended; see {@link PersistentQueue.waitFor}. */
  async wait(id: number, timeout: Duration | undefined, jobType?: number): Promise<JobOutcome> {
    const timeoutMs = parseDuration("waitFor timeout", timeout ?? 30_000);
    const deadline = performance.now() + timeoutMs;
    const { db, table } = this.#d;
    const dialect = await this.#d.dialect();
    await this.#d.checkSchema();
    let woken = false;
    let interrupt: (() => void) | undefined;
    const wake = () => {
      woken = true;
      interrupt?.();
    };
    this.#add(id, wake);
    try {
      let delay = 0;
      for (;;) {
        const listening = await this.#subscribe(dialect);
        woken = false;
        const [row] = await querySql(db, dialect, selectOutcome(dialect, table, id));
        if (!row || (jobType !== undefined && Number(row.job_type) !== jobType))
          throw new JobNotFoundError(
            "waitFor",
            id,
            jobType === undefined ? table : `${table} with job type ${jobType}`,
          );
        const status = Number(row.job_status) as JobStatus;
        if (FINAL_STATUSES.includes(status)) {
          const lastError = row.last_error === null || row.last_error === undefined;
          return {
            status: status as FinalStatus,
            result: parseOutput(row.result),
            error: status === JobStatus.Success || lastError ? null : String(row.last_error),
          };
        }
        const left = deadline - performance.now();
        if (left <= 0) throw new WaitTimeoutError(id, status, timeoutMs);
        delay = listening
          ? Math.min(Math.max(delay * 2, LISTENING_FIRST_MS), LISTENING_MAX_MS)
          : Math.min(Math.max(delay * 2, POLL_FIRST_MS), POLL_MAX_MS);
        if (!woken) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, Math.min(delay, left));
            interrupt = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          interrupt = undefined;
        }
      }
    } finally {
      this.#remove(id, wake);
    }
  }

  /** This process wrote the final outcome of `ids` (or a notification said another did). */
  wake(ids: Iterable<number>): void {
    if (this.#count === 0) return;
    for (const id of ids) for (const wake of this.#waiting.get(id) ?? []) wake();
  }

  /** Ends the subscription (stop()); waiters go on polling. Never rejects. */
  async close(): Promise<void> {
    clearTimeout(this.#linger);
    await this.#unlisten();
  }

  #wakeAll(): void {
    for (const set of this.#waiting.values()) for (const wake of set) wake();
  }

  #add(id: number, wake: () => void): void {
    clearTimeout(this.#linger);
    this.#linger = undefined;
    let set = this.#waiting.get(id);
    if (!set) {
      set = new Set();
      this.#waiting.set(id, set);
    }
    set.add(wake);
    this.#count++;
  }

  #remove(id: number, wake: () => void): void {
    const set = this.#waiting.get(id);
    set?.delete(wake);
    if (set?.size === 0) this.#waiting.delete(id);
    if (--this.#count === 0 && this.#subscription) {
      this.#linger = setTimeout(() => void this.#unlisten(), LINGER_MS);
      this.#linger.unref?.();
    }
  }

  async #unlisten(): Promise<void> {
    const subscription = this.#subscription;
    this.#subscription = undefined;
    this.#listening = false;
    const unlisten = await subscription?.catch(() => undefined);
    await unlisten?.().catch(() => undefined);
  }

  /** True while the completion channel is subscribed; subscribes where it can. */
  async #subscribe(dialect: Dialect): Promise<boolean> {
    const { db, channel, logger } = this.#d;
    if (!this.#subscription) {
      if (
        !db.listen ||
        !dialect.statements.notify ||
        !this.#d.mayListen() ||
        performance.now() < this.#retryAt
      )
        return false;
      const subscription = db
        .listen(
          channel,
          (payload) => {
            if (payload === "*") this.#wakeAll();
            else this.wake(payload.split(",").map(Number));
          },
          (error) => {
            if (this.#subscription !== subscription) return;
            logger.warn(
              { err: dbErrorMessage(error) },
              "waitFor(): LISTEN connection lost; polling",
            );
            this.#subscription = undefined;
            this.#listening = false;
            this.#retryAt = performance.now() + RESUBSCRIBE_MS;
            this.#wakeAll(); // to poll at the faster rate
          },
        )
        .then(
          async (unlisten) => {
            // stop() began meanwhile, or the last waiter left and the subscription was dropped.
            if (this.#subscription !== subscription || !this.#d.mayListen()) {
              await unlisten().catch(() => undefined);
              return undefined;
            }
            this.#listening = true;
            return unlisten;
          },
          (error: unknown) => {
            logger.warn(
              { err: dbErrorMessage(error) },
              "waitFor(): LISTEN failed; polling instead",
            );
            if (this.#subscription === subscription) this.#subscription = undefined;
            this.#retryAt = performance.now() + RESUBSCRIBE_MS;
            return undefined;
          },
        );
      this.#subscription = subscription;
    }
    await this.#subscription;
    return this.#listening;
  }
}
