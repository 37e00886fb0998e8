import type { EventEmitter } from "node:events";
import type { Completion } from "../dialects/dialect.js";
import type { QueueEventMap } from "../events.js";
import { emitSafely } from "../events.js";
import type { Job } from "../job.js";
import { JobStatus } from "../job-status.js";
import { RateLimitedError } from "../rate-limited.js";
import { backOffJob } from "./back-off.js";
import { MIN_ATTEMPTS, MIN_RETRY_MS, retryWrite } from "./retry-write.js";
import { errorMessage, type RunOutcome } from "./run-handler.js";
import type { TypeContext } from "./type-context.js";

/** What a {@link Completer} needs from its worker. */
export interface CompleterDeps extends TypeContext {
  readonly events: EventEmitter<QueueEventMap>;
  readonly emitError: (error: unknown, during: string) => void;
  /**
   * Jobs whose final outcome (Success, Failed) was just written: wakes `waitFor()`
   * callers and counts them in the finished-job counters.
   */
  readonly finished?:
    | ((ids: readonly number[], status: JobStatus.Success | JobStatus.Failed) => void)
    | undefined;
}

interface PendingSuccess {
  readonly job: Job;
  readonly token: string;
  readonly durationMs: number;
  /** The run's result as JSON text, if it returned one. */
  readonly result: string | undefined;
  /** performance.now() after which the write is given up (the lease's end). */
  readonly deadline: number;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/** Most successes written by one statement. */
const MAX_BATCH = 500;
/**
 * Most bytes of results one statement carries (a single larger result goes
 * alone): MySQL refuses a statement over its max_allowed_packet (16 MiB on
 * MariaDB 10.11 by default), and 500 results of 64 KiB would be 32 MiB.
 */
const MAX_BATCH_RESULT_CHARS = 1 << 20;

const LOST =
  "the lease was lost before the run finished (it expired and another worker took the job over); this result is discarded";

const key = (id: unknown, token: unknown) => `${Number(id)}:${String(token)}`;

/**
 * Writes the outcome of each run, fenced by its lease token. Successes — the
 * hot path — are batched: every success that finishes in the same turn of the
 * event loop is written by one statement, so a busy worker spends one round
 * trip (and one commit) per batch instead of per job. Other outcomes carry
 * per-job values (next run time, error) and are written one by one. Every
 * write is retried while the job's lease lasts (see {@link retryWrite}), and
 * runs are told apart by (id, token): a stale and a fresh run of one job never
 * both count as completed.
 */
export class Completer {
  readonly #d: CompleterDeps;
  #batch: PendingSuccess[] = [];
  /** Characters of results in {@link #batch}. */
  #batchChars = 0;
  #scheduled = false;

  constructor(deps: CompleterDeps) {
    this.#d = deps;
  }

  /**
   * Resolves when the outcome is written, or known to be lost; rejects only if
   * the database stayed away until `deadline` (performance.now() ms, the
   * lease's end; retries go on for at least {@link MIN_RETRY_MS}).
   */
  complete(
    job: Job,
    token: string,
    outcome: RunOutcome,
    durationMs: number,
    deadline: number,
  ): Promise<void> {
    const until = Math.max(deadline, performance.now() + MIN_RETRY_MS);
    if (outcome.status === JobStatus.Success) {
      return new Promise((resolve, reject) => {
        const { result } = outcome;
        if (result !== undefined) {
          if (this.#batchChars + result.length > MAX_BATCH_RESULT_CHARS && this.#batch.length > 0)
            void this.#flush();
          this.#batchChars += result.length;
        }
        this.#batch.push({ job, token, durationMs, result, deadline: until, resolve, reject });
        if (this.#batch.length >= MAX_BATCH || this.#batchChars >= MAX_BATCH_RESULT_CHARS)
          void this.#flush();
        else if (!this.#scheduled) {
          this.#scheduled = true;
          setImmediate(() => void this.#flush());
        }
      });
    }
    return this.#completeOne(job, token, outcome, durationMs, until);
  }

  /**
   * A run whose outcome is not written (`cancel()` ended it): logged, and
   * announced as "lost" with `reason`.
   */
  discard(job: Job, reason: string): void {
    const { events, logger } = this.#d;
    logger.info({ jobId: job.id, jobType: job.jobType }, `result discarded: ${reason}`);
    emitSafely(events, logger, "lost", { jobId: job.id, jobType: job.jobType, reason });
  }

  /** A completion write (or its confirmation), retried as {@link retryWrite} says, with {@link MIN_ATTEMPTS}. */
  #write<T>(deadline: number, fn: () => Promise<T>) {
    return retryWrite(this.#d, "complete", deadline, fn, MIN_ATTEMPTS);
  }

  async #flush(): Promise<void> {
    this.#scheduled = false;
    const batch = this.#batch.splice(0, MAX_BATCH);
    this.#batchChars = 0;
    for (const p of this.#batch) this.#batchChars += p.result?.length ?? 0;
    if (batch.length === 0) return;
    if (this.#batch.length > 0 && !this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => void this.#flush());
    }
    const { db, dialect, table, events, logger } = this.#d;
    const deadline = Math.max(...batch.map((p) => p.deadline));
    try {
      const jobs = batch.map((p) => ({ id: p.job.id, token: p.token, result: p.result }));
      const r = await this.#write(deadline, () =>
        dialect.statements.completeSucceeded(db, table, jobs),
      );
      const completed = new Set(r.value.completed.map((j) => key(j.id, j.token)));
      // Fewer than the batch: some leases were lost — or (a result that only counts
      // rows, or a retry after a lost reply) the statement cannot say which. Ask by
      // (id, token).
      if (completed.size < batch.length && (!r.value.exact || r.retried)) {
        const confirmed = await this.#write(deadline, () =>
          dialect.statements.confirmSucceeded(db, table, jobs),
        );
        for (const j of confirmed.value) completed.add(key(j.id, j.token));
      }
      const finished: number[] = [];
      for (const p of batch) {
        if (completed.delete(key(p.job.id, p.token))) {
          finished.push(p.job.id);
          emitSafely(events, logger, "completed", { job: p.job, durationMs: p.durationMs });
        } else {
          logger.warn({ jobId: p.job.id, jobType: p.job.jobType }, LOST);
          emitSafely(events, logger, "lost", {
            jobId: p.job.id,
            jobType: p.job.jobType,
            reason: LOST,
          });
        }
        p.resolve();
      }
      if (finished.length > 0) this.#d.finished?.(finished, JobStatus.Success);
    } catch (error) {
      for (const p of batch) p.reject(error);
    }
  }

  async #completeOne(
    job: Job,
    token: string,
    outcome: Exclude<RunOutcome, { status: JobStatus.Success }>,
    durationMs: number,
    deadline: number,
  ) {
    const { config, events, logger, db, dialect, table } = this.#d;
    let completion: Completion;
    let announce: () => void;
    const { result } = outcome;
    if (outcome.status === JobStatus.Continue) {
      completion = {
        id: job.id,
        token,
        status: JobStatus.Continue,
        runAfterMs: config.waitMs,
        result,
      };
      announce = () => emitSafely(events, logger, "continued", { job, delayMs: config.waitMs });
    } else if (outcome.error instanceof RateLimitedError) {
      // A remote rate limit: the type (or group) backs off, and this job waits as a
      // Continue re-run for as long (a Continue re-run counts no attempt).
      const error = outcome.error;
      let delayMs = error.retryAfterMs;
      try {
        delayMs = await backOffJob(this.#d, job, error.retryAfterMs, error.scope);
      } catch (cause) {
        // No group to back off, or the database refused: the job still waits, and says why.
        logger.warn(
          { jobId: job.id, jobType: job.jobType, err: errorMessage(cause) },
          "RateLimitedError: the back-off was not written; the job waits as a Continue re-run",
        );
      }
      completion = {
        id: job.id,
        token,
        status: JobStatus.Continue,
        runAfterMs: delayMs,
        lastError: errorMessage(error),
        result,
      };
      announce = () => emitSafely(events, logger, "continued", { job, delayMs });
    } else {
      const { error } = outcome;
      const retry =
        outcome.status === JobStatus.Retry && config.needRetry && job.attempts <= config.maxRetries;
      if (retry) {
        const delayMs = config.backoff(job.attempts + 1, error);
        completion = {
          id: job.id,
          token,
          status: JobStatus.Retry,
          runAfterMs: delayMs,
          lastError: errorMessage(error),
          result,
        };
        announce = () => emitSafely(events, logger, "retrying", { job, error, delayMs });
      } else {
        const why =
          outcome.status === JobStatus.Retry && config.needRetry
            ? `gave up after ${job.attempts} attempts: ${errorMessage(error)}`
            : errorMessage(error);
        completion = {
          id: job.id,
          token,
          status: JobStatus.Failed,
          lastError: why.slice(0, 2000),
          result,
        };
        announce = () => emitSafely(events, logger, "failed", { job, error, durationMs });
      }
    }
    const write = await this.#write(deadline, () =>
      dialect.statements.complete(db, table, completion),
    );
    let written = write.value === 1;
    if (!written && write.retried) {
      // An earlier attempt may have committed with its reply lost.
      const confirmed = await this.#write(deadline, () =>
        dialect.statements.confirmCompleted(db, table, completion),
      );
      written = confirmed.value;
    }
    if (written) {
      announce();
      if (completion.status === JobStatus.Failed) this.#d.finished?.([job.id], JobStatus.Failed);
      return;
    }
    logger.warn({ jobId: job.id, jobType: job.jobType }, LOST);
    emitSafely(events, logger, "lost", { jobId: job.id, jobType: job.jobType, reason: LOST });
  }
}
