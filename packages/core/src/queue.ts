import { EventEmitter } from "node:events";
import {
  type QueueOptions,
  type ResolvedJobConfig,
  type ResolvedJobSpec,
  resolveQueueOptions,
} from "./config.js";
import type { DB } from "./db.js";
import type { Dialect, FlowTables, StaleCutoff, TableNames } from "./dialects/dialect.js";
import { execSql, querySql, resolveDialect, resolveDialectSync } from "./dialects/index.js";
import { parseDuration } from "./duration.js";
import { RetentionCleaner } from "./engine/cleaner.js";
import { FinishedStats } from "./engine/finished-stats.js";
import { Notifier } from "./engine/notifier.js";
import { NotifyCoalescer } from "./engine/notify-coalescer.js";
import { pruneFinished } from "./engine/prune.js";
import { dbErrorMessage, redactError } from "./engine/redact.js";
import { firstPullCutoff, step } from "./engine/start-up.js";
import { StatementGuard } from "./engine/statement-guard.js";
import { TypeWorker } from "./engine/type-worker.js";
import {
  type AddOptions,
  enqueue,
  enqueueSync,
  JobInputError,
  jobRow,
  type LooseJob,
  mayHandOff,
  type NewJob,
} from "./enqueue.js";
import { DatabaseUnavailableError, PersistentQueueError, UnsupportedError } from "./errors.js";
import { emitSafely, type QueueEventMap } from "./events.js";
import {
  checkJobTypeInteger,
  ensureTypeState,
  readPaused,
  readPausedTypes,
  setPaused,
} from "./flow-control.js";
import { InsertBatcher } from "./insert-batcher.js";
import type { AnyJob, JobRef, JobTypeOfRef, ParamsOf, ResultOf } from "./job.js";
import { JobActions, type JobPage, type ListJobsOptions } from "./job-actions.js";
import { type JobRecord, toJobRecord } from "./job-record.js";
import { JobTypes } from "./job-types.js";
import { ShedLock } from "./lock/shed-lock.js";
import { type Logger, silentLogger } from "./logger.js";
import { type PruneOptions, type ResolvedRetention, resolvePrune } from "./retention.js";
import { QueueSchedules } from "./schedules/queue-schedules.js";
import type { Schedule, ScheduleInfo } from "./schedules/schedule-spec.js";
import { type MigrateResult, migrate } from "./schema/migrate.js";
import { resolveTableNames } from "./schema/tables.js";
import { assertSchemaCurrent, assertSchemaCurrentSync } from "./schema/version.js";
import { selectJob } from "./statements/jobs.js";
import { countJobs } from "./stats.js";
import { prometheusMetrics, registerLocalMetrics } from "./telemetry/prometheus.js";
import { Telemetry } from "./telemetry/telemetry.js";
import { type JobOutcome, Waiters, type WaitForOptions } from "./wait-for.js";
import { makeWorkerId } from "./worker-id.js";

/** Least time between two completion NOTIFYs of one queue (waitFor() on PostgreSQL). */
const DONE_NOTIFY_GAP_MS = 50;

/** The queue is not in a state that allows the call. */
export class QueueStateError extends PersistentQueueError {
  constructor(message: string) {
    super("ERR_PQ_STATE", message);
  }
}

/**
 * A durable job queue on your SQL database. Construct it with the job types
 * this process runs, `migrate()` once, `start()`, and `add()` jobs from
 * anywhere, also inside your own transaction. Many queues in many processes
 * may share one table: each job runs on one worker at a time.
 */
export class PersistentQueue<
  const J extends readonly AnyJob[] = readonly AnyJob[],
> extends EventEmitter<QueueEventMap<J>> {
  /** This queue's name in `worker_id` and in ShedLock's `locked_by`. */
  readonly workerId: string;
  /** The cluster lock on `shedlock_tab`, as this queue uses it; usable for your own once-in-the-cluster work. */
  readonly locks: ShedLock;
  readonly #db: DB;
  readonly #tables: TableNames;
  /** Job types with a handler: run by this queue. */
  readonly #jobs: Map<number, ResolvedJobConfig>;
  /** Every job type listed, by integer and by name. */
  readonly #types: JobTypes;
  readonly #logger: Logger;
  readonly #pollMs: number;
  readonly #notify: boolean;
  readonly #workers = new Map<number, TypeWorker>();
  readonly #retention: ResolvedRetention | undefined;
  /** Deletes finished jobs past their retention while the queue runs. */
  #cleaner: RetentionCleaner | undefined;
  /** This process's finished jobs per type, status and minute, added to the job-stats table. */
  #stats: FinishedStats | undefined;
  /** The engine's statements go through this; stop() closes it. */
  readonly #guard: StatementGuard;
  /** ShedLock for the engine's own rescues, on the guarded DB. */
  readonly #engineLocks: ShedLock;
  #state: "new" | "starting" | "running" | "stopping" | "stopped" = "new";
  #dialect: Promise<Dialect> | undefined;
  /** Resolves once the tables were found at the current schema version (a failure is not cached). */
  #schemaChecked: Promise<void> | undefined;
  /** The LISTEN for other processes' wake-ups, where the DB and the dialect have one. */
  #notifier: Notifier | undefined;
  /** Wakes other processes after add(), one NOTIFY at a time. */
  readonly #coalescer: NotifyCoalescer;
  /** add()'s plain inserts of one turn as one statement; made with the dialect. */
  #batcher: InsertBatcher | undefined;
  /** Announces final outcomes to other processes' waitFor(), one NOTIFY at a time. */
  readonly #doneNotifier: NotifyCoalescer;
  /** This queue's waitFor() calls. */
  readonly #waiters: Waiters;
  #stopped: Promise<void> | undefined;
  /** Cron schedules: the `schedules` option, schedule()/unschedule()/listSchedules(), the loop. */
  readonly #schedules: QueueSchedules;
  /** cancel, retry, promote, remove and listJobs. */
  readonly #actions: JobActions;
  /** OpenTelemetry spans and metrics, and this process's counters for Prometheus. */
  readonly #telemetry: Telemetry;

  constructor(options: QueueOptions<J>) {
    super();
    const resolved = resolveQueueOptions(options);
    this.#db = resolved.db;
    this.#jobs = resolved.jobs;
    this.#types = new JobTypes(resolved.specs, resolved.names);
    this.#pollMs = resolved.pollMs;
    this.#notify = resolved.notify;
    this.#retention = resolved.retention;
    this.#tables = resolveTableNames(options.tables);
    this.#logger = options.logger ?? silentLogger;
    this.#telemetry = new Telemetry(
      options.telemetry,
      (type) => this.#types.specs.get(type)?.name ?? String(type),
    );
    registerLocalMetrics(this, this.#telemetry.local);
    this.workerId = makeWorkerId(resolved.serviceName);
    this.locks = new ShedLock({
      db: this.#db,
      serviceName: resolved.serviceName,
      tables: this.#tables,
    });
    this.#guard = new StatementGuard(this.#db);
    this.#engineLocks = new ShedLock({
      db: this.#guard.db,
      serviceName: resolved.serviceName,
      tables: this.#tables,
    });
    this.#coalescer = new NotifyCoalescer(this.#guard.db, this.#channel(), this.#logger);
    this.#schedules = new QueueSchedules({
      types: this.#types,
      schedules: options.schedules,
      logger: this.#logger,
      table: async () => {
        const dialect = await this.#resolveDialect();
        await this.#checkSchema(this.#db);
        return { db: this.#db, dialect, table: this.#tables.schedules, scope: this.#tables.jobs };
      },
    });
    // At most one completion NOTIFY per 50 ms: one per batch cost a PostgreSQL drain 12-15 %.
    this.#doneNotifier = new NotifyCoalescer(
      this.#guard.db,
      this.#channel("done"),
      this.#logger,
      DONE_NOTIFY_GAP_MS,
    );
    this.#waiters = new Waiters({
      db: this.#db,
      table: this.#tables.jobs,
      channel: this.#channel("done"),
      logger: this.#logger,
      dialect: () => this.#resolveDialect(),
      checkSchema: () => this.#checkSchema(this.#db),
      mayListen: () => this.#notify && this.#state !== "stopping" && this.#state !== "stopped",
    });
    this.#actions = new JobActions({
      db: this.#db,
      table: this.#tables.jobs,
      workerId: this.workerId,
      types: this.#types,
      ready: async () => {
        const dialect = await this.#resolveDialect();
        await this.#checkSchema(this.#db);
        return dialect;
      },
      cancelledHere: (id, reason) => {
        for (const w of this.#workers.values()) w.cancelled(id, reason);
      },
      wake: () => {
        for (const w of this.#workers.values()) w.wake();
      },
    });
  }

  /** Creates or upgrades the tables (idempotent, safe from many processes at once). */
  async migrate(): Promise<MigrateResult> {
    const result = await migrate(this.#db, { tables: this.#tables, logger: this.#logger });
    this.#schemaChecked = undefined; // checked again on next use
    return result;
  }

  /**
   * Starts claiming and running jobs of the configured types. Fails with
   * {@link SchemaVersionError} when `migrate()` has not brought the tables to
   * this build's version, and with {@link DatabaseUnavailableError} (the
   * driver's error as `cause`) naming the step the database did not answer;
   * the queue may then be started again. A `stop()` during `start()` wins.
   */
  async start(): Promise<void> {
    if (this.#state !== "new")
      throw new QueueStateError(
        `start() was already called (the queue is ${this.#state}); create a new queue to start again.`,
      );
    this.#state = "starting";
    let dialect: Dialect;
    const stale = new Map<number, StaleCutoff>();
    try {
      dialect = await step("start(): asking the server its version", () => this.#resolveDialect());
      await step("start(): reading the schema version", () => this.#checkSchema(this.#db));
      const startUp = {
        db: this.#db,
        dialect,
        table: this.#tables.jobs,
        logger: this.#logger,
        events: this as unknown as EventEmitter<QueueEventMap>,
      };
      await this.#refreshStatistics(dialect);
      for (const config of this.#jobs.values()) {
        stale.set(config.jobType, await firstPullCutoff(startUp, config));
        if (config.limits)
          await step("start(): the job type's row in the job-types table", () =>
            ensureTypeState(this.#db, dialect, this.#flow(), config.jobType),
          );
      }
      await step("start(): writing the configured schedules", () => this.#schedules.syncConfig());
      await this.#telemetry.startMetrics(() => countJobs(this.#db, { tables: this.#tables }));
    } catch (error) {
      if (this.#state === "starting") this.#state = "new"; // the database was away: start() may be called again
      throw error;
    }
    if (this.#state !== "starting") return; // stop() was called while starting
    const stats = new FinishedStats({
      db: this.#guard.db,
      dialect,
      table: this.#tables.jobStats,
      scope: this.#tables.jobs,
      logger: this.#logger,
    });
    if (this.#jobs.size > 0) {
      this.#stats = stats;
      stats.start();
    }
    for (const config of this.#jobs.values()) {
      const worker = new TypeWorker({
        db: this.#guard.db,
        dialect,
        table: this.#tables.jobs,
        flow: this.#flow(),
        workerId: this.workerId,
        config,
        logger: this.#logger,
        events: this as unknown as EventEmitter<QueueEventMap>,
        pollMs: this.#pollMs,
        locks: this.#engineLocks,
        finished: (ids, status) => {
          this.#announceFinal(dialect, ids);
          stats.record(config.jobType, status, ids.length);
        },
        telemetry: this.#telemetry,
      });
      this.#workers.set(config.jobType, worker);
      worker.start(stale.get(config.jobType));
    }
    if (this.#retention) {
      this.#cleaner = new RetentionCleaner({
        db: this.#guard.db,
        dialect,
        table: this.#tables.jobs,
        retention: this.#retention,
        locks: this.#engineLocks,
        logger: this.#logger,
      });
      this.#cleaner.start();
    }
    const db = this.#db;
    // Other processes NOTIFY only where the dialect has a NOTIFY.
    if (this.#notify && dialect.statements.notify && hasListen(db) && this.#workers.size > 0) {
      this.#notifier = new Notifier({
        db,
        channel: this.#channel(),
        logger: this.#logger,
        active: () => this.#state === "running" || this.#state === "starting",
        stopping: () => this.#state === "stopping" || this.#state === "stopped",
        wake: (jobType) => this.#workers.get(jobType)?.wake(),
        wakeAll: () => {
          for (const w of this.#workers.values()) w.wake();
        },
      });
      await this.#notifier.start();
    }
    if (this.#state !== "starting") return; // stop() was called during LISTEN: it stays stopped
    this.#schedules.startLoop({
      db: this.#guard.db,
      dialect,
      table: this.#tables.schedules,
      scope: this.#tables.jobs,
      logger: this.#logger,
      maxSleepMs: SCHEDULE_POLL_MS,
      emitError: (error, during) => {
        const events = this as unknown as EventEmitter<QueueEventMap>;
        if (events.listenerCount("error") > 0)
          emitSafely(events, this.#logger, "error", { error: redactError(error), during });
      },
      enqueued: (jobType) => this.#announce(dialect, [jobType]),
    });
    this.#state = "running";
    this.#logger.info(
      { workerId: this.workerId, jobTypes: [...this.#jobs.keys()] },
      "persistent-queue started",
    );
  }

  /**
   * Enqueues one job and resolves its id. `job` is the job type's integer, its
   * name, or its definition. `opts.delay` (ms or "10m") or `opts.startTime`
   * (Date or unix seconds) schedule it; `opts.db` (a DB bound to your
   * transaction) makes it part of that transaction. `opts.uniqueKey` keeps at
   * most one unfinished job per (job type, key): when one exists, nothing is
   * inserted (`onConflict: "keep"`, the default) or, with `"replace"`, a job
   * that has not started takes these params, due time and priority; either way
   * the existing job's id is returned.
   */
  async add<const K extends JobRef<J>>(
    job: K,
    params: ParamsOf<J, K>,
    opts: AddOptions = {},
  ): Promise<number> {
    this.#assertAccepting();
    const { db: _db, ...jobOptions } = opts;
    const one = { ...jobOptions, jobType: job, params } as unknown as NewJob<J>;
    const [resolved, specs] = this.#types.resolveRefs([one]);
    if (opts.db === undefined && this.#state === "running") {
      const id = await this.#addHandingOff(resolved[0]!, specs);
      if (id !== undefined) return id;
    }
    const [id] = await this.#enqueue(resolved, specs, opts);
    return id!;
  }

  /**
   * A queue that works jobs gathers the job table's planner statistics where it
   * never had any (see JobOperations.refreshStatistics). Best effort: without the
   * right (PostgreSQL: owning the table) it logs and goes on; autovacuum analyzes
   * the table within a minute or so of its first changes anyway.
   */
  async #refreshStatistics(dialect: Dialect): Promise<void> {
    const refresh = dialect.statements.refreshStatistics;
    if (!refresh || this.#jobs.size === 0) return;
    try {
      if (await refresh(this.#db, this.#tables.jobs))
        this.#logger.info(
          { table: this.#tables.jobs },
          "gathered the job table's planner statistics (it had none)",
        );
    } catch (error) {
      this.#logger.warn(
        { table: this.#tables.jobs, err: dbErrorMessage(error) },
        "could not gather the job table's planner statistics; claims may be slow until autovacuum does",
      );
    }
  }

  /**
   * `add()` of a due job whose type this process works while one of its slots is
   * free and its last claim found nothing more due: the job is inserted already
   * claimed by that worker and starts at once (pickup is the INSERT's round trip;
   * see TypeWorker.handOff). Undefined: not handed off, nothing inserted (the
   * caller enqueues it as usual). A paused type's job is inserted waiting.
   */
  async #addHandingOff(
    job: LooseJob,
    specs: ReadonlyMap<number, ResolvedJobSpec>,
  ): Promise<number | undefined> {
    const worker = this.#workers.get(job.jobType);
    if (!worker?.mayHandOff() || !mayHandOff(job)) return undefined;
    const dialect = await this.#resolveDialect();
    if (!dialect.statements.insertClaimedJob) return undefined;
    await this.#checkSchema(this.#db);
    let claimed = true;
    const ids = await this.#telemetry.send([job.jobType], async (traceContext) => {
      const row = await jobRow(specs, job, traceContext);
      const handed = await worker.handOff(row);
      if (handed) {
        claimed = handed.claimed;
        return [handed.id];
      }
      // The slot was taken meanwhile: an ordinary insert of the row already checked.
      claimed = false;
      return dialect.statements.insertJobs(this.#db, this.#tables.jobs, [row]);
    });
    if (!claimed) this.#announce(dialect, [job.jobType]);
    return ids[0];
  }

  /**
   * Jobs of `types` may be claimed now (added, resumed): wakes this process's
   * workers and, in the background, other processes' (NOTIFY, coalesced).
   */
  #announce(dialect: Dialect, types: Iterable<number>): void {
    for (const type of types) this.#workers.get(type)?.wake();
    if (this.#notify && dialect.statements.notify) this.#coalescer.notify(dialect, types);
  }

  /**
   * Enqueues one job synchronously, for a synchronous transaction (Drizzle or
   * better-sqlite3 on SQLite), where `add()`'s promise would resolve only after
   * the transaction ended. `opts.db` must offer `execSync`/`querySync` (the
   * better-sqlite3 adapters do); a schema must validate synchronously.
   */
  addSync<const K extends JobRef<J>>(
    job: K,
    params: ParamsOf<J, K>,
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
    const { db: _db, ...jobOptions } = opts;
    const [[one], specs] = this.#types.resolveRefs([{ ...jobOptions, jobType: job, params }]);
    if (this.#schemaChecked === undefined) {
      assertSchemaCurrentSync(target, dialect, this.#tables);
      this.#schemaChecked = Promise.resolve();
    }
    const id = this.#telemetry.sendSync([one!.jobType], (traceContext) =>
      enqueueSync(target, dialect, this.#tables.jobs, specs, one!, traceContext),
    );
    this.#workers.get(one!.jobType)?.wake(); // claims after the caller's transaction commits
    return id;
  }

  /**
   * Enqueues many jobs with one INSERT per 1000 and resolves their ids in
   * order; each job's `jobType` is an integer, a name or a definition. A job
   * with a `uniqueKey` is one statement of its own (a later job with the same
   * key resolves to the earlier one's id); a batch of more than one statement
   * runs in one transaction where the DB can open one.
   */
  async addMany(jobs: readonly NewJob<J>[], opts: Pick<AddOptions, "db"> = {}): Promise<number[]> {
    this.#assertAccepting();
    const [resolved, specs] = this.#types.resolveRefs(jobs);
    return this.#enqueue(resolved, specs, opts);
  }

  /** Inserts jobs already resolved to their types (see {@link addMany}), then announces them. */
  async #enqueue(
    resolved: readonly LooseJob[],
    specs: ReadonlyMap<number, ResolvedJobSpec>,
    opts: Pick<AddOptions, "db">,
  ): Promise<number[]> {
    const target = opts.db ?? this.#db;
    const dialect = await (target === this.#db ? this.#resolveDialect() : resolveDialect(target));
    await this.#checkSchema(target);
    const one = resolved.length === 1 ? resolved[0] : undefined;
    const ids = await this.#telemetry.send(
      resolved.map((j) => j.jobType),
      async (traceContext) => {
        // One add() of a plain job outside the caller's transaction: written together
        // with the other adds of this turn (see InsertBatcher).
        if (one && !opts.db && one.uniqueKey === undefined) {
          this.#batcher ??= new InsertBatcher(this.#db, dialect, this.#tables.jobs);
          return [await this.#batcher.insert(await jobRow(specs, one, traceContext))];
        }
        return enqueue(target, dialect, this.#tables.jobs, specs, resolved, traceContext);
      },
    );
    const types = new Set(resolved.map((j) => j.jobType));
    if (!opts.db) {
      this.#announce(dialect, types);
      return ids;
    }
    for (const type of types) this.#workers.get(type)?.wake();
    if (this.#notify && dialect.statements.notify) {
      // Inside the caller's transaction: delivered when (and only if) it commits.
      await execSql(
        target,
        dialect,
        dialect.statements.notify(this.#channel(), [...types].join(",")),
      );
    }
    return ids;
  }

  /**
   * The row of job `id`, or undefined. Name its job type (integer, name or
   * definition) to get its params typed: a row of another type is then undefined.
   */
  async getJob<const K extends JobRef<J> = never>(
    id: number,
    jobType?: K,
  ): Promise<
    | ([K] extends [never]
        ? JobRecord
        : JobRecord<ParamsOf<J, K>, JobTypeOfRef<J, K>, ResultOf<J, K>>)
    | undefined
  > {
    const expected =
      jobType === undefined ? undefined : this.#types.resolveRef(jobType, "jobType").jobType;
    if (typeof id !== "number" || !Number.isSafeInteger(id))
      throw new JobInputError("id", `must be an integer job id (got ${String(id)}).`);
    const dialect = await this.#resolveDialect();
    await this.#checkSchema(this.#db);
    const [row] = await querySql(this.#db, dialect, selectJob(dialect, this.#tables.jobs, id));
    if (!row) return undefined;
    const type = Number(row.job_type ?? 0);
    if (expected !== undefined && type !== expected) return undefined;
    return toJobRecord(row, this.#types.specs.get(type)?.name) as never;
  }

  /**
   * Deletes finished jobs now and resolves how many rows went: those in
   * `status` (JobStatus.Success, Failed or Cancelled, or an array of them) last
   * updated longer ago than `olderThan` (e.g. "7d"), by the database's clock, in
   * batches of at most 1000 rows that never hold up claims. Unfinished jobs are
   * never pruned: another status is a {@link PruneInputError}. Works on a queue
   * that was not started; independent of the `retention` option.
   */
  async prune(options: PruneOptions): Promise<number> {
    const rules = resolvePrune(options);
    const dialect = await this.#resolveDialect();
    await this.#checkSchema(this.#db);
    return pruneFinished(this.#db, dialect, this.#tables.jobs, rules);
  }

  /**
   * Creates or updates (by `name`) a cron schedule of this job table, in the
   * database, so every process running a queue on the table sees it: each
   * tick of `cron` in `tz` (default UTC) enqueues one job of `jobType` with
   * `params`, once in the whole cluster. Works without start(); only started
   * queues enqueue ticks. Throws {@link ScheduleError} for a bad pattern, zone,
   * backfill, name or params. See docs/schedules.md.
   */
  async schedule(schedule: Schedule<J>): Promise<void> {
    await this.#schedules.schedule(schedule);
  }

  /** Deletes schedule `name`; resolves true if it existed. No process enqueues its ticks after this resolves. */
  unschedule(name: string): Promise<boolean> {
    return this.#schedules.unschedule(name);
  }

  /** Every schedule of this job table (from any process), by name, each with its next run time. */
  listSchedules(): Promise<ScheduleInfo[]> {
    return this.#schedules.list();
  }

  /**
   * Resolves `{ status, result, error }` once job `id` is final (Success,
   * Failed or Cancelled), whichever process runs it; works on a queue that
   * was never started. Rejects with {@link WaitTimeoutError} after
   * `options.timeout` (default "30s"; the job goes on), and with
   * {@link JobNotFoundError} when there is no such job (or, with
   * `options.jobType`, none of that type: the type also types `result`).
   * Woken on PostgreSQL by a NOTIFY from the process that finished the job,
   * elsewhere by polling (10 ms doubling to 1 s); see docs/results.md.
   */
  async waitFor<const K extends JobRef<J> = never>(
    id: number,
    options: WaitForOptions<K> = {},
  ): Promise<JobOutcome<[K] extends [never] ? unknown : ResultOf<J, K>>> {
    if (typeof id !== "number" || !Number.isSafeInteger(id))
      throw new JobInputError("id", `must be an integer job id (got ${String(id)}).`);
    const expected =
      options.jobType === undefined
        ? undefined
        : this.#types.resolveRef(options.jobType, "jobType").jobType;
    return (await this.#waiters.wait(id, options.timeout, expected)) as never;
  }

  /**
   * Cancels job `id`: a waiting, continuing or retrying job never runs; a
   * running one is marked Cancelled (6) and its lease ends, so its handler's
   * `ctx.signal` aborts with a {@link JobCancelledError} — at once when this
   * queue runs it, within a heartbeat (a third of `leaseTime`) in any other
   * process — and whatever the handler returns then changes nothing. Resolves
   * true when cancelled, false when the job had already finished; rejects with
   * {@link JobNotFoundError} for an unknown id. Works on a queue never started.
   */
  async cancel(id: number): Promise<boolean> {
    const cancelled = await this.#actions.cancel(id);
    if (cancelled) this.#announceFinal(await this.#resolveDialect(), [id]); // wakes waitFor()
    return cancelled;
  }

  /**
   * Runs a Failed or Cancelled job again: it waits (status Init) due now, with
   * its attempts reset to 0. Resolves true when it applied, false for a job in
   * another state; {@link JobNotFoundError} for an unknown id; a
   * {@link JobActionError} when another unfinished job holds its unique key.
   */
  retry(id: number): Promise<boolean> {
    return this.#actions.retry(id);
  }

  /**
   * Makes a delayed waiting, continuing or retrying job due now. Resolves true
   * when it applied, false when the job is not waiting or already due;
   * {@link JobNotFoundError} for an unknown id.
   */
  promote(id: number): Promise<boolean> {
    return this.#actions.promote(id);
  }

  /**
   * Deletes job `id` in any state but Running: resolves true. A running job
   * rejects with {@link JobRunningError} (cancel it first); an unknown id with
   * {@link JobNotFoundError}.
   */
  remove(id: number): Promise<boolean> {
    return this.#actions.remove(id);
  }

  /**
   * Pauses a job type (integer, name or definition) in the whole cluster, persisted
   * in the job-types table: from the next claim on, no process claims its jobs
   * until {@link resume}; running jobs finish. Jobs a process already claimed
   * ahead of a free slot (`prefetch`) still run. add() keeps enqueueing.
   * Works on a queue never started, and for types this queue does not run.
   */
  async pause(jobType: JobRef<J>): Promise<void> {
    const type = this.#typeRef(jobType);
    const dialect = await this.#ready();
    await setPaused(this.#db, dialect, this.#flow(), type, true);
  }

  /**
   * Resumes a paused job type in the whole cluster. Workers of this process claim
   * at once; other processes within their poll interval (at once on PostgreSQL,
   * through NOTIFY). Resuming a type that is not paused does nothing.
   */
  async resume(jobType: JobRef<J>): Promise<void> {
    const type = this.#typeRef(jobType);
    const dialect = await this.#ready();
    await setPaused(this.#db, dialect, this.#flow(), type, false);
    this.#announce(dialect, [type]);
  }

  /** True when the job type is paused (by {@link pause}, in any process). */
  async isPaused(jobType: JobRef<J>): Promise<boolean> {
    const type = this.#typeRef(jobType);
    return readPaused(this.#db, await this.#ready(), this.#flow(), type);
  }

  /** The paused job types of this queue's job table, ascending. */
  async pausedTypes(): Promise<number[]> {
    return readPausedTypes(this.#db, await this.#ready(), this.#flow());
  }

  #typeRef(ref: unknown): number {
    return checkJobTypeInteger(this.#types.resolveRef(ref, "jobType").jobType, "jobType");
  }

  #flow(): FlowTables {
    const t = this.#tables;
    return { scope: t.jobs, types: t.jobTypes, groups: t.jobGroups, starts: t.jobStarts };
  }

  async #ready(): Promise<Dialect> {
    const dialect = await this.#resolveDialect();
    await this.#checkSchema(this.#db);
    return dialect;
  }

  /**
   * A page of jobs, newest first, filtered by `jobType` (integer, name or
   * definition), `status` (one or several) and `search` (a case-insensitive
   * substring of the params JSON); `limit` per page (default 50, at most 500).
   * Pass `nextCursor` back as `cursor` for the next page: pages never repeat or
   * skip a job, also while jobs are being added. Bad input: {@link JobInputError}.
   */
  listJobs(options: ListJobsOptions<JobRef<J>> = {}): Promise<JobPage> {
    return this.#actions.list(options);
  }

  /**
   * Stops gracefully within `timeoutMs` (default 10 s) as a whole: no more
   * claims; jobs claimed ahead and not started are handed back at once;
   * running handlers get the time left (less a reserve of a quarter, at most
   * 2 s, for the hand-back), then their signal aborts and their jobs are
   * handed back, claimable again at once. Completions being written are
   * awaited. After it resolves the queue starts no statement, timer or LISTEN
   * on your DB (a statement already sent to a database that stopped answering
   * is the one thing it cannot recall; it is logged). Calling it again returns
   * the same promise. Your DB stays open.
   */
  stop(options: { timeoutMs?: number } = {}): Promise<void> {
    if (this.#stopped) return this.#stopped;
    const timeoutMs = parseDuration("stop timeoutMs", options.timeoutMs ?? 10_000);
    const deadline = Date.now() + timeoutMs;
    const handlersUntil = deadline - Math.min(2000, Math.floor(timeoutMs / 4));
    this.#state = "stopping";
    this.#notifier?.cancelRetry();
    this.#telemetry.stopMetrics();
    this.#stopped = (async () => {
      await Promise.all([
        this.#schedules.stopLoop(deadline),
        ...[...this.#workers.values()].map((w) => w.stop(handlersUntil, deadline)),
        this.#cleaner?.stop(),
      ]);
      // After the workers, so their last completions are counted; never past the deadline.
      if (this.#stats) await withinDeadline(this.#stats.stop(), deadline);
      this.#guard.close();
      await Promise.all([
        this.#notifier?.close(),
        this.#waiters.close(),
        this.#guard.idle(deadline - Date.now()).then((idle) => {
          if (!idle)
            this.#logger.warn(
              { workerId: this.workerId, inFlight: this.#guard.inFlight },
              "stop(): statements sent to an unresponsive database were still in flight at the deadline",
            );
        }),
      ]);
      this.#state = "stopped";
      this.#logger.info({ workerId: this.workerId }, "persistent-queue stopped");
    })();
    return this.#stopped;
  }

  /**
   * Prometheus text (exposition format 0.0.4) of this queue's job table and of this
   * queue's runs in this process: {@link prometheusMetrics} with `{ tables, queues: [this] }`.
   */
  prometheusMetrics(): Promise<string> {
    return prometheusMetrics(this.#db, { tables: this.#tables, queues: [this] });
  }

  /** Jobs this process holds right now, over all types. */
  get activeCount(): number {
    let n = 0;
    for (const w of this.#workers.values()) n += w.held;
    return n;
  }

  #assertAccepting(): void {
    if (this.#state === "stopping" || this.#state === "stopped") {
      throw new QueueStateError(
        "add() after stop(): the queue no longer accepts jobs. Create a new queue, or add before stopping.",
      );
    }
  }

  /**
   * Jobs `ids` were just given a final status by this process: wakes this
   * queue's waitFor() callers, and (PostgreSQL) other processes' through the
   * completion channel, one NOTIFY at a time.
   */
  #announceFinal(dialect: Dialect, ids: readonly number[]): void {
    this.#waiters.wake(ids);
    if (this.#notify) this.#doneNotifier.notify(dialect, ids);
  }

  /** The wake-up channel (enqueues), or with "done" the completion channel (waitFor). */
  #channel(kind?: "done"): string {
    return `pq_${kind ? `${kind}_` : ""}${this.#tables.jobs}`.slice(0, 63);
  }

  #resolveDialect(): Promise<Dialect> {
    this.#dialect ??= resolveDialect(this.#db);
    return this.#dialect;
  }

  /**
   * Throws {@link SchemaVersionError} unless the tables are at this build's
   * schema version; checked once (through `db`, which may be the caller's
   * transaction), a failure again on the next call.
   */
  #checkSchema(db: DB): Promise<void> {
    if (this.#schemaChecked === undefined) {
      const check = (async () =>
        assertSchemaCurrent(
          db,
          await (db === this.#db ? this.#resolveDialect() : resolveDialect(db)),
          this.#tables,
        ))();
      this.#schemaChecked = check;
      check.catch(() => {
        if (this.#schemaChecked === check) this.#schemaChecked = undefined;
      });
    }
    return this.#schemaChecked;
  }
}

/** Longest sleep of the schedule loop: how soon a schedule added by another process is seen. */
const SCHEDULE_POLL_MS = 1000;

/** The DB offers LISTEN. */
function hasListen(db: DB): db is DB & Required<Pick<DB, "listen">> {
  return db.listen !== undefined;
}

/** `work`, or nothing once `deadline` (epoch ms) has passed, whichever comes first. */
async function withinDeadline(work: Promise<void>, deadline: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    work,
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
    }),
  ]);
  clearTimeout(timer);
}
