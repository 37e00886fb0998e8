import type { SqlHooks, TypeStateRef } from "../dialects/dialect.js";
import { ident, raw, type SqlFragment, sql } from "../dialects/sql.js";

/**
 * The job-types table's statements (`tables.jobTypes`, default `pq_job_types`):
 * per job type state the cluster shares, one row per (scope = job table,
 * job_type). Written once for every database: plain SQL on a small table.
 */

const key = (ts: TypeStateRef, jobType: number) =>
  sql`${ident("scope")} = ${ts.scope} AND ${ident("job_type")} = ${jobType}`;

/**
 * Inserts the type's row unless it exists (`paused` as given). Two processes may
 * both find it missing: one insert then fails on the primary key, which callers
 * take as done.
 */
export function insertTypeState(
  d: SqlHooks,
  ts: TypeStateRef,
  jobType: number,
  paused: boolean,
): SqlFragment {
  const t = ident(ts.table);
  return sql`INSERT INTO ${t} (${ident("scope")}, ${ident("job_type")}, ${ident("paused")}, ${ident("claim_seq")}, ${ident("backoff_until")}, ${ident("updated_at")})
  SELECT ${ts.scope}, ${jobType}, ${paused ? 1 : 0}, 0, 0, ${raw(d.nowMs)} FROM (SELECT 1 AS ${ident("one")}) AS ${ident("o")}
  WHERE NOT EXISTS (SELECT 1 FROM ${t} WHERE ${key(ts, jobType)})`;
}

/** Sets the type's `paused` flag; matches 0 rows when the type has no row yet. */
export function updatePaused(
  d: SqlHooks,
  ts: TypeStateRef,
  jobType: number,
  paused: boolean,
): SqlFragment {
  return sql`UPDATE ${ident(ts.table)} SET ${ident("paused")} = ${paused ? 1 : 0}, ${ident("updated_at")} = ${raw(d.nowMs)}
  WHERE ${key(ts, jobType)}`;
}

/** Query → rows `{ paused }`: the type's flag (no row: not paused). */
export function selectPaused(ts: TypeStateRef, jobType: number): SqlFragment {
  return sql`SELECT ${ident("paused")} FROM ${ident(ts.table)} WHERE ${key(ts, jobType)}`;
}

/** Query → rows `{ job_type }`: the paused types of this scope. */
export function selectPausedTypes(ts: TypeStateRef): SqlFragment {
  return sql`SELECT ${ident("job_type")} FROM ${ident(ts.table)} WHERE ${ident("scope")} = ${ts.scope} AND ${ident("paused")} <> 0 ORDER BY ${ident("job_type")}`;
}
