import { JobStatus } from "../job-status.js";
import { claimIndexName } from "../schema/tables.js";
import type {
  ClaimLimits,
  ClaimParams,
  FlowTables,
  RateWindow,
  SqlHooks,
  StaleCutoff,
} from "./dialect.js";
import { ident, join, type RawSql, raw, type SqlFragment, type SqlPart, sql } from "./sql.js";

/**
 * The rows one claim may take: one claimable status, the job type, due by the
 * database's clock, the lowest priority that has a due row, and within it the
 * earliest due first (then the oldest id); for never-run rows, also the
 * firstPullDay cut-off (see {@link dueSince}). Shared by the three dialects'
 * claim statements.
 *
 * Served by the due index (job_status, job_type, priority, due time, id) with
 * seeks only, so rows not yet due cost nothing however many there are: the
 * priority levels present come from a loose index scan ({@link SqlHooks.priorityLevels}),
 * each level's first due row from one seek, and the rows taken are one range of
 * the index. A plain `WHERE due <= now ORDER BY priority, due` walked past every
 * not-yet-due row of the lower levels instead: with 100k delayed rows and none
 * due, 11 ms per claim on PostgreSQL and 58 ms on MariaDB, against about 1 ms.
 *
 * One status per claim, on purpose: with `job_status IN (0, 3, 4)` every database
 * here sorted all pending rows per claim instead (and MariaDB's locking read then
 * locked them all).
 */
export function pickDue(
  d: SqlHooks,
  p: ClaimParams,
  priority?: number,
  lock: string = d.lockRowsClause,
): SqlFragment {
  return sql`SELECT ${ident("id")}, ${ident("job_status")} AS prev_status FROM ${ident(p.table)}
  WHERE ${dueRows(d, p, priority)}
  ORDER BY ${raw(d.dueMs)}, ${ident("id")}
  LIMIT ${p.limit}
  ${raw(lock)}`;
}

/**
 * The pick of an optimistic claim (`claimLocking: "optimistic"`): the rows
 * {@link pickDue} would take, read without row locks. Rows `(id, prev_status)`, by
 * id: the UPDATE that follows locks them in that order, so two claims whose picks
 * overlap wait for each other instead of deadlocking (in random order they did, on
 * PostgreSQL: each UPDATE held a row the other wanted). Nothing is locked by the
 * pick: the UPDATE takes only the rows still claimable ({@link stillClaimable}).
 *
 * Claimers race for the same first rows; the losers take fewer rows and claim again
 * at once. Picking at random among the first 4 × limit rows spread them, but gave up
 * the claim order (oldest due first) even for a lone claimer, which the engine
 * promises: measured in docs/scaling.md.
 */
export function pickOptimistic(d: SqlHooks, p: ClaimParams, priority?: number): SqlFragment {
  const r = (column: string) => sql`${ident("r")}.${ident(column)}`;
  return sql`SELECT ${r("id")}, ${r("prev_status")} FROM (${pickDue(d, p, priority, "")}) AS ${ident("r")} ORDER BY ${r("id")}`;
}

/**
 * SQL condition, the compare-and-set of an optimistic claim: the job row
 * (its columns unqualified: the UPDATE's other tables must not have them) is still what the pick read — in the
 * status `status`, and due. Re-checked by the UPDATE on the newest committed row
 * (PostgreSQL READ COMMITTED re-evaluates the WHERE on the row another claim just
 * changed; an InnoDB UPDATE reads the latest committed version): of two claims
 * racing for a row, the second finds it running and skips it. Due as well as in
 * its status, because a row claimed, failed and back in the same status meanwhile
 * may not be due yet (its retry delay).
 */
export function stillClaimable(d: SqlHooks, status: SqlPart): SqlFragment {
  return sql`${ident("job_status")} = ${status} AND ${raw(d.dueMs)} <= ${raw(d.nowMs)}`;
}

/**
 * SQL condition: the rows {@link pickDue} may take, before ordering. `priority`:
 * the level, when the caller already read it; else the {@link dueLevel} subquery.
 */
function dueRows(d: SqlHooks, p: ClaimParams, priority?: number): SqlFragment {
  const cutoff =
    p.status === JobStatus.Init && p.stale !== undefined ? sql`AND ${notStale(d, p.stale)}` : sql``;
  const level = priority === undefined ? sql`(${dueLevel(d, p)})` : sql`${priority}`;
  return sql`${ident("job_status")} = ${p.status}
    AND ${ident("job_type")} = ${p.jobType}
    AND ${ident("priority")} = ${level}
    AND ${raw(d.dueMs)} <= ${raw(d.nowMs)}
    ${cutoff}`;
}

/**
 * The claim's pick for a job type with cluster-wide limits (`globalConcurrency`,
 * `groupConcurrency`, `rateLimit`, `groupRateLimit`, back-off): the rows
 * {@link pickDue} would take, minus what the limits leave no room for. Running
 * jobs are the type's running rows with a live lease (a crashed worker's jobs
 * stop counting when their lease expires); starts are the rows of the
 * job-starts table within the window. Rows `(id, prev_status)`, in claim order.
 *
 * Correct only when no other claim of the type runs between its reads and its
 * write: the dialects serialize them on the type's row in the job-types table
 * (PostgreSQL: a gate in the same statement, MySQL: a locking read in one
 * transaction; SQLite has one writer). `lock` ends the candidates' read
 * (PostgreSQL: FOR UPDATE SKIP LOCKED); `also` is one more condition on them.
 *
 * Groups: rows of a group that is full (by concurrency or rate) or backing off
 * are skipped (other groups go on: no head-of-line blocking), and a group with
 * room takes at most that room, its oldest due rows first. Groups therefore
 * share workers oldest job first: a claim takes the earliest due rows of the
 * groups that have room. A claim looks at most at {@link limitedCandidates} rows.
 */
export function pickLimited(
  d: SqlHooks,
  p: ClaimParams,
  limits: ClaimLimits,
  lock: string,
  also: SqlFragment = sql``,
): SqlFragment {
  const t = ident(p.table);
  const f = p.flow;
  const c = (alias: string, column: string) => sql`${ident(alias)}.${ident(column)}`;
  const groupKey = ident("group_key");
  const finished = p.finishedIds?.length
    ? sql` AND ${ident("id")} NOT IN (${join(p.finishedIds.map((id) => sql`${id}`))})`
    : sql``;
  const running = sql`${ident("job_status")} = ${JobStatus.Running} AND ${ident("job_type")} = ${p.jobType} AND ${ident("lease_until")} > ${raw(d.nowMs)}${finished}`;
  // Running rows are read through the claim index (status, type): on a freshly filled
  // table MySQL's statistics can say most rows are running, and the count, which also
  // reads each row's lease, then scanned the whole table in every claim.
  const runningRows = sql`${t} ${raw(d.forceIndex(claimIndexName(p.table)))}`;
  const flowRow = sql`${ident("scope")} = ${f.scope} AND ${ident("job_type")} = ${p.jobType}`;
  const startedSince = (w: RateWindow) =>
    sql`${flowRow} AND ${ident("started_ms")} > ${raw(d.nowMs)} - ${w.perMs}`;
  // Per group: running jobs, and starts within the group window. Each is read once, as a
  // CTE that both the candidates (to skip full groups) and the room per group use.
  const perGroup: SqlFragment[] = [];
  const groupRunning = ident("pq_group_running");
  const groupStarts = ident("pq_group_starts");
  if (limits.group !== undefined)
    perGroup.push(
      sql`${groupRunning} AS (SELECT ${groupKey} AS g, COUNT(*) AS n FROM ${runningRows} WHERE ${running} AND ${groupKey} IS NOT NULL GROUP BY ${groupKey})`,
    );
  if (limits.groupRate !== undefined)
    perGroup.push(
      sql`${groupStarts} AS (SELECT ${groupKey} AS g, COUNT(*) AS n FROM ${ident(f.starts)} WHERE ${startedSince(limits.groupRate)} AND ${groupKey} IS NOT NULL GROUP BY ${groupKey})`,
    );
  const closedGroups: SqlFragment[] = [
    sql`SELECT ${groupKey} FROM ${ident(f.groups)} WHERE ${flowRow} AND ${ident("backoff_until")} > ${raw(d.nowMs)}`,
  ];
  if (limits.group !== undefined)
    closedGroups.push(
      sql`SELECT ${c("r", "g")} FROM ${groupRunning} AS ${ident("r")} WHERE ${c("r", "n")} >= ${limits.group}`,
    );
  if (limits.groupRate !== undefined)
    closedGroups.push(
      sql`SELECT ${c("s", "g")} FROM ${groupStarts} AS ${ident("s")} WHERE ${c("s", "n")} >= ${limits.groupRate.max}`,
    );
  const skipClosed = closedGroups.map(
    (q) => sql`AND (${groupKey} IS NULL OR ${groupKey} NOT IN (${q}))`,
  );
  const candidates = sql`SELECT ${ident("id")}, ${ident("job_status")} AS prev_status, ${groupKey} AS g, ${raw(d.dueMs)} AS due FROM ${t}
    WHERE ${dueRows(d, p)} ${join(skipClosed, " ")} ${also}
    ORDER BY ${raw(d.dueMs)}, ${ident("id")}
    LIMIT ${limitedCandidates(p.limit, limits)}
    ${raw(lock)}`;
  let rows = candidates;
  if (limits.group !== undefined || limits.groupRate !== undefined) {
    // Each group's candidates numbered oldest first; a group takes what its room allows.
    const numbered = sql`SELECT ${c("c", "id")}, ${c("c", "prev_status")}, ${c("c", "g")}, ${c("c", "due")},
      ROW_NUMBER() OVER (PARTITION BY ${c("c", "g")} ORDER BY ${c("c", "due")}, ${c("c", "id")}) AS rn
      FROM (${candidates}) AS ${ident("c")}`;
    const joins: SqlFragment[] = [];
    const room: SqlFragment[] = [];
    if (limits.group !== undefined) {
      joins.push(
        sql`LEFT JOIN ${groupRunning} AS ${ident("r")} ON ${c("r", "g")} = ${c("w", "g")}`,
      );
      room.push(sql`${c("w", "rn")} <= ${limits.group} - COALESCE(${c("r", "n")}, 0)`);
    }
    if (limits.groupRate !== undefined) {
      joins.push(sql`LEFT JOIN ${groupStarts} AS ${ident("s")} ON ${c("s", "g")} = ${c("w", "g")}`);
      room.push(sql`${c("w", "rn")} <= ${limits.groupRate.max} - COALESCE(${c("s", "n")}, 0)`);
    }
    rows = sql`SELECT ${c("w", "id")}, ${c("w", "prev_status")}, ${c("w", "g")}, ${c("w", "due")} FROM (${numbered}) AS ${ident("w")}
      ${join(joins, " ")}
      WHERE ${c("w", "g")} IS NULL OR (${join(room, " AND ")})`;
  }
  if (limits.global !== undefined || limits.rate !== undefined) {
    // The rows left, numbered in claim order; the type takes what the cluster's room allows.
    const numbered = sql`SELECT ${c("v", "id")}, ${c("v", "prev_status")}, ${c("v", "due")},
      ROW_NUMBER() OVER (ORDER BY ${c("v", "due")}, ${c("v", "id")}) AS k
      FROM (${rows}) AS ${ident("v")}`;
    const joins: SqlFragment[] = [];
    const room: SqlFragment[] = [];
    if (limits.global !== undefined) {
      joins.push(
        sql`CROSS JOIN (SELECT COUNT(*) AS n FROM ${runningRows} WHERE ${running}) AS ${ident("tot")}`,
      );
      room.push(sql`${c("x", "k")} <= ${limits.global} - ${c("tot", "n")}`);
    }
    if (limits.rate !== undefined) {
      joins.push(
        sql`CROSS JOIN (SELECT COUNT(*) AS n FROM ${ident(f.starts)} WHERE ${startedSince(limits.rate)}) AS ${ident("rec")}`,
      );
      room.push(sql`${c("x", "k")} <= ${limits.rate.max} - ${c("rec", "n")}`);
    }
    rows = sql`SELECT ${c("x", "id")}, ${c("x", "prev_status")}, ${c("x", "due")} FROM (${numbered}) AS ${ident("x")}
      ${join(joins, " ")}
      WHERE ${join(room, " AND ")}`;
  }
  const ctes = perGroup.length ? sql`WITH ${join(perGroup, ", ")} ` : sql``;
  return sql`${ctes}SELECT ${c("y", "id")}, ${c("y", "prev_status")} FROM (${rows}) AS ${ident("y")}
    ORDER BY ${c("y", "due")}, ${c("y", "id")} LIMIT ${p.limit}`;
}

/** True when a claim must record its starts in the job-starts table: the type has a rate limit. */
export function recordsStarts(limits: ClaimLimits | undefined): boolean {
  return limits?.rate !== undefined || limits?.groupRate !== undefined;
}

/**
 * How many due rows a limited claim looks at: its batch, and where groups are
 * limited more (rows of groups that fill up within the batch are passed over),
 * at most 5000.
 */
export function limitedCandidates(limit: number, limits: ClaimLimits): number {
  return limits.group === undefined && limits.groupRate === undefined
    ? limit
    : Math.min(5000, Math.max(100, limit * 4));
}

/**
 * SQL condition: the job type may be claimed: not paused and not backing off
 * in the job-types table (no row: neither).
 */
export function typeOpen(d: SqlHooks, flow: FlowTables, jobType: number): SqlFragment {
  return sql`NOT EXISTS (SELECT 1 FROM ${ident(flow.types)} WHERE ${ident("scope")} = ${flow.scope} AND ${ident("job_type")} = ${jobType}
    AND (${ident("paused")} <> 0 OR ${ident("backoff_until")} > ${raw(d.nowMs)}))`;
}

/**
 * Query → one row `{ p }`: the lowest priority of the claim's status and job type
 * that has a due row (NULL: nothing is due, or the type is paused or backing off). Seeks only;
 * see {@link pickDue}.
 */
export function dueLevel(d: SqlHooks, p: ClaimParams): SqlFragment {
  return sql`SELECT MIN(${ident("lvl")}.${ident("p")}) AS p FROM (${d.priorityLevels(p.table, [p.status], p.jobType)}) AS ${ident("lvl")}
    WHERE ${firstDueOfLevel(d, p.table, p.jobType, p.stale)} <= ${raw(d.nowMs)}
      AND ${typeOpen(d, p.flow, p.jobType)}`;
}

/**
 * SQL expression: the due time of the first row of one (status, priority) level
 * `lvl` (a row of {@link SqlHooks.priorityLevels}), one seek in the due index;
 * NULL when the level is empty. With a firstPullDay cut-off, Init rows it leaves
 * alone do not count (they are skipped row by row: they are few, and reported at start-up).
 */
export function firstDueOfLevel(
  d: SqlHooks,
  table: string,
  jobType: number,
  stale: StaleCutoff | undefined,
): SqlFragment {
  const lvl = (c: string) => sql`${ident("lvl")}.${ident(c)}`;
  const cutoff =
    stale === undefined
      ? sql``
      : sql`AND (${ident("job_status")} <> ${JobStatus.Init} OR ${notStale(d, stale)})`;
  return sql`(SELECT ${raw(d.dueMs)} FROM ${ident(table)}
      WHERE ${ident("job_status")} = ${lvl("s")} AND ${ident("job_type")} = ${jobType} AND ${ident("priority")} = ${lvl("p")} ${cutoff}
      ORDER BY ${raw(d.dueMs)} LIMIT 1)`;
}

/**
 * {@link SqlHooks.priorityLevels} for databases with recursive queries whose
 * correlated subqueries seek (PostgreSQL, SQLite; MariaDB 10.11 scanned instead):
 * per status, the lowest priority, then repeatedly the next higher one, each one
 * index seek. `statuses` are the engine's constants, written inline.
 */
export function recursivePriorityLevels(
  table: string,
  statuses: readonly number[],
  jobType: number,
): SqlFragment {
  const t = ident(table);
  const seeds = raw(statuses.map((s) => `SELECT ${Number(s)} AS s`).join(" UNION ALL "));
  const next = (s: SqlFragment, above: SqlFragment) =>
    sql`(SELECT ${ident("priority")} FROM ${t} WHERE ${ident("job_status")} = ${s} AND ${ident("job_type")} = ${jobType}${above} ORDER BY ${ident("priority")} LIMIT 1)`;
  const lv = (c: string) => sql`${ident("lv")}.${ident(c)}`;
  return sql`WITH RECURSIVE ${ident("lv")}(s, p) AS (
    SELECT ${ident("st")}.s, ${next(sql`${ident("st")}.s`, sql``)} FROM (${seeds}) AS ${ident("st")}
    UNION ALL
    SELECT ${lv("s")}, ${next(lv("s"), sql` AND ${ident("priority")} > ${lv("p")}`)} FROM ${ident("lv")} WHERE ${lv("p")} IS NOT NULL
  ) SELECT s, p FROM ${ident("lv")} WHERE p IS NOT NULL`;
}

/**
 * SQL expression: when a pending row became due, in epoch ms: its creation for
 * a job to run at once, else its start_time / run_at. The firstPullDay cut-off
 * compares it, so a job delayed past the window still runs when it comes due;
 * only jobs that have been due for longer than the window at start-up are
 * left alone. (An id cut-off alone, as before, stranded delayed jobs.)
 */
export function dueSince(d: SqlHooks): SqlFragment {
  return sql`${raw(d.greatest)}(${ident("create_time")} * 1000, COALESCE(${ident("start_time")}, 0) * 1000, ${ident("run_at")})`;
}

/**
 * SQL condition: an Init row is not left alone by the firstPullDay cut-off —
 * it came after start-up (whatever its timestamps say: plain INSERTs may
 * write 0), or it had not been due for longer than the window then.
 */
export function notStale(d: SqlHooks, stale: StaleCutoff): SqlFragment {
  return sql`(${ident("id")} >= ${stale.belowId} OR ${dueSince(d)} >= ${stale.beforeMs})`;
}

/**
 * The SET list of a claim. `prev` is the pre-claim status (a Continue re-run
 * does not count an attempt) and `attempts` the current attempts column, both
 * as the dialect must spell them in an UPDATE with a join.
 */
export function claimAssignments(d: SqlHooks, p: ClaimParams, prev: SqlPart, attempts: SqlPart) {
  return sql`${ident("attempts")} = CASE WHEN ${prev} = ${JobStatus.Continue} THEN ${attempts} ELSE ${attempts} + 1 END,
    ${ident("job_status")} = ${JobStatus.Running},
    ${ident("lease_token")} = ${p.token},
    ${ident("lease_until")} = ${raw(d.nowMs)} + ${p.leaseMs},
    ${ident("worker_id")} = ${p.workerId},
    ${ident("update_time")} = ${raw(d.nowSec)}`;
}

/** `a, b, c` of the job columns, each prefixed with `prefix.` when given. */
export function jobColumns(prefix?: string): RawSql {
  return raw(JOB_COLUMNS.map((c) => (prefix ? `${prefix}.${c}` : c)).join(", "));
}

/** The columns a claimed job is read back with (all plain identifiers, safe unquoted on every dialect). */
export const JOB_COLUMNS = [
  "id",
  "params",
  "job_type",
  "attempts",
  "start_time",
  "create_time",
  "last_error",
  "group_key",
  "run_at",
  "trace_context",
] as const;
