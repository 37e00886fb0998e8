import type { FlowTables, SqlHooks } from "../dialects/dialect.js";
import { ident, raw, type SqlFragment, sql } from "../dialects/sql.js";
import { JobStatus } from "../job-status.js";

/**
 * The flow-control tables' statements: the job-types table (`tables.jobTypes`,
 * default `pq_job_types`: per job type state the cluster shares, one row per
 * (scope = job table, job_type)), the job-groups table (a group's back-off)
 * and the job-starts table (starts of rate-limited jobs). Written once for
 * every database: plain SQL on small tables.
 */

const key = (ts: FlowTables, jobType: number) =>
  sql`${ident("scope")} = ${ts.scope} AND ${ident("job_type")} = ${jobType}`;

/**
 * Inserts the type's row unless it exists (`paused` as given). Two processes may
 * both find it missing: one insert then fails on the primary key, which callers
 * take as done.
 */
export function insertTypeState(
  d: SqlHooks,
  ts: FlowTables,
  jobType: number,
  { paused = false, backoffMs }: { paused?: boolean; backoffMs?: number } = {},
): SqlFragment {
  const t = ident(ts.types);
  const backoff = backoffMs === undefined ? sql`0` : sql`${raw(d.nowMs)} + ${backoffMs}`;
  return sql`INSERT INTO ${t} (${ident("scope")}, ${ident("job_type")}, ${ident("paused")}, ${ident("claim_seq")}, ${ident("backoff_until")}, ${ident("updated_at")})
  SELECT ${ts.scope}, ${jobType}, ${paused ? 1 : 0}, 0, ${backoff}, ${raw(d.nowMs)} FROM (SELECT 1 AS ${ident("one")}) AS ${ident("o")}
  WHERE NOT EXISTS (SELECT 1 FROM ${t} WHERE ${key(ts, jobType)})`;
}

/** Backs the type off until `ms` from now (a later back-off already set stays); 0 rows: no row yet. */
export function extendTypeBackoff(
  d: SqlHooks,
  ts: FlowTables,
  jobType: number,
  ms: number,
): SqlFragment {
  return extendBackoff(d, ts.types, key(ts, jobType), ms);
}

/** `UPDATE table SET backoff_until = the later of it and now + ms WHERE where`. */
function extendBackoff(d: SqlHooks, table: string, where: SqlFragment, ms: number): SqlFragment {
  const until = sql`${raw(d.greatest)}(${ident("backoff_until")}, ${raw(d.nowMs)} + ${ms})`;
  return sql`UPDATE ${ident(table)} SET ${ident("backoff_until")} = ${until}, ${ident("updated_at")} = ${raw(d.nowMs)}
  WHERE ${where}`;
}

const groupKey = (ts: FlowTables, jobType: number, group: string) =>
  sql`${key(ts, jobType)} AND ${ident("group_key")} = ${group}`;

/** Inserts the group's row backing off `ms` from now, unless it exists (see {@link insertTypeState}). */
export function insertGroupBackoff(
  d: SqlHooks,
  ts: FlowTables,
  jobType: number,
  group: string,
  ms: number,
): SqlFragment {
  const t = ident(ts.groups);
  return sql`INSERT INTO ${t} (${ident("scope")}, ${ident("job_type")}, ${ident("group_key")}, ${ident("backoff_until")}, ${ident("updated_at")})
  SELECT ${ts.scope}, ${jobType}, ${group}, ${raw(d.nowMs)} + ${ms}, ${raw(d.nowMs)} FROM (SELECT 1 AS ${ident("one")}) AS ${ident("o")}
  WHERE NOT EXISTS (SELECT 1 FROM ${t} WHERE ${groupKey(ts, jobType, group)})`;
}

/** Backs the group off until `ms` from now (a later back-off stays); 0 rows: no row yet. */
export function extendGroupBackoff(
  d: SqlHooks,
  ts: FlowTables,
  jobType: number,
  group: string,
  ms: number,
): SqlFragment {
  return extendBackoff(d, ts.groups, groupKey(ts, jobType, group), ms);
}

/**
 * Records the starts of the jobs one claim took (by its lease token) in the
 * job-starts table, at the database's now: what rate limits count. Runs in the
 * claim's transaction (MySQL, SQLite); PostgreSQL writes them in the claim itself.
 */
export function logStarts(
  d: SqlHooks,
  ts: FlowTables,
  table: string,
  jobType: number,
  token: string,
): SqlFragment {
  return sql`INSERT INTO ${ident(ts.starts)} (${ident("scope")}, ${ident("job_type")}, ${ident("group_key")}, ${ident("started_ms")})
  SELECT ${ts.scope}, ${jobType}, ${ident("group_key")}, ${raw(d.nowMs)} FROM ${ident(table)}
  WHERE ${ident("job_status")} = ${JobStatus.Running} AND ${ident("job_type")} = ${jobType} AND ${ident("lease_token")} = ${token}`;
}

/** Deletes the type's starts older than `keepMs` (the longest window): no rate counts them any more. */
export function pruneStarts(
  d: SqlHooks,
  ts: FlowTables,
  jobType: number,
  keepMs: number,
): SqlFragment {
  return sql`DELETE FROM ${ident(ts.starts)} WHERE ${key(ts, jobType)} AND ${ident("started_ms")} < ${raw(d.nowMs)} - ${keepMs}`;
}

/** Sets the type's `paused` flag; matches 0 rows when the type has no row yet. */
export function updatePaused(
  d: SqlHooks,
  ts: FlowTables,
  jobType: number,
  paused: boolean,
): SqlFragment {
  return sql`UPDATE ${ident(ts.types)} SET ${ident("paused")} = ${paused ? 1 : 0}, ${ident("updated_at")} = ${raw(d.nowMs)}
  WHERE ${key(ts, jobType)}`;
}

/** Query → rows `{ paused }`: the type's flag (no row: not paused). */
export function selectPaused(ts: FlowTables, jobType: number): SqlFragment {
  return sql`SELECT ${ident("paused")} FROM ${ident(ts.types)} WHERE ${key(ts, jobType)}`;
}

/** Query → rows `{ job_type }`: the paused types of this scope. */
export function selectPausedTypes(ts: FlowTables): SqlFragment {
  return sql`SELECT ${ident("job_type")} FROM ${ident(ts.types)} WHERE ${ident("scope")} = ${ts.scope} AND ${ident("paused")} <> 0 ORDER BY ${ident("job_type")}`;
}

/**
 * Query → one row `{ wait }`: ms from the database's now until the oldest start
 * of the type within the window `perMs` leaves it (NULL: no start in the window).
 */
export function selectRateWait(
  d: SqlHooks,
  ts: FlowTables,
  jobType: number,
  perMs: number,
): SqlFragment {
  return sql`SELECT MIN(${ident("started_ms")}) + ${perMs} - ${raw(d.nowMs)} AS wait FROM ${ident(ts.starts)}
  WHERE ${key(ts, jobType)} AND ${ident("started_ms")} > ${raw(d.nowMs)} - ${perMs}`;
}

/** Deletes the type's group rows whose back-off ended more than `graceMs` ago: they hold nothing any more. */
export function pruneGroups(
  d: SqlHooks,
  ts: FlowTables,
  jobType: number,
  graceMs: number,
): SqlFragment {
  return sql`DELETE FROM ${ident(ts.groups)} WHERE ${key(ts, jobType)} AND ${ident("backoff_until")} < ${raw(d.nowMs)} - ${graceMs}`;
}
