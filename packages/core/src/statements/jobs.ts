/**
 * Every statement the engine runs on the job table, one function each. They
 * are written once against the dialect's hooks (placeholders, the database's
 * clock); where the text or the round trips differ, the dialect provides the
 * operation (the claim, the batched completion). All times are the database's.
 */

import { dueSince, firstDueOfLevel, JOB_COLUMNS, jobColumns, typeOpen } from "../dialects/claim.js";
import type {
  Completion,
  FlowTables,
  HandOffClaim,
  InsertJobRows,
  InsertRow,
  OnConflict,
  SqlHooks,
  StaleCutoff,
  UniqueInsertForm,
} from "../dialects/dialect.js";
import { leaseFence } from "../dialects/lease-fence.js";
import { ident, join, raw, type SqlFragment, type SqlPart, sql } from "../dialects/sql.js";
import { JobStatus } from "../job-status.js";
import { claimIndexName } from "../schema/tables.js";

/**
 * Most jobs one statement binds as a list. Each costs up to three parameters
 * (id, and the (id, token) pair), so a statement stays far below the smallest
 * limit here, SQLite's 32,766 (PostgreSQL: 65,535), however many jobs a
 * worker holds: callers split longer lists with {@link chunks}.
 */
export const MAX_LIST = 1000;

/** `items` in consecutive slices of at most `size`. */
export function chunks<T>(items: readonly T[], size = MAX_LIST): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** One row for `insertJobs`. */
export interface NewJobRow {
  readonly jobType: number;
  /** The params as JSON text (already checked against the column size). */
  readonly params: string;
  /** Absolute due time in epoch ms, or undefined. */
  readonly dueAtMs?: number | undefined;
  /** Delay from the database's now, in ms, or undefined. */
  readonly delayMs?: number | undefined;
  /** Lower runs first; 0 when undefined. */
  readonly priority?: number | undefined;
  /** At most one unfinished job per (job type, key): enqueued with `insertUniqueJob`. */
  readonly uniqueKey?: string | undefined;
  /** The job's group (`group_key`), for per-group limits; undefined: none. */
  readonly group?: string | undefined;
  /** With `uniqueKey`: what meeting an unfinished job with the key does; default "keep". */
  readonly onConflict?: OnConflict | undefined;
  /** The enqueuing span's trace context (`trace_context`, schema version 6); undefined: NULL. */
  readonly traceContext?: string | undefined;
}

/** The statuses of an unfinished job: the ones the unique-key index holds (waiting, continuing, retrying, running). */
export const LIVE_STATUSES = [
  JobStatus.Init,
  JobStatus.Continue,
  JobStatus.Retry,
  JobStatus.Running,
] as const;

/**
 * SQL: the unique-key index's predicate, as PostgreSQL's and SQLite's partial
 * index (`<jobs>_unique_idx`) spell it, in literals: an ON CONFLICT target must
 * imply it, which the planner cannot see through bound parameters.
 */
export const UNIQUE_LIVE_PREDICATE = `unique_key IS NOT NULL AND job_status IN (${LIVE_STATUSES.join(", ")})`;

/** SQL: the condition under which "replace" may rewrite a job: it has not started (waiting, never run). */
export const NOT_STARTED = `job_status = ${JobStatus.Init} AND attempts = 0`;

/**
 * Enqueue: one INSERT for all rows, status Init. start_time keeps the seed's
 * meaning (unix seconds, 0 = now) and run_at carries the exact ms.
 * Params: the rows. Result: with `returning`, rows `{ id }` in insert order;
 * otherwise the driver's insertId (MySQL: the first id). Locks: none beyond the insert.
 */
export function insertJobs(
  d: SqlHooks,
  table: string,
  rows: readonly NewJobRow[],
  returning: boolean,
  rowsForm?: InsertJobRows,
): SqlFragment {
  const resolved = rows.map(toInsertRow);
  if (resolved.length > 1 && rowsForm) return rowsForm(table, resolved, returning);
  return sql`INSERT INTO ${ident(table)} (params, job_type, job_status, start_time, run_at, priority, group_key, trace_context, create_time, update_time)
  VALUES ${join(resolved.map((r) => insertValues(d, r)))}${raw(returning ? " RETURNING id" : "")}`;
}

/**
 * Enqueue of one due job already claimed (an in-process hand-off): the plain
 * INSERT's columns plus the claim's (`job_status` Running, `attempts` 1, the
 * lease and the worker), each under the condition that the type is open (not
 * paused, not backing off; see {@link typeOpen}), read once in a derived table
 * (its LIMIT keeps PostgreSQL from inlining it into each use):
 * a closed type's job is inserted waiting, as {@link insertJobs} would. Returns
 * the job columns and `job_status`. INSERT … SELECT: PostgreSQL types a bare
 * parameter of a SELECT list as text, so integers go through the dialect's
 * `int()` (the text ones take their column's type on assignment). The check in
 * each of five CASEs of a VALUES list was planned five times: 0.2 ms of
 * planning on PostgreSQL, a third of the statement.
 * Locks: the insert; MySQL reads the type's row in pq_job_types with a shared lock.
 */
export function insertClaimedJob(
  d: SqlHooks,
  table: string,
  row: NewJobRow,
  claim: HandOffClaim,
): SqlFragment {
  const r = toInsertRow(row);
  const open = sql`${ident("t")}.${ident("open")} = 1`;
  // The statuses are literals: PostgreSQL types a CASE of two bare parameters as text.
  const when = (then: SqlPart, otherwise: SqlPart) =>
    sql`CASE WHEN ${open} THEN ${then} ELSE ${otherwise} END`;
  return sql`INSERT INTO ${ident(table)} (params, job_type, job_status, start_time, run_at, priority, group_key, trace_context, create_time, update_time, attempts, lease_token, lease_until, worker_id)
  SELECT ${r.params}, ${d.int(sql`${r.jobType}`)}, ${when(raw(String(JobStatus.Running)), raw(String(JobStatus.Init)))}, 0, 0, ${d.int(sql`${r.priority}`)}, ${r.group ?? null}, ${r.traceContext ?? null}, ${raw(d.nowSec)}, ${raw(d.nowSec)},
    ${when(sql`1`, sql`0`)}, ${when(sql`${claim.token}`, sql`NULL`)}, ${when(sql`${raw(d.nowMs)} + ${claim.leaseMs}`, sql`0`)}, ${when(sql`${claim.workerId}`, sql`NULL`)}
  FROM (SELECT CASE WHEN ${typeOpen(d, claim.flow, r.jobType)} THEN 1 ELSE 0 END AS ${ident("open")} LIMIT 1) AS ${ident("t")}
  RETURNING ${jobColumns()}, job_status`;
}

/**
 * Enqueue of one job with a unique key: the plain INSERT plus `unique_key`,
 * followed by the dialect's conflict clause on the unique-key index, so that
 * the index (not a read before the write) decides between concurrent inserts.
 * Result: see {@link UniqueInsertForm.returning}. Locks: on a conflict the
 * existing row's index entry (MySQL: the row, until the transaction ends;
 * "replace" everywhere: the row it updates).
 */
export function insertUniqueJob(
  d: SqlHooks,
  table: string,
  row: NewJobRow & { readonly uniqueKey: string },
  form: UniqueInsertForm,
): SqlFragment {
  const r = toInsertRow(row);
  const values = insertValues(d, r, sql`, ${row.uniqueKey}`);
  return sql`INSERT INTO ${ident(table)} (params, job_type, job_status, start_time, run_at, priority, group_key, trace_context, create_time, update_time, unique_key)
  VALUES ${values} ${form.conflictClause(table, row.onConflict ?? "keep")}${raw(form.returning ? " RETURNING id" : "")}`;
}

/**
 * Rows `{ id }`: the unfinished job of `jobType` holding `uniqueKey`, at most
 * one (the unique index guarantees it), found through that index. Where a
 * kept conflict returns no id (RETURNING yields only written rows). Locks: none,
 * or a shared lock on that row where the dialect reads it with one (MySQL).
 */
export function selectLiveUnique(
  _d: SqlHooks,
  table: string,
  jobType: number,
  uniqueKey: string,
  form: UniqueInsertForm,
): SqlFragment {
  return sql`SELECT id FROM ${ident(table)}
  WHERE job_type = ${jobType} AND ${ident(form.liveKeyColumn)} = ${uniqueKey} AND ${raw(UNIQUE_LIVE_PREDICATE)}${raw(form.readSuffix)}`;
}

/** One row's `(…)` of the enqueue's VALUES list; `extra` adds columns after update_time. */
function insertValues(d: SqlHooks, r: InsertRow, extra: SqlFragment = sql``): SqlFragment {
  let startTime: SqlFragment;
  let runAt: SqlFragment;
  if (r.due) {
    startTime = sql`${r.due.startTime}`;
    runAt = sql`${r.due.runAt}`;
  } else if (r.delayMs !== undefined) {
    const due = sql`(${raw(d.nowMs)} + ${r.delayMs})`;
    startTime = d.intDiv(due, raw("1000"));
    runAt = due;
  } else {
    startTime = sql`0`;
    runAt = sql`0`;
  }
  return sql`(${r.params}, ${r.jobType}, ${JobStatus.Init}, ${startTime}, ${runAt}, ${r.priority}, ${r.group ?? null}, ${r.traceContext ?? null}, ${raw(d.nowSec)}, ${raw(d.nowSec)}${extra})`;
}

function toInsertRow(r: NewJobRow): InsertRow {
  const row = {
    jobType: r.jobType,
    params: r.params,
    priority: r.priority ?? 0,
    group: r.group,
    traceContext: r.traceContext,
  };
  if (r.dueAtMs !== undefined) {
    return {
      ...row,
      due: { startTime: Math.floor(r.dueAtMs / 1000), runAt: Math.floor(r.dueAtMs) },
    };
  }
  if (r.delayMs !== undefined && r.delayMs > 0) return { ...row, delayMs: Math.ceil(r.delayMs) };
  return row;
}

/**
 * Completion, fenced: written only while the row is still running under the
 * caller's lease token. 0 rows affected = the lease was lost (expired and
 * taken over, or released), or — after a retried write whose first reply was
 * lost — this very write already committed: {@link confirmCompleted} tells
 * which. The row keeps the token (the next claim replaces it) for that check.
 * A result (JSON text) is written with the outcome; none leaves the column as it is.
 */
export function completeJob(d: SqlHooks, table: string, c: Completion): SqlFragment {
  const runAt =
    c.runAfterMs !== undefined
      ? sql`, run_at = ${raw(d.nowMs)} + ${Math.max(0, Math.ceil(c.runAfterMs))}`
      : sql``;
  const lastError = c.lastError !== undefined ? sql`, last_error = ${c.lastError}` : sql``;
  const result = c.result !== undefined ? sql`, result = ${c.result}` : sql``;
  return sql`UPDATE ${ident(table)} SET job_status = ${c.status}, lease_until = 0, update_time = ${raw(d.nowSec)}${runAt}${lastError}${result}
  WHERE id = ${c.id} AND lease_token = ${c.token} AND job_status = ${JobStatus.Running}`;
}

/**
 * Rows `{ id }`: job `id` if it left Running with this token for `status` —
 * i.e. a completion whose reply was lost did commit. A later claim replaces
 * the token, so another run's write is never mistaken for this one's.
 */
export function confirmCompleted(
  _d: SqlHooks,
  table: string,
  c: Pick<Completion, "id" | "token" | "status">,
): SqlFragment {
  return sql`SELECT id FROM ${ident(table)} WHERE id = ${c.id} AND lease_token = ${c.token} AND job_status = ${c.status}`;
}

/**
 * Heartbeat: extends the leases of this worker's running jobs by `leaseMs`
 * from the database's now. Fenced by token: a job whose lease was taken over
 * is not extended (affected < ids → find the lost ones with {@link stillLeased}).
 */
export function extendLeases(
  d: SqlHooks,
  table: string,
  ids: readonly number[],
  tokens: readonly string[],
  leaseMs: number,
): SqlFragment {
  return sql`UPDATE ${ident(table)} SET lease_until = ${raw(d.nowMs)} + ${leaseMs}
  WHERE job_status = ${JobStatus.Running} AND id IN (${ids}) AND lease_token IN (${tokens})`;
}

/** Rows `{ id }` among `ids` still running under one of `tokens`. */
export function stillLeased(
  _d: SqlHooks,
  table: string,
  ids: readonly number[],
  tokens: readonly string[],
): SqlFragment {
  return sql`SELECT id FROM ${ident(table)} WHERE job_status = ${JobStatus.Running} AND id IN (${ids}) AND lease_token IN (${tokens})`;
}

/**
 * Hands claimed jobs back (at shutdown, or a claim this worker will not run),
 * claimable again at once (status Retry, run_at 0), in one statement per
 * {@link MAX_LIST} jobs, each fenced by its own (id, token) pair. The
 * interrupted run stays counted in attempts. Affected rows = jobs handed back.
 */
export function releaseJobs(
  d: SqlHooks,
  table: string,
  jobs: readonly { readonly id: number; readonly token: string }[],
  reason: string,
): SqlFragment {
  return sql`UPDATE ${ident(table)} SET job_status = ${JobStatus.Retry}, lease_token = NULL, lease_until = 0, run_at = 0,
    last_error = ${reason}, update_time = ${raw(d.nowSec)}
  WHERE ${leaseFence(jobs)} AND job_status = ${JobStatus.Running}`;
}

/**
 * Rows: the running jobs of this type that `workerId` holds by the database's
 * account, with their token and the ms left on their lease. After a claim
 * whose reply was lost (committed, never seen), the worker finds the jobs it
 * claimed unknowingly here and adopts them, instead of leaving them to wait
 * out their lease.
 */
export function selectOwnRunning(
  d: SqlHooks,
  table: string,
  jobType: number,
  workerId: string,
): SqlFragment {
  return sql`SELECT ${jobColumns()}, lease_token, lease_until - ${raw(d.nowMs)} AS lease_left FROM ${ident(table)} ${raw(d.forceIndex(claimIndexName(table)))}
  WHERE job_status = ${JobStatus.Running} AND job_type = ${jobType} AND worker_id = ${workerId} ORDER BY id`;
}

/**
 * Rescue: jobs of one type whose lease expired (their worker died or hung
 * without heartbeats) become claimable again as Retry, or Failed once they
 * have used `attemptLimit` attempts (a poison job that kills its worker every
 * time must end). Idempotent; any worker may run it.
 */
export function rescueExpired(
  d: SqlHooks,
  table: string,
  jobType: number,
  attemptLimit: number,
): SqlFragment {
  return sql`UPDATE ${ident(table)} SET
    job_status = CASE WHEN attempts >= ${attemptLimit} THEN ${raw(String(JobStatus.Failed))} ELSE ${raw(String(JobStatus.Retry))} END,
    last_error = CASE WHEN attempts >= ${attemptLimit}
      THEN ${"lease expired too many times: the job's worker died or hung on every attempt"}
      ELSE ${"lease expired: the worker died or stopped heartbeating; running again"} END,
    lease_token = NULL, lease_until = 0, run_at = 0, update_time = ${raw(d.nowSec)}
  WHERE job_status = ${JobStatus.Running} AND job_type = ${jobType} AND lease_until < ${raw(d.nowMs)}`;
}

/**
 * Rows `{ wait }`: ms from the database's now until the next job of this type
 * is due (≤ 0: due now; NULL: nothing pending). Lets an idle worker sleep
 * exactly until a delayed job's time. Seeks only (the first due row of each
 * status and priority level), so a large delayed backlog costs nothing. Init
 * rows left alone by the firstPullDay cut-off do not count.
 */
export function nextDue(
  d: SqlHooks,
  table: string,
  jobType: number,
  cutoff: StaleCutoff | undefined,
  flow?: FlowTables,
): SqlFragment {
  const levels = d.priorityLevels(
    table,
    [JobStatus.Init, JobStatus.Continue, JobStatus.Retry],
    jobType,
  );
  const paused = flow ? sql` WHERE ${typeOpen(d, flow, jobType)}` : sql``;
  return sql`SELECT MIN(${firstDueOfLevel(d, table, jobType, cutoff)}) - ${raw(d.nowMs)} AS wait FROM (${levels}) AS ${ident("lvl")}${paused}`;
}

/**
 * The seed's firstPullDay, at start-up. Rows `{ stale_before, skipped }`: the
 * instant (epoch ms, database clock, whole seconds) before which a never-run
 * job must have become due to be left alone — `days` ago, or now with
 * `days` < 0 — and how
 * many Init jobs of this type that leaves alone. A job not yet due, or due
 * since then, always runs.
 */
export function firstPull(d: SqlHooks, table: string, jobType: number, days: number): SqlFragment {
  // Whole seconds: create_time, the due time of a job to run at once, has no finer unit,
  // and a job created in the second of start-up but after it must not count as stale.
  const cutoff = sql`(${raw(d.nowSec)} * 1000 - ${days < 0 ? 0 : Math.floor(days * 86_400_000)})`;
  const t = ident(table);
  return sql`SELECT ${cutoff} AS stale_before, (SELECT COALESCE(MAX(id), 0) + 1 FROM ${t}) AS below_id, COUNT(*) AS skipped FROM ${t}
  WHERE job_status = ${JobStatus.Init} AND job_type = ${jobType} AND ${dueSince(d)} < ${cutoff}`;
}

/**
 * Progress, fenced like a completion: `progress` (JSON text) is written only
 * while job `id` is running under `token`. 0 rows affected: the run lost its
 * lease (or finished); nothing is written. Primary-key lookup, one row locked.
 */
export function updateProgress(
  _d: SqlHooks,
  table: string,
  id: number,
  token: string,
  progress: string,
): SqlFragment {
  return sql`UPDATE ${ident(table)} SET progress = ${progress}
  WHERE id = ${id} AND lease_token = ${token} AND job_status = ${JobStatus.Running}`;
}

/**
 * Rows `{ job_type, job_status, result, last_error }` of job `id` (none: no
 * such job), for `queue.waitFor()`: what it reads on each check. Primary-key
 * lookup, no locks.
 */
export function selectOutcome(_d: SqlHooks, table: string, id: number): SqlFragment {
  return sql`SELECT job_type, job_status, result, last_error FROM ${ident(table)} WHERE id = ${id}`;
}

/** The columns of {@link selectJob}: the claim's and the rest, each once (the mariadb driver refuses a repeated name). */
const JOB_RECORD_COLUMNS = [
  ...new Set([
    ...JOB_COLUMNS,
    "job_status",
    "run_at",
    "lease_until",
    "worker_id",
    "update_time",
    "priority",
    "unique_key",
    "result",
    "progress",
  ]),
].join(", ");

/** Rows of a job by id, for `queue.getJob()` and tests. */
export function selectJob(_d: SqlHooks, table: string, id: number): SqlFragment {
  return sql`SELECT ${raw(JOB_RECORD_COLUMNS)}
  FROM ${ident(table)} WHERE id = ${id}`;
}

/**
 * After the batched completion of successes (the dialect's `completeSucceeded`),
 * where its result cannot say which runs it completed (MySQL counts rows) and a
 * batch matched fewer rows than it had, or a retried batch's first reply was lost: rows
 * `{ id, lease_token }` now Success under the very (id, token) pairs of the
 * batch, i.e. the ones this batch completed. A stale run of a job that a
 * later claim (even this worker's) completed has another token: not listed.
 */
export function confirmSucceeded(
  _d: SqlHooks,
  table: string,
  jobs: readonly { readonly id: number; readonly token: string }[],
): SqlFragment {
  return sql`SELECT id, lease_token FROM ${ident(table)} WHERE ${leaseFence(jobs)} AND job_status = ${JobStatus.Success}`;
}

export type { Completion };
