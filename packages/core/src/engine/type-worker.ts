import type { EventEmitter } from "node:events";
import type { ResolvedJobConfig } from "../config.js";
import type { DB, Row } from "../db.js";
import type { ClaimParams, Dialect, StaleCutoff } from "../dialects/dialect.js";
import { execSql, querySql } from "../dialects/index.js";
import { emitSafely, type QueueEventMap } from "../events.js";
import type { Job, JobContext } from "../job.js";
import { JobStatus } from "../job-status.js";
import type { ShedLock } from "../lock/shed-lock.js";
import type { Logger } from "../logger.js";
import { chunks, nextDue, releaseJobs, selectOwnRunning } from "../statements/jobs.js";
import { makeToken } from "../worker-id.js";
import { Completer } from "./completer.js";
import { extendHeldLeases, rescueExpiredLeases, rescueInterval } from "./leases.js";
import { dbErrorMessage, redactError } from "./redact.js";
import { MIN_RETRY_MS, retryWrite } from "./retry-write.js";
import { errorMessage, type RunOutcome, runHandler } from "./run-handler.js";
import { QueueClosedError } from "./statement-guard.js";
import { toJob } from "./to-job.js";

/** What a {@link TypeWorker} needs from its queue. */
export interface TypeWorkerDeps {
  /** The queue's guarded view of the user's DB (see StatementGuard): refuses statements once the queue stopped. */
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
  /** queued: claimed, waiting for a free slot; running: in the handler; completing: writing its outcome. */
  state: "queued" | "running" | "completing" | "released";
  /** Set for a job parsed badly (invalid JSON): it is failed without running. */
  readonly parseError: Error | undefined;
  /** performance.now() when the lease was last known good: the claim or a heartbeat was sent then. */
  leaseSince: number;
  done: Promise<void>;
}

const MIN_IDLE_MS = 10;
/** Part of a lease after which a job's lease, not confirmed since, is no longer trusted to start it. */
const LEASE_TRUST = 0.8;
const INIT_FIRST = [JobStatus.Init, JobStatus.Retry, JobStatus.Continue] as const;
const RETRIES_FIRST = [JobStatus.Retry, JobStatus.Continue, JobStatus.Init] as const;

/**
 * Runs one job type in this process: claims due jobs in batches up to the
 * free capacity, runs their handlers, writes fenced completions, heartbeats
 * the leases of running jobs, and (under a cluster-wide ShedLock, once per
 * interval) rescues jobs whose lease expired.
 */
export class TypeWorker {
  readonly #d: TypeWorkerDeps;
  readonly #held = new Map<number, Held>();
  /** Claimed jobs waiting for a slot, oldest first (prefetch: claims run ahead of capacity). */
  readonly #waiting: Held[] = [];
  #running = 0;
  readonly #completer: Completer;
  /** firstPullDay: which Init jobs are left alone (see ClaimParams.stale). */
  #stale: StaleCutoff | undefined;
  #stopping = false;
  /** A claim failed after it was sent: it may have committed with its reply lost. */
  #claimUncertain = false;
  #loop: Promise<void> | undefined;
  /** Heartbeats and rescues in flight, awaited by stop(). */
  readonly #tasks = new Set<Promise<void>>();
  #wakeUp: (() => void) | undefined;
  #wakePending = false;
  #timers: NodeJS.Timeout[] = [];
  #idleMs = MIN_IDLE_MS;
  #retriesFirstAt = Number.NEGATIVE_INFINITY;

  constructor(deps: TypeWorkerDeps) {
    this.#d = deps;
    this.#completer = new Completer({
      ...deps,
      emitError: (error, during) => this.#emitError(error, during),
    });
  }

  /** Jobs this worker holds right now (running or being completed). */
  get held(): number {
    return this.#held.size;
  }

  /** Starts claiming. `stale` is the firstPullDay cut-off for never-run jobs. */
  start(stale: StaleCutoff | undefined): void {
    this.#stale = stale;
    const { leaseMs } = this.#d.config;
    // A heartbeat stuck on a dead connection must not stop the next one (on another):
    // up to two may be in flight.
    this.#every(Math.max(50, Math.floor(leaseMs / 3)), () => this.#heartbeat(), "heartbeat", 2);
    this.#every(rescueInterval(this.#d.config), () => this.#rescue(), "rescue");
    this.#loop = this.#run();
  }

  /** Claims again now (a job was added, or a notification came). */
  wake(): void {
    this.#idleMs = MIN_IDLE_MS;
    if (this.#wakeUp) this.#wakeUp();
    else this.#wakePending = true;
  }

  /**
   * Stops claiming and winds down by `deadline` (Date.now() ms) as a whole:
   * claimed jobs not started are handed back at once (one statement per
   * {@link MAX_LIST}), running handlers get until `handlersUntil` to finish,
   * then their signal aborts and their jobs are handed back too (claimable
   * again at once); completions being written are awaited. With the database
   * away, the hand-backs are retried until the deadline and then left to their
   * leases. Timers are cleared; heartbeats and rescues in flight are awaited.
   */
  async stop(handlersUntil: number, deadline: number): Promise<void> {
    this.#stopping = true;
    this.wake();
    await this.#until(this.#loop ?? Promise.resolve(), deadline);
    // Claimed but never started: back at once.
    await this.#releaseAll(
      this.#waiting.splice(0),
      "released: the worker stopped before it started the job",
      deadline,
    );
    while (this.#held.size > 0 && Date.now() < handlersUntil) {
      await this.#until(Promise.race([...this.#held.values()].map((h) => h.done)), handlersUntil);
    }
    // Heartbeats kept the leases of running handlers alive until now; no more of them.
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
    const running = [...this.#held.values()].filter((h) => h.state === "running");
    for (const held of running) held.abort.abort(new Error("the queue is stopping"));
    await this.#releaseAll(
      running,
      "released: the worker stopped before the handler finished",
      deadline,
    );
    await this.#until(
      Promise.allSettled([...[...this.#held.values()].map((h) => h.done), ...this.#tasks]),
      deadline,
    );
  }

  /** Waits for `promise`, or until `deadline` (Date.now() ms), whichever comes first. */
  async #until(promise: Promise<unknown>, deadline: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      promise.then(
        () => undefined,
        () => undefined,
      ),
      new Promise((r) => {
        timer = setTimeout(r, Math.max(0, deadline - Date.now()));
      }),
    ]);
    clearTimeout(timer); // a pending timer would keep the process alive until the deadline
  }

  /**
   * Hands held jobs back, claimable at once, fenced by their tokens: one
   * statement per {@link MAX_LIST} jobs, retried until `deadline` (Date.now()
   * ms); what is not handed back by then is rescued when its lease expires.
   */
  async #releaseAll(list: readonly Held[], reason: string, deadline: number): Promise<void> {
    if (list.length === 0) return;
    const { db, dialect, table, config, logger } = this.#d;
    for (const held of list) {
      held.state = "released";
      if (this.#held.get(held.job.id) === held) this.#held.delete(held.job.id);
    }
    const until = performance.now() + Math.max(0, deadline - Date.now());
    let handedBack = 0;
    for (const part of chunks(list)) {
      try {
        const r = await retryWrite(this.#policy, "release", until, () =>
          execSql(
            db,
            dialect,
            releaseJobs(
              dialect,
              table,
              part.map((h) => ({ id: h.job.id, token: h.token })),
              reason,
            ),
          ),
        );
        handedBack += r.value.affectedRows;
      } catch {
        // The database stayed away: the leases expire on their own and the jobs are rescued.
      }
    }
    logger.warn(
      { jobType: config.jobType, count: list.length, handedBack },
      `${list.length} jobs handed back (${reason})`,
    );
  }

  /** Hands one held job back (a claim this worker will not run). */
  #release(held: Held, reason: string): Promise<void> {
    const leaseEnd = Date.now() + Math.max(MIN_RETRY_MS, this.#d.config.leaseMs);
    return this.#releaseAll([held], reason, leaseEnd);
  }

  readonly #policy = { emitError: (e: unknown, w: string) => this.#emitError(e, w) };

  async #run(): Promise<void> {
    const { config, logger } = this.#d;
    let failures = 0;
    while (!this.#stopping) {
      try {
        // Claims run up to `prefetch` jobs ahead of the handlers, and wait until half a
        // capacity is free while there is still work queued: fewer, larger claims.
        // Held jobs include those whose outcome is being written.
        const room =
          Math.min(config.capacity + config.prefetch, config.queueMaxSize) - this.#held.size;
        const threshold = this.#waiting.length > 0 ? Math.ceil(config.capacity / 2) : 1;
        if (room < threshold) {
          await this.#sleep(this.#d.pollMs); // a finishing job wakes us
          continue;
        }
        if (this.#claimUncertain) await this.#adoptLostClaims();
        const limit = Math.min(room, config.loadLimit);
        const claimed = await this.#claim(limit);
        failures = 0;
        if (claimed === limit) continue; // there may be more
        const [due] = await querySql<{ wait: unknown }>(
          this.#d.db,
          this.#d.dialect,
          nextDue(this.#d.dialect, this.#d.table, config.jobType, this.#stale),
        );
        const wait =
          due?.wait === null || due?.wait === undefined
            ? Number.POSITIVE_INFINITY
            : Number(due.wait);
        const sleep = Math.max(MIN_IDLE_MS, Math.min(this.#idleMs, this.#d.pollMs, wait));
        this.#idleMs = Math.min(this.#idleMs * 2, this.#d.pollMs);
        await this.#sleep(sleep);
      } catch (error) {
        if (error instanceof QueueClosedError) break;
        failures++;
        const backoff = Math.min(5000, 100 * 2 ** Math.min(failures, 6));
        logger.error(
          { jobType: config.jobType, err: dbErrorMessage(error) },
          `claim failed; retrying in ${backoff} ms`,
        );
        this.#emitError(error, "claim");
        await this.#sleep(backoff);
      }
    }
  }

  /**
   * Claims up to `limit` due jobs, one status at a time (see `pickDue`): new
   * jobs first, then retries and Continue re-runs — except that at least once
   * a second retries and re-runs go first, so a flood of new jobs cannot
   * starve them. Each status's jobs start as soon as its claim returns (a
   * lone new job does not wait for the other statuses' round trips). Returns
   * how many were claimed.
   */
  async #claim(limit: number): Promise<number> {
    const now = performance.now();
    const retriesFirst = now - this.#retriesFirstAt >= 1000;
    if (retriesFirst) this.#retriesFirstAt = now;
    const order = retriesFirst ? RETRIES_FIRST : INIT_FIRST;
    let claimed = 0;
    for (const status of order) {
      if (claimed >= limit || this.#stopping) break;
      const rows = await this.#claimStatus(status, limit - claimed);
      for (const { row, token, since } of rows) this.#enqueue(row, token, since);
      claimed += rows.length;
      this.#pump();
    }
    return claimed;
  }

  async #claimStatus(
    status: JobStatus,
    limit: number,
  ): Promise<{ row: Row; token: string; since: number }[]> {
    const { db, dialect, table, config, workerId } = this.#d;
    const token = makeToken();
    const since = performance.now(); // the lease cannot have started before the claim was sent
    const params: ClaimParams = {
      table,
      jobType: config.jobType,
      status,
      stale: this.#stale,
      limit,
      token,
      leaseMs: config.leaseMs,
      workerId,
    };
    let rows: Row[];
    try {
      rows = await dialect.statements.claim(db, params);
    } catch (error) {
      // Sent, then failed: the claim may have committed and only its reply been lost.
      if (!(error instanceof QueueClosedError)) this.#claimUncertain = true;
      throw error;
    }
    return rows.map((row) => ({ row, token, since }));
  }

  /**
   * After a claim whose reply was lost: the jobs the database says this worker
   * holds but the worker does not know of are adopted — queued to run under
   * the lease the lost claim took (what is left of it), rather than waiting out
   * the lease and running again later. One statement, served by the claim index.
   */
  async #adoptLostClaims(): Promise<void> {
    const { db, dialect, table, config, workerId, logger } = this.#d;
    const rows = await querySql(
      db,
      dialect,
      selectOwnRunning(dialect, table, config.jobType, workerId),
    );
    this.#claimUncertain = false;
    const now = performance.now();
    let adopted = 0;
    for (const row of rows) {
      const token = String(row.lease_token ?? "");
      const left = Number(row.lease_left ?? 0);
      const mine = this.#held.get(Number(row.id));
      if (token === "" || mine?.token === token || left <= 0) continue;
      this.#enqueue(row, token, now - Math.max(0, config.leaseMs - left));
      adopted++;
    }
    if (adopted > 0) {
      logger.warn(
        { jobType: config.jobType, adopted },
        `adopted ${adopted} jobs claimed by a claim whose reply was lost`,
      );
      this.#pump();
    }
  }

  #enqueue(row: Row, token: string, since: number): void {
    const parsed = toJob(row);
    const stale = this.#held.get(parsed.job.id);
    if (stale && stale.token !== token) {
      // This worker claimed the job again after the lease of its earlier run expired:
      // that run's result will be fenced off, so its handler is told to stop now.
      stale.abort.abort(
        new Error("the job's lease expired and this worker claimed it again; this run is stale"),
      );
      if (stale.state === "queued") {
        stale.state = "released";
        const at = this.#waiting.indexOf(stale);
        if (at >= 0) this.#waiting.splice(at, 1);
      }
    }
    const held: Held = {
      job: parsed.job,
      token,
      leaseSince: since,
      abort: new AbortController(),
      state: "queued",
      parseError: parsed.error,
      done: Promise.resolve(),
    };
    this.#held.set(parsed.job.id, held);
    this.#waiting.push(held);
  }

  /**
   * Starts queued jobs while a slot is free. A job whose lease has not been
   * confirmed for most of a lease (heartbeats not getting through: the
   * database unreachable) may already be rescued and running elsewhere: it is
   * handed back instead of started.
   */
  #pump(): void {
    const { capacity, leaseMs } = this.#d.config;
    while (this.#running < capacity && this.#waiting.length > 0 && !this.#stopping) {
      const held = this.#waiting.shift()!;
      if (performance.now() - held.leaseSince > leaseMs * LEASE_TRUST) {
        void this.#release(held, "not started: its lease may have expired while it waited");
        continue;
      }
      this.#runJob(held);
    }
  }

  #runJob(held: Held): void {
    const { config, logger } = this.#d;
    const { job } = held;
    held.state = "running";
    this.#running++;
    let slotFreed = false;
    const freeSlot = () => {
      if (slotFreed) return;
      slotFreed = true;
      this.#running--;
      this.#pump();
    };
    held.done = (async () => {
      const started = performance.now();
      let outcome: RunOutcome;
      if (held.parseError !== undefined) {
        outcome = { status: JobStatus.Failed, error: held.parseError };
      } else {
        const invalid = await this.#validate(job);
        const ctx: JobContext = { signal: held.abort.signal, logger };
        outcome = invalid
          ? { status: JobStatus.Failed, error: invalid }
          : await runHandler(config, job, ctx, held.abort);
      }
      if (held.state === "released") return;
      held.state = "completing";
      // The handler is done: its slot is free for the next job while the outcome is
      // written. The job stays held (and counted against the claim-ahead bound)
      // until then, so completions of a busy worker pile up into larger batches.
      freeSlot();
      await this.#completer.complete(
        job,
        held.token,
        outcome,
        performance.now() - started,
        held.leaseSince + config.leaseMs,
      );
    })()
      .catch((error) => {
        logger.error(
          { jobId: job.id, err: dbErrorMessage(error) },
          "job bookkeeping failed; the lease will expire and the job run again",
        );
        this.#emitError(error, "complete");
      })
      .finally(() => {
        freeSlot();
        // Only this claim's entry: once this run's lease was lost, this worker may have
        // claimed the job again, and that claim must stay held (and heartbeated).
        if (this.#held.get(job.id) === held) this.#held.delete(job.id);
        this.wake();
      });
  }

  /** The schema's verdict on the params: an Error fails the job (a validator that throws, too). */
  async #validate(job: Job): Promise<Error | undefined> {
    const schema = this.#d.config.schema;
    if (!schema) return undefined;
    let result: Awaited<ReturnType<(typeof schema)["~standard"]["validate"]>>;
    try {
      result = await schema["~standard"].validate(job.params);
    } catch (error) {
      return new TypeError(
        `the job type's schema threw while checking params: ${errorMessage(error)}`,
      );
    }
    if (result.issues) {
      return new TypeError(
        `params do not match the job type's schema: ${result.issues.map((i) => i.message).join("; ")}`,
      );
    }
    (job as { params: unknown }).params = result.value;
    return undefined;
  }

  /** Extends the leases of held jobs; aborts the handlers of jobs whose lease is gone. */
  #heartbeat(): Promise<void> {
    const held = [...this.#held.values()].filter((h) => h.state !== "released");
    return extendHeldLeases(this.#d, held);
  }

  /** Once per interval in the whole cluster: expired leases become claimable again, or failed. */
  async #rescue(): Promise<void> {
    if ((await rescueExpiredLeases(this.#d)) > 0) this.wake();
  }

  /** Runs `fn` every `ms`, skipping a tick while `overlap` runs are still in flight. */
  #every(ms: number, fn: () => Promise<void>, what: string, overlap = 1): void {
    let busy = 0;
    const timer = setInterval(() => {
      if (busy >= overlap) return;
      busy++;
      const task: Promise<void> = fn()
        .catch((error) => {
          if (error instanceof QueueClosedError) return;
          this.#d.logger.warn(
            { jobType: this.#d.config.jobType, err: dbErrorMessage(error) },
            `${what} failed; trying again`,
          );
          this.#emitError(error, what);
        })
        .finally(() => {
          busy--;
          this.#tasks.delete(task);
        });
      this.#tasks.add(task);
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

  /** Emits "error" (only when someone listens), the database's error redacted of statement text and values. */
  #emitError(error: unknown, during: string): void {
    const { events, logger, config } = this.#d;
    if (events.listenerCount("error") > 0)
      emitSafely(events, logger, "error", {
        error: redactError(error),
        during,
        jobType: config.jobType,
      });
  }
}
