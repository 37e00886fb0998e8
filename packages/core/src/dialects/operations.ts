import type { DB, Row } from "../db.js";
import type { JobStatus } from "../job-status.js";
import type { NewJobRow } from "../statements/jobs.js";

/**
 * The engine's side of a dialect: the operations it runs on the job table and
 * the values they take and give. No SQL here; each dialect's statements.ts
 * implements them.
 */

/** The firstPullDay cut-off a worker takes at start-up; see {@link ClaimParams.stale}. */
export interface StaleCutoff {
  readonly beforeMs: number;
  readonly belowId: number;
}

/**
 * The flow-control tables (job types, job groups, job starts) and this queue's
 * scope in them (its job table's name).
 */
export interface FlowTables {
  readonly scope: string;
  readonly types: string;
  readonly groups: string;
  readonly starts: string;
}

/** At most `max` starts in any window of `perMs`. */
export interface RateWindow {
  readonly max: number;
  readonly perMs: number;
}

/**
 * Cluster-wide limits one claim honours. Concurrency is counted over the job
 * type's running rows whose lease has not expired (a crashed worker's jobs stop
 * counting when their lease does); rates over the starts recorded in the
 * job-starts table.
 */
export interface ClaimLimits {
  /** At most this many jobs of the type running at once in the cluster. */
  readonly global?: number | undefined;
  /** At most this many jobs of one group (`group_key`) running at once; jobs without a group are not limited by it. */
  readonly group?: number | undefined;
  /** At most this many starts of the type per window. */
  readonly rate?: RateWindow | undefined;
  /** At most this many starts of one group per window; jobs without a group are not limited by it. */
  readonly groupRate?: RateWindow | undefined;
}

/** Inputs of {@link JobOperations.claim}. */
export interface ClaimParams {
  readonly table: string;
  readonly jobType: number;
  /** The one claimable status this claim takes (Init, Continue or Retry). */
  readonly status: JobStatus;
  /**
   * The seed's firstPullDay: rows with status 0 (init) that were in the table
   * at start-up (id below `belowId`) and had become due before `beforeMs`
   * (epoch ms, database clock) are not claimed. Undefined: no cut-off.
   */
  readonly stale: StaleCutoff | undefined;
  readonly limit: number;
  /** The lease token written to every claimed row; completions must present it. */
  readonly token: string;
  readonly leaseMs: number;
  readonly workerId: string;
  /** The flow-control tables: a paused or backed-off type is not claimed. */
  readonly flow: FlowTables;
  /**
   * Cluster-wide limits of the type. Present: claims of the type in the whole
   * cluster pass one at a time through the type's row in the job-types table,
   * which must exist (see `ensureTypeState`).
   */
  readonly limits?: ClaimLimits | undefined;
  /**
   * With `limits`: running jobs of this worker whose handler has finished and
   * whose outcome is still being written. They run no more, so the limits do
   * not count them (other workers do until the outcome is written).
   */
  readonly finishedIds?: readonly number[] | undefined;
}

/**
 * The claim an in-process `add()` inserts its job with, when a free slot of
 * this process takes it at once (see {@link JobOperations.insertClaimedJob}).
 */
export interface HandOffClaim {
  readonly token: string;
  readonly leaseMs: number;
  readonly workerId: string;
  /** The type's paused and back-off state: a paused type's job is inserted waiting. */
  readonly flow: FlowTables;
}

/** A job the engine holds: its id and the lease token of its claim. */
export interface JobLease {
  readonly id: number;
  readonly token: string;
}

/** A successful run for {@link JobOperations.completeSucceeded}: its lease, and its result as JSON text, if any. */
export interface SucceededRun extends JobLease {
  readonly result?: string | undefined;
}

/** What {@link JobOperations.completeSucceeded} knows after its write. */
export interface SucceededWrite {
  /** The runs the write completed, as far as its result says. */
  readonly completed: readonly JobLease[];
  /**
   * True when `completed` is exactly the runs this write completed (the rows of
   * UPDATE … RETURNING). False when the result only counts rows: then a shortfall
   * must be confirmed by (id, token).
   */
  readonly exact: boolean;
}

/** What a finished run writes (see `completeJob` in statements/jobs.ts). */
export interface Completion {
  readonly id: number;
  readonly token: string;
  readonly status: JobStatus.Success | JobStatus.Failed | JobStatus.Continue | JobStatus.Retry;
  /** For Continue/Retry: run again this many ms after the database's now. */
  readonly runAfterMs?: number | undefined;
  /** The failure message, already truncated; undefined leaves last_error as it is. */
  readonly lastError?: string | undefined;
  /** The run's result as JSON text (checked against its limit); undefined leaves `result` as it is. */
  readonly result?: string | undefined;
}

/**
 * The operations the engine runs on the job table (River's driver operations):
 * the engine never sees SQL, and never asks which database it is on. Each
 * runs on `db` (the queue's guarded DB) and resolves plain values; the
 * statements behind them, with their locking and fencing, are described in
 * statements/jobs.ts and the dialects' statements.ts. Every dialect implements
 * them; the ones that are the same everywhere come from `commonJobOperations`.
 */
export interface JobOperations {
  /**
   * Claims (the dialect's `statements.claimJobs`) and resolves the claimed rows
   * (the columns of `JOB_COLUMNS`), whichever round trips that takes on this
   * database. A rejection after the claim was sent leaves its outcome unknown.
   */
  claim(db: DB, p: ClaimParams): Promise<Row[]>;
  /**
   * The batched completion of successful runs, each fenced by its (id, token)
   * pair, with its result where it has one (one statement), and what its
   * result says was completed.
   */
  completeSucceeded(db: DB, table: string, jobs: readonly SucceededRun[]): Promise<SucceededWrite>;
  /** The runs among `jobs` now Success under their very token: the ones a batch completed. */
  confirmSucceeded(db: DB, table: string, jobs: readonly JobLease[]): Promise<JobLease[]>;
  /** Writes one run's outcome, fenced by its token; resolves the rows written (1, or 0: lease lost). */
  complete(db: DB, table: string, completion: Completion): Promise<number>;
  /** True when the run left Running with this token for this status: a write whose reply was lost did commit. */
  confirmCompleted(
    db: DB,
    table: string,
    completion: Pick<Completion, "id" | "token" | "status">,
  ): Promise<boolean>;
  /** Heartbeat: extends the leases of running `ids` held under `tokens`; resolves the rows extended. */
  extendLeases(
    db: DB,
    table: string,
    ids: readonly number[],
    tokens: readonly string[],
    leaseMs: number,
  ): Promise<number>;
  /** The ids among `ids` still running under one of `tokens`. */
  stillLeased(
    db: DB,
    table: string,
    ids: readonly number[],
    tokens: readonly string[],
  ): Promise<number[]>;
  /** Writes a running job's progress (JSON text), fenced by its token; resolves the rows written (1, or 0: lease lost). */
  writeProgress(db: DB, table: string, lease: JobLease, progress: string): Promise<number>;
  /**
   * The runs among `jobs` (whose lease a heartbeat found gone) that `cancel()`
   * ended: status Cancelled under their very token. Resolves their ids.
   */
  cancelledRuns(db: DB, table: string, jobs: readonly JobLease[]): Promise<number[]>;
  /** Hands held jobs back, claimable at once, each fenced by its token; resolves how many were. */
  release(db: DB, table: string, jobs: readonly JobLease[], reason: string): Promise<number>;
  /** Expired leases of one job type become Retry, or Failed past `attemptLimit`; resolves how many. */
  rescueExpired(db: DB, table: string, jobType: number, attemptLimit: number): Promise<number>;
  /**
   * Ms from the database's now until the next job of this type is due (≤ 0: now;
   * Infinity: none, or the type is paused in `flow`).
   */
  nextDue(
    db: DB,
    table: string,
    jobType: number,
    cutoff: StaleCutoff | undefined,
    flow?: FlowTables,
  ): Promise<number>;
  /** The running jobs of this type `workerId` holds by the database's account, with `lease_token` and `lease_left`. */
  ownRunning(db: DB, table: string, jobType: number, workerId: string): Promise<Row[]>;
  /**
   * Enqueues `rows` with one INSERT and resolves their ids in input order
   * (INSERT … RETURNING where the database has it, else the driver's insert id).
   */
  insertJobs(db: DB, table: string, rows: readonly NewJobRow[]): Promise<number[]>;
  /**
   * Enqueues one due job already claimed under `claim` (Running, its lease and
   * worker set, attempts 1), unless its type is paused or backing off: then it
   * is inserted waiting, as `insertJobs` would. Resolves its id, and the claimed
   * row (the claim's columns) when it was inserted claimed. One statement
   * (INSERT … RETURNING); absent where the database has no INSERT … RETURNING
   * (MySQL 8): the job is then enqueued and claimed as any other.
   */
  insertClaimedJob?(
    db: DB,
    table: string,
    row: NewJobRow,
    claim: HandOffClaim,
  ): Promise<{ id: number; claimed: Row | undefined }>;
  /**
   * At a worker's start: where the database's planner has no statistics of the
   * job table yet (never analyzed), gathers them, and resolves true. Without them
   * PostgreSQL estimated one row per status and sorted every waiting row in each
   * claim instead of reading the due index in order (a 20,000-job drain of a fresh
   * table: 18 ms per claim, 1,300 jobs/s, against 3.7 ms and 3,900 after ANALYZE).
   * Absent where the database needs nothing (MySQL takes index hints, SQLite's
   * planner reads no statistics unless asked).
   */
  refreshStatistics?(db: DB, table: string): Promise<boolean>;
  /** {@link JobOperations.insertJobs} through the DB's synchronous calls (`addSync()`). */
  insertJobsSync(db: DB, table: string, rows: readonly NewJobRow[]): number[];
  /**
   * Enqueues one job that has a unique key (`row.uniqueKey`), resolving a
   * conflict with an unfinished job of its type and key as `row.onConflict`
   * says, in the unique index (race-free across connections). Resolves the id
   * of the job inserted, or of the existing one.
   */
  insertUniqueJob(db: DB, table: string, row: NewJobRow): Promise<number>;
  /** {@link JobOperations.insertUniqueJob} through the DB's synchronous calls (`addSync()`). */
  insertUniqueJobSync(db: DB, table: string, row: NewJobRow): number;
  /** firstPullDay at start-up: the cut-off for never-run jobs, and how many it leaves alone. */
  firstPull(
    db: DB,
    table: string,
    jobType: number,
    days: number,
  ): Promise<{ cutoff: StaleCutoff; skipped: number }>;
}
