import { createHash } from "node:crypto";
import type { EventEmitter } from "node:events";
import type { ResolvedJobConfig } from "../config.js";
import type { DB, Row } from "../db.js";
import type { ClaimParams, Dialect } from "../dialects/dialect.js";
import { execSql, querySql } from "../dialects/index.js";
import type { QueueEventMap } from "../events.js";
import type { Job, JobContext } from "../job.js";
import { JobStatus } from "../job-status.js";
import type { ShedLock } from "../lock/shed-lock.js";
import type { Logger } from "../logger.js";
import {
  type Completion,
  completeJob,
  extendLeases,
  nextDue,
  releaseJob,
  rescueExpired,
  selectClaimed,
  stillLeased,
} from "../statements/jobs.js";
import { makeToken } from "../worker-id.js";
import { errorMessage, type RunOutcome, runHandler } from "./run-handler.js";
import { toJob } from "./to-job.js";

/** What a {@link TypeWorker} needs from its queue. */
export interface TypeWorkerDeps {
  readonly db: DB;
  readonly dialect: Dialect;
  readonly table: string;
  readonly workerId: string;
  readonly config: ResolvedJobConfig;
  readonly logger: Logger;
  readonly events: EventEmitter<QueueEventMap>;
  readonly pollMs: number;
  readonly locks: ShedLock;
}

/** A job this worker holds. */
interface Held {
  readonly job: Job;
  readonly token: string;
  readonly abort: AbortController;
  state: "running" | "completing" | "released";
  done: Promise<void>;
}

const MIN_IDLE_MS = 10;

/**
 * Runs one job type in this process: claims due jobs in batches up to the
 * free capacity, runs their handlers, writes fenced completions, heartbeats
 * the leases of running jobs, and (under a cluster-wide ShedLock, once per
 * interval) rescues jobs whose lease expired.
 */
export class TypeWorker {
  readonly #d: TypeWorkerDeps;
  readonly #held = new Map<number, Held>();
  #minInitId = 0;
  #stopping = false;
  #loop: Promise<void> | undefined;
  #wakeUp: (() => void) | undefined;
  #wakePending = false;
  #timers: NodeJS.Timeout[] = [];
  #idleMs = MIN_IDLE_MS;

  constructor(deps: TypeWorkerDeps) {
    this.#d = deps;
  }

  /** Jobs this worker holds right now (running or being completed). */
  get held(): number {
    return this.#held.size;
  }

  /** Starts claiming. `minInitId` is the firstPullDay cut-off for never-run jobs. */
  start(minInitId: number): void {
    this.#minInitId = minInitId;
    const { leaseMs } = this.#d.config;
    this.#every(Math.max(50, Math.floor(leaseMs / 3)), () => this.#heartbeat(), "heartbeat");
    this.#every(
      Math.min(30_000, Math.max(250, Math.floor(leaseMs / 2))),
      () => this.#rescue(),
      "rescue",
    );
    this.#loop = this.#run();
  }

  /** Claims again now (a job was added, or a notification came). */
  wake(): void {
    this.#idleMs = MIN_IDLE_MS;
    if (this.#wakeUp) this.#wakeUp();
    else this.#wakePending = true;
  }

  /**
   * Stops claiming, waits up to `timeoutMs` for running handlers, then aborts
   * the rest and hands their jobs back (claimable again at once), and waits
   * for completions being written.
   */
  async stop(timeoutMs: number): Promise<void> {
    this.#stopping = true;
    this.wake();
    await this.#loop;
    const deadline = Date.now() + timeoutMs;
    while (this.#held.size > 0 && Date.now() < deadline) {
      await Promise.race([
        Promise.race([...this.#held.values()].map((h) => h.done)),
        new Promise((r) => setTimeout(r, Math.max(0, deadline - Date.now()))),
      ]);
    }
    const unfinished = [...this.#held.entries()].filter(([, h]) => h.state === "running");
    for (const [id, held] of unfinished) {
      held.state = "released";
      held.abort.abort(new Error("the queue is stopping"));
      await this.#write("release", () =>
        execSql(
          this.#d.db,
          this.#d.dialect,
          releaseJob(
            this.#d.dialect,
            this.#d.table,
            id,
            held.token,
            "released: the worker stopped before the handler finished",
          ),
        ),
      ).catch(() => undefined); // the lease expires on its own and the job is rescued
      this.#held.delete(id);
      this.#d.logger.warn(
        { jobId: id, jobType: this.#d.config.jobType },
        "job handed back at shutdown; it will run again",
      );
    }
    await Promise.allSettled([...this.#held.values()].map((h) => h.done));
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
  }

  async #run(): Promise<void> {
    const { config, logger } = this.#d;
    let failures = 0;
    while (!this.#stopping) {
      try {
        const free = Math.min(config.capacity, config.queueMaxSize) - this.#held.size;
        if (free <= 0) {
          await this.#sleep(this.#d.pollMs); // a finishing job wakes us
          continue;
        }
        const limit = Math.min(free, config.loadLimit);
        const claimed = await this.#claim(limit);
        failures = 0;
        for (const { row, token } of claimed) this.#start(row, token);
        if (claimed.length === limit) continue; // there may be more
        const [due] = await querySql<{ wait: unknown }>(
          this.#d.db,
          this.#d.dialect,
          nextDue(this.#d.dialect, this.#d.table, config.jobType, this.#minInitId),
        );
        const wait =
          due?.wait === null || due?.wait === undefined
            ? Number.POSITIVE_INFINITY
            : Number(due.wait);
        const sleep = Math.max(MIN_IDLE_MS, Math.min(this.#idleMs, this.#d.pollMs, wait));
        this.#idleMs = Math.min(this.#idleMs * 2, this.#d.pollMs);
        await this.#sleep(sleep);
      } catch (error) {
        failures++;
        const backoff = Math.min(5000, 100 * 2 ** Math.min(failures, 6));
        logger.error(
          { jobType: config.jobType, err: errorMessage(error) },
          `claim failed; retrying in ${backoff} ms`,
        );
        this.#emitError(error, "claim");
        await this.#sleep(backoff);
      }
    }
  }

  async #claim(limit: number): Promise<{ row: Row; token: string }[]> {
    const { db, dialect, table, config, workerId } = this.#d;
    const token = makeToken();
    const params: ClaimParams = {
      table,
      jobType: config.jobType,
      minInitId: this.#minInitId,
      limit,
      token,
      leaseMs: config.leaseMs,
      workerId,
    };
    const statement = dialect.claimJobs(params);
    let rows: Row[];
    if (dialect.capabilities.updateReturning) {
      rows = await querySql(db, dialect, statement);
    } else {
      const result = await execSql(db, dialect, statement);
      rows =
        result.affectedRows === 0
          ? []
          : await querySql(db, dialect, selectClaimed(dialect, table, token));
    }
    return rows.map((row) => ({ row, token }));
  }

  #start(row: Row, token: string): void {
    const { config, logger } = this.#d;
    const abort = new AbortController();
    const parsed = toJob(row);
    const held: Held = { job: parsed.job, token, abort, state: "running", done: Promise.resolve() };
    this.#held.set(parsed.job.id, held);
    held.done = (async () => {
      const started = performance.now();
      let outcome: RunOutcome;
      if (parsed.error !== undefined) {
        outcome = { status: JobStatus.Failed, error: parsed.error };
      } else {
        const invalid = await this.#validate(parsed.job);
        const ctx: JobContext = { signal: abort.signal, logger };
        outcome = invalid
          ? { status: JobStatus.Failed, error: invalid }
          : await runHandler(config, parsed.job, ctx, abort);
      }
      if (held.state === "released") return;
      held.state = "completing";
      await this.#complete(held, outcome, performance.now() - started);
    })()
      .catch((error) => {
        logger.error(
          { jobId: parsed.job.id, err: errorMessage(error) },
          "job bookkeeping failed; the lease will expire and the job run again",
        );
        this.#emitError(error, "complete");
      })
      .finally(() => {
        if (held.state !== "released") this.#held.delete(parsed.job.id);
        this.wake();
      });
  }

  async #validate(job: Job): Promise<Error | undefined> {
    const schema = this.#d.config.schema;
    if (!schema) return undefined;
    const result = await schema["~standard"].validate(job.params);
    if (result.issues) {
      return new TypeError(
        `params do not match the job type's schema: ${result.issues.map((i) => i.message).join("; ")}`,
      );
    }
    (job as { params: unknown }).params = result.value;
    return undefined;
  }

  async #complete(held: Held, outcome: RunOutcome, durationMs: number): Promise<void> {
    const { config, events, logger } = this.#d;
    const { job, token } = held;
    let completion: Completion;
    let announce: () => void;
    if (outcome.status === JobStatus.Success) {
      completion = { id: job.id, token, status: JobStatus.Success };
      announce = () => events.emit("completed", { job, durationMs });
    } else if (outcome.status === JobStatus.Continue) {
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
    const result = await this.#write("complete", () =>
      execSql(this.#d.db, this.#d.dialect, completeJob(this.#d.dialect, this.#d.table, completion)),
    );
    if (result.affectedRows === 1) {
      announce();
      return;
    }
    const reason =
      "the lease was lost before the run finished (it expired and another worker took the job over); this result is discarded";
    logger.warn({ jobId: job.id, jobType: job.jobType }, reason);
    events.emit("lost", { jobId: job.id, jobType: job.jobType, reason });
  }

  /** Extends the leases of held jobs; aborts the handlers of jobs whose lease is gone. */
  async #heartbeat(): Promise<void> {
    const held = [...this.#held.entries()].filter(([, h]) => h.state !== "released");
    if (held.length === 0) return;
    const { db, dialect, table, config } = this.#d;
    const ids = held.map(([id]) => id);
    const tokens = [...new Set(held.map(([, h]) => h.token))];
    const r = await execSql(db, dialect, extendLeases(dialect, table, ids, tokens, config.leaseMs));
    if (r.affectedRows >= ids.length) return;
    const alive = new Set(
      (await querySql<{ id: unknown }>(db, dialect, stillLeased(dialect, table, ids, tokens))).map(
        (row) => Number(row.id),
      ),
    );
    for (const [id, h] of held) {
      if (!alive.has(id) && h.state === "running") {
        h.abort.abort(new Error("the job's lease was lost"));
        this.#d.logger.warn(
          { jobId: id, jobType: config.jobType },
          "lease lost while running; the handler's signal is aborted",
        );
      }
    }
  }

  /** Once per interval in the whole cluster: expired leases become claimable again, or failed. */
  async #rescue(): Promise<void> {
    const { db, dialect, table, config, locks, logger } = this.#d;
    const interval = Math.min(30_000, Math.max(250, Math.floor(config.leaseMs / 2)));
    const name = `pq-rescue-${config.jobType}-${createHash("md5").update(table).digest("hex").slice(0, 16)}`;
    const got = await locks.tryLock(name, {
      lockAtMostFor: interval,
      lockAtLeastFor: Math.floor(interval * 0.8),
    });
    if (!got) return;
    try {
      const r = await execSql(
        db,
        dialect,
        rescueExpired(dialect, table, config.jobType, config.attemptLimit),
      );
      if (r.affectedRows > 0) {
        logger.warn(
          { jobType: config.jobType, count: r.affectedRows },
          "rescued jobs whose lease expired",
        );
        this.wake();
      }
    } finally {
      await locks.unlock(name);
    }
  }

  /** Retries a bookkeeping write a few times: a dropped connection should not cost a job its result. */
  async #write<T>(what: string, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (error) {
        if (attempt >= 6) throw error;
        this.#emitError(error, what);
        await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
      }
    }
  }

  #every(ms: number, fn: () => Promise<void>, what: string): void {
    let busy = false;
    const timer = setInterval(() => {
      if (busy) return;
      busy = true;
      fn()
        .catch((error) => {
          this.#d.logger.warn(
            { jobType: this.#d.config.jobType, err: errorMessage(error) },
            `${what} failed; trying again`,
          );
          this.#emitError(error, what);
        })
        .finally(() => {
          busy = false;
        });
    }, ms);
    timer.unref?.();
    this.#timers.push(timer);
  }

  #sleep(ms: number): Promise<void> {
    if (this.#wakePending || this.#stopping) {
      this.#wakePending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#wakeUp = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wakeUp = done;
    });
  }

  #emitError(error: unknown, during: string): void {
    if (this.#d.events.listenerCount("error") > 0)
      this.#d.events.emit("error", { error, during, jobType: this.#d.config.jobType });
  }
}
