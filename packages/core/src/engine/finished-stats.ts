import type { DB } from "../db.js";
import type { Dialect } from "../dialects/dialect.js";
import { execSql } from "../dialects/index.js";
import { upsert } from "../flow-control.js";
import type { JobStatus } from "../job-status.js";
import type { Logger } from "../logger.js";
import { addToStatsRow, deleteStatsBefore, insertStatsRow } from "../statements/job-stats.js";
import { errorMessage } from "./run-handler.js";

/** How often a queue adds its finished jobs to the counters. */
export const STATS_FLUSH_MS = 5_000;
/** How long counters are kept: the overview charts a day. */
export const STATS_KEEP_SEC = 2 * 86_400;
/** How often a process deletes counters older than {@link STATS_KEEP_SEC}. */
const STATS_CLEANUP_MS = 3_600_000;

/** What {@link FinishedStats} needs from its queue. */
export interface FinishedStatsDeps {
  readonly db: DB;
  readonly dialect: Dialect;
  /** The job-stats table. */
  readonly table: string;
  /** The job table's name: the counters' scope. */
  readonly scope: string;
  readonly logger: Logger;
}

interface Pending {
  readonly jobType: number;
  readonly status: JobStatus;
  readonly minuteStart: number;
  n: number;
}

/**
 * This process's finished jobs (Success, Failed) per type, status and minute,
 * added to the job-stats table every {@link STATS_FLUSH_MS} and at stop: two
 * short statements per counter row at most, whatever the number of jobs, and
 * nothing in the completion's own statement. Counts that could not be written
 * (the database away) are kept and added at the next flush. A process that
 * crashes loses at most its last few seconds of counts: they are a throughput
 * measure, never the record of a job's outcome (the job's row is).
 */
export class FinishedStats {
  readonly #d: FinishedStatsDeps;
  readonly #pending = new Map<string, Pending>();
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> | undefined;
  #cleanedAt = 0;
  #warned = false;

  constructor(deps: FinishedStatsDeps) {
    this.#d = deps;
  }

  /** `n` jobs of `jobType` just ended in `status` (their outcome is written). */
  record(jobType: number, status: JobStatus, n: number, nowMs = Date.now()): void {
    const minuteStart = Math.floor(nowMs / 60_000) * 60;
    const key = `${jobType}/${status}/${minuteStart}`;
    const row = this.#pending.get(key);
    if (row) row.n += n;
    else this.#pending.set(key, { jobType, status, minuteStart, n });
  }

  start(): void {
    this.#timer ??= setInterval(() => void this.flush(), STATS_FLUSH_MS);
    this.#timer.unref();
  }

  /** Stops the timer and writes what is pending. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.flush();
  }

  /** Adds the pending counts to the table; one flush at a time. */
  flush(): Promise<void> {
    this.#flushing ??= this.#write().finally(() => {
      this.#flushing = undefined;
    });
    return this.#flushing;
  }

  async #write(): Promise<void> {
    const { db, dialect, table, scope, logger } = this.#d;
    const rows = [...this.#pending.values()];
    this.#pending.clear();
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      const k = { scope, jobType: r.jobType, status: r.status, minuteStart: r.minuteStart };
      try {
        await upsert(db, dialect, addToStatsRow(table, k, r.n), insertStatsRow(table, k, r.n));
      } catch (error) {
        // Kept for the next flush; an update that committed with its reply lost may count twice.
        for (const left of rows.slice(i))
          this.record(left.jobType, left.status, left.n, left.minuteStart * 1000);
        if (!this.#warned)
          logger.warn(
            { table, err: errorMessage(error) },
            "finished-job counters not written; kept for the next try (the dashboard's throughput lags meanwhile)",
          );
        this.#warned = true;
        return;
      }
    }
    this.#warned = false;
    const now = Date.now();
    if (rows.length > 0 && now - this.#cleanedAt > STATS_CLEANUP_MS) {
      this.#cleanedAt = now;
      try {
        await execSql(
          db,
          dialect,
          deleteStatsBefore(table, scope, Math.floor(now / 1000) - STATS_KEEP_SEC),
        );
      } catch (error) {
        logger.warn({ table, err: errorMessage(error) }, "old finished-job counters not deleted");
      }
    }
  }
}
