import { EventEmitter } from "node:events";
import { type QueueOptions, type ResolvedJobConfig, resolveQueueOptions } from "./config.js";
import type { DB } from "./db.js";
import type { Dialect, TableNames } from "./dialects/dialect.js";
import { execSql, querySql, resolveDialect, resolveDialectSync } from "./dialects/index.js";
import { parseDuration } from "./duration.js";
import { errorMessage } from "./engine/run-handler.js";
import { TypeWorker } from "./engine/type-worker.js";
import { type AddOptions, enqueue, enqueueSync, type NewJob } from "./enqueue.js";
import { PersistentQueueError, UnsupportedError } from "./errors.js";
import type { QueueEventMap } from "./events.js";
import type { AnyJobConfig, JobTypeOf, ParamsOf } from "./job.js";
import { ShedLock } from "./lock/shed-lock.js";
import { type Logger, silentLogger } from "./logger.js";
import { type MigrateResult, migrate } from "./schema/migrate.js";
import { resolveTableNames } from "./schema/tables.js";
import { firstPull, selectJob } from "./statements/jobs.js";
import { makeWorkerId } from "./worker-id.js";

/** The queue is not in a state that allows the call. */
export class QueueStateError extends PersistentQueueError {
  constructor(message: string) {
    super("ERR_PQ_STATE", message);
  }
}

/** A row of the job table, as {@link PersistentQueue.getJob} reports it. */
export interface JobRecord {
  readonly id: number;
  readonly jobType: number;
  readonly status: number;
  readonly rawParams: string;
  readonly attempts: number;
  readonly startTime: number;
  readonly runAt: number;
  readonly createTime: number;
  readonly updateTime: number;
  readonly leaseUntil: number;
  readonly workerId: string | null;
  readonly lastError: string | null;
}

/**
 * A durable job queue on your SQL database. Construct it with the job types
 * this process runs, `migrate()` once, `start()`, and `add()` jobs from
 * anywhere, also inside your own transaction. Many queues in many processes
 * may share one table: each job runs on one worker at a time.
 */
export class PersistentQueue<
  const J extends readonly AnyJobConfig[] = readonly AnyJobConfig[],
> extends EventEmitter<QueueEventMap> {
  /** This queue's name in `worker_id` and in ShedLock's `locked_by`. */
  readonly workerId: string;
  /** The cluster lock on `shedlock_tab`, as this queue uses it; usable for your own once-in-the-cluster work. */
  readonly locks: ShedLock;
  readonly #db: DB;
  readonly #tables: TableNames;
  readonly #jobs: Map<number, ResolvedJobConfig>;
  readonly #logger: Logger;
  readonly #pollMs: number;
  readonly #notify: boolean;
  readonly #workers = new Map<number, TypeWorker>();
  #state: "new" | "starting" | "running" | "stopping" | "stopped" = "new";
  #dialect: Promise<Dialect> | undefined;
  #unlisten: (() => Promise<void>) | undefined;
  #stopped: Promise<void> | undefined;
  #notifier: { busy: boolean; again: boolean; types: Set<number> } = {
    busy: false,
    again: false,
    types: new Set(),
  };

  constructor(options: QueueOptions<J>) {
    super();
    const resolved = resolveQueueOptions(options);
    this.#db = resolved.db;
    this.#jobs = resolved.jobs;
    this.#pollMs = resolved.pollMs;
    this.#notify = resolved.notify;
    this.#tables = resolveTableNames(options.tables);
    this.#logger = options.logger ?? silentLogger;
    this.workerId = makeWorkerId(resolved.serviceName);
    this.locks = new ShedLock({
      db: this.#db,
      serviceName: resolved.serviceName,
      tables: this.#tables,
    });
  }

  /** Creates or upgrades the tables (idempotent, safe from many processes at once). */
  migrate(): Promise<MigrateResult> {
    return migrate(this.#db, { tables: this.#tables, logger: this.#logger });
  }

  /** Starts claiming and running jobs of the configured types. */
  async start(): Promise<void> {
    if (this.#state !== "new")
      throw new QueueStateError(
        `start() was already called (the queue is ${this.#state}); create a new queue to start again.`,
      );
    this.#state = "starting";
    let dialect: Dialect;
    const minInitIds = new Map<number, number>();
    try {
      dialect = await this.#resolveDialect();
      for (const config of this.#jobs.values()) {
        const [row] = await querySql<{ min_id: unknown; skipped: unknown }>(
          this.#db,
          dialect,
          firstPull(dialect, this.#tables.jobs, config.jobType, config.firstPullDay),
        );
        minInitIds.set(config.jobType, Number(row?.min_id ?? 0));
        const skipped = Number(row?.skipped ?? 0);
        if (skipped > 0) {
          this.#logger.warn(
            { jobType: config.jobType, skipped, firstPullDay: config.firstPullDay },
            `${skipped} unfinished jobs of type ${config.jobType} were created before the firstPullDay window and are left as they are`,
          );
        }
      }
    } catch (error) {
      if (this.#state === "starting") this.#state = "new"; // the database was away: start() may be called again
      throw error;
    }
    if (this.#state !== "starting") return; // stop() was called while starting
    for (const config of this.#jobs.values()) {
      const worker = new TypeWorker({
        db: this.#db,
        dialect,
        table: this.#tables.jobs,
        workerId: this.workerId,
        config,
        logger: this.#logger,
        events: this,
        pollMs: this.#pollMs,
        locks: this.locks,
      });
      this.#workers.set(config.jobType, worker);
      worker.start(minInitIds.get(config.jobType) ?? 0);
    }
    if (
      this.#notify &&
      dialect.capabilities.listenNotify &&
      this.#db.listen &&
      this.#workers.size > 0
    ) {
      await this.#listen(0);
    }
    this.#state = "running";
    this.#logger.info(
      { workerId: this.workerId, jobTypes: [...this.#jobs.keys()] },
      "persistent-queue started",
    );
  }

  /**
   * Enqueues one job and resolves its id. `opts.delay` (ms or "10m") or
   * `opts.startTime` (Date or unix seconds) schedule it; `opts.db` (a DB bound
   * to your transaction) makes it part of that transaction.
   */
  async add<T extends JobTypeOf<J>>(
    jobType: T,
    params: ParamsOf<J, T>,
    opts: AddOptions = {},
  ): Promise<number> {
    const job = {
      jobType,
      params,
      delay: opts.delay,
      startTime: opts.startTime,
    } as unknown as NewJob<J>;
    const [id] = await this.addMany([job], opts);
    return id!;
  }

  /**
   * Enqueues one job synchronously, for a synchronous transaction (Drizzle or
   * better-sqlite3 on SQLite), where `add()`'s promise would resolve only after
   * the transaction ended. `opts.db` must offer `execSync`/`querySync` (the
   * better-sqlite3 adapters do); a schema must validate synchronously.
   */
  addSync<T extends JobTypeOf<J>>(
    jobType: T,
    params: ParamsOf<J, T>,
    opts: AddOptions = {},
  ): number {
    this.#assertAccepting();
    const target = opts.db ?? this.#db;
    const dialect = resolveDialectSync(target);
    if (!target.querySync || !target.execSync || dialect === undefined) {
      throw new UnsupportedError(
        "addSync() needs a synchronous DB (execSync/querySync), as the better-sqlite3 adapters provide; use add() with this database.",
      );
    }
    const id = enqueueSync(target, dialect, this.#tables.jobs, this.#jobs, {
      jobType,
      params,
      delay: opts.delay,
      startTime: opts.startTime,
    });
    this.#workers.get(jobType)?.wake(); // claims after the caller's transaction commits
    return id;
  }

  /** Enqueues many jobs with one INSERT per 1000 and resolves their ids in order. */
  async addMany(jobs: readonly NewJob<J>[], opts: Pick<AddOptions, "db"> = {}): Promise<number[]> {
    if (this.#state === "stopping" || this.#state === "stopped") {
      throw new QueueStateError(
        "add() after stop(): the queue no longer accepts jobs. Create a new queue, or add before stopping.",
      );
    }
    const target = opts.db ?? this.#db;
    const dialect = await (target === this.#db ? this.#resolveDialect() : resolveDialect(target));
    const ids = await enqueue(target, dialect, this.#tables.jobs, this.#jobs, jobs);
    const types = new Set(jobs.map((j) => Number(j.jobType)));
    for (const type of types) this.#workers.get(type)?.wake();
    if (this.#notify && dialect.notify) {
      if (opts.db) {
        // Inside the caller's transaction: delivered when (and only if) it commits.
        await execSql(target, dialect, dialect.notify(this.#channel(), [...types].join(",")));
      } else {
        this.#notifyOthers(dialect, types);
      }
    }
    return ids;
  }

  /** The row of job `id`, or undefined. */
  async getJob(id: number): Promise<JobRecord | undefined> {
    const dialect = await this.#resolveDialect();
    const [row] = await querySql(this.#db, dialect, selectJob(dialect, this.#tables.jobs, id));
    if (!row) return undefined;
    const num = (v: unknown) => Number(v ?? 0);
    return {
      id: num(row.id),
      jobType: num(row.job_type),
      status: num(row.job_status),
      rawParams: String(row.params ?? ""),
      attempts: num(row.attempts),
      startTime: num(row.start_time),
      runAt: num(row.run_at),
      createTime: num(row.create_time),
      updateTime: num(row.update_time),
      leaseUntil: num(row.lease_until),
      workerId:
        row.worker_id === null || row.worker_id === undefined ? null : String(row.worker_id),
      lastError:
        row.last_error === null || row.last_error === undefined ? null : String(row.last_error),
    };
  }

  /**
   * Stops gracefully: no more claims; running handlers get `timeoutMs`
   * (default 10 s) to finish, then their signal aborts and their jobs are
   * handed back, claimable again at once. Completions being written are
   * awaited. Calling it again returns the same promise. Your DB stays open.
   */
  stop(options: { timeoutMs?: number } = {}): Promise<void> {
    if (this.#stopped) return this.#stopped;
    const timeoutMs = parseDuration("stop timeoutMs", options.timeoutMs ?? 10_000);
    this.#state = "stopping";
    this.#stopped = (async () => {
      await Promise.all([...this.#workers.values()].map((w) => w.stop(timeoutMs)));
      await this.#unlisten?.().catch(() => undefined);
      this.#state = "stopped";
      this.#logger.info({ workerId: this.workerId }, "persistent-queue stopped");
    })();
    return this.#stopped;
  }

  /** Jobs this process holds right now, over all types. */
  get activeCount(): number {
    let n = 0;
    for (const w of this.#workers.values()) n += w.held;
    return n;
  }

  /**
   * Subscribes to this table's channel; when the subscription breaks (the
   * connection died), subscribes again with a growing delay. Polling covers
   * the gap, so a lost LISTEN only costs latency.
   */
  async #listen(failures: number): Promise<void> {
    const retry = (error: unknown) => {
      this.#unlisten = undefined;
      if (this.#state !== "running" && this.#state !== "starting") return;
      const delay = Math.min(30_000, 500 * 2 ** Math.min(failures, 6));
      this.#logger.warn(
        { err: errorMessage(error), retryInMs: delay },
        "LISTEN connection lost; polling until it is back",
      );
      setTimeout(() => void this.#listen(failures + 1), delay).unref?.();
    };
    try {
      const unlisten = await this.#db.listen!(
        this.#channel(),
        (payload) => {
          for (const type of payload.split(",")) this.#workers.get(Number(type))?.wake();
        },
        retry,
      );
      if (this.#state === "stopping" || this.#state === "stopped") {
        await unlisten().catch(() => undefined);
        return;
      }
      this.#unlisten = unlisten;
      if (failures > 0) for (const w of this.#workers.values()) w.wake(); // catch up on what was missed
    } catch (error) {
      retry(error);
    }
  }

  #assertAccepting(): void {
    if (this.#state === "stopping" || this.#state === "stopped") {
      throw new QueueStateError(
        "add() after stop(): the queue no longer accepts jobs. Create a new queue, or add before stopping.",
      );
    }
  }

  #channel(): string {
    return `pq_${this.#tables.jobs}`.slice(0, 63);
  }

  /**
   * Wakes other processes after an add() outside a transaction, coalesced: at
   * most one NOTIFY in flight, and one more after it for whatever was added
   * meanwhile. A NOTIFY per job would serialise commits and halve enqueue speed.
   */
  #notifyOthers(dialect: Dialect, types: Set<number>): void {
    const n = this.#notifier;
    for (const t of types) n.types.add(t);
    if (n.busy) {
      n.again = true;
      return;
    }
    n.busy = true;
    const send = async (): Promise<void> => {
      do {
        n.again = false;
        const payload = [...n.types].join(",");
        n.types.clear();
        await execSql(this.#db, dialect, dialect.notify!(this.#channel(), payload)).catch(
          (error) => {
            this.#logger.debug?.(
              { err: errorMessage(error) },
              "NOTIFY failed; other workers will poll",
            );
          },
        );
      } while (n.again);
      n.busy = false;
    };
    void send();
  }

  #resolveDialect(): Promise<Dialect> {
    this.#dialect ??= resolveDialect(this.#db);
    return this.#dialect;
  }
}
