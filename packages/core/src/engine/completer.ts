import type { EventEmitter } from "node:events";
import type { ResolvedJobConfig } from "../config.js";
import type { DB } from "../db.js";
import type { Dialect } from "../dialects/dialect.js";
import { execSql, querySql } from "../dialects/index.js";
import type { QueueEventMap } from "../events.js";
import type { Job } from "../job.js";
import { JobStatus } from "../job-status.js";
import type { Logger } from "../logger.js";
import {
  type Completion,
  completeJob,
  completeSucceeded,
  confirmSucceeded,
} from "../statements/jobs.js";
import { errorMessage, type RunOutcome } from "./run-handler.js";

/** What a {@link Completer} needs from its worker. */
export interface CompleterDeps {
  readonly db: DB;
  readonly dialect: Dialect;
  readonly table: string;
  readonly workerId: string;
  readonly config: ResolvedJobConfig;
  readonly logger: Logger;
  readonly events: EventEmitter<QueueEventMap>;
  readonly emitError: (error: unknown, during: string) => void;
}

interface PendingSuccess {
  readonly job: Job;
  readonly token: string;
  readonly durationMs: number;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/** Most successes written by one statement. */
const MAX_BATCH = 500;

const LOST =
  "the lease was lost before the run finished (it expired and another worker took the job over); this result is discarded";

/**
 * Writes the outcome of each run, fenced by its lease token. Successes — the
 * hot path — are batched: every success that finishes in the same turn of the
 * event loop is written by one statement, so a busy worker spends one round
 * trip (and one commit) per batch instead of per job. Other outcomes carry
 * per-job values (next run time, error) and are written one by one.
 */
export class Completer {
  readonly #d: CompleterDeps;
  #batch: PendingSuccess[] = [];
  #scheduled = false;

  constructor(deps: CompleterDeps) {
    this.#d = deps;
  }

  /** Resolves when the outcome is written, or known to be lost; rejects only if the database stayed away through every retry. */
  complete(job: Job, token: string, outcome: RunOutcome, durationMs: number): Promise<void> {
    if (outcome.status === JobStatus.Success) {
      return new Promise((resolve, reject) => {
        this.#batch.push({ job, token, durationMs, resolve, reject });
        if (this.#batch.length >= MAX_BATCH) void this.#flush();
        else if (!this.#scheduled) {
          this.#scheduled = true;
          setImmediate(() => void this.#flush());
        }
      });
    }
    return this.#completeOne(job, token, outcome, durationMs);
  }

  async #flush(): Promise<void> {
    this.#scheduled = false;
    const batch = this.#batch.splice(0, MAX_BATCH);
    if (batch.length === 0) return;
    if (this.#batch.length > 0 && !this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => void this.#flush());
    }
    const { db, dialect, table, events, logger } = this.#d;
    try {
      const jobs = batch.map((p) => ({ id: p.job.id, token: p.token }));
      const statement = completeSucceeded(
        dialect,
        table,
        jobs,
        dialect.capabilities.updateReturning,
      );
      let completed: Set<number>;
      if (dialect.capabilities.updateReturning) {
        const rows = await withRetries(this.#d, "complete", () =>
          querySql<{ id: unknown }>(db, dialect, statement),
        );
        completed = new Set(rows.map((r) => Number(r.id)));
      } else {
        const r = await withRetries(this.#d, "complete", () => execSql(db, dialect, statement));
        completed =
          r.affectedRows >= batch.length
            ? new Set(jobs.map((j) => j.id))
            : new Set(
                (
                  await querySql<{ id: unknown }>(
                    db,
                    dialect,
                    confirmSucceeded(dialect, table, jobs),
                  )
                ).map((row) => Number(row.id)),
              );
      }
      for (const p of batch) {
        if (completed.has(p.job.id))
          events.emit("completed", { job: p.job, durationMs: p.durationMs });
        else {
          logger.warn({ jobId: p.job.id, jobType: p.job.jobType }, LOST);
          events.emit("lost", { jobId: p.job.id, jobType: p.job.jobType, reason: LOST });
        }
        p.resolve();
      }
    } catch (error) {
      for (const p of batch) p.reject(error);
    }
  }

  async #completeOne(
    job: Job,
    token: string,
    outcome: Exclude<RunOutcome, { status: JobStatus.Success }>,
    durationMs: number,
  ) {
    const { config, events, logger, db, dialect, table } = this.#d;
    let completion: Completion;
    let announce: () => void;
    if (outcome.status === JobStatus.Continue) {
      completion = { id: job.id, token, status: JobStatus.Continue, runAfterMs: config.waitMs };
      announce = () => events.emit("continued", { job, delayMs: config.waitMs });
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
        };
        announce = () => events.emit("retrying", { job, error, delayMs });
      } else {
        const why =
          outcome.status === JobStatus.Retry && config.needRetry
            ? `gave up after ${job.attempts} attempts: ${errorMessage(error)}`
            : errorMessage(error);
        completion = { id: job.id, token, status: JobStatus.Failed, lastError: why.slice(0, 2000) };
        announce = () => events.emit("failed", { job, error, durationMs });
      }
    }
    const result = await withRetries(this.#d, "complete", () =>
      execSql(db, dialect, completeJob(dialect, table, completion)),
    );
    if (result.affectedRows === 1) {
      announce();
      return;
    }
    logger.warn({ jobId: job.id, jobType: job.jobType }, LOST);
    events.emit("lost", { jobId: job.id, jobType: job.jobType, reason: LOST });
  }
}

/** Retries a bookkeeping write a few times: a dropped connection should not cost a job its result. */
export async function withRetries<T>(
  deps: Pick<CompleterDeps, "emitError">,
  what: string,
  fn: () => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (attempt >= 6) throw error;
      deps.emitError(error, what);
      await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
    }
  }
}
