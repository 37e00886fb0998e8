/**
 * The statements of retention and `prune()`: deleting finished jobs in small
 * batches through the indexes the table already has, written once for every
 * database (PostgreSQL has no DELETE … LIMIT, so a batch is a plain read of at
 * most {@link PRUNE_BATCH} ids, then a DELETE of exactly those ids that
 * re-checks their status and age). No statement here locks an unfinished row,
 * so claims and completions never wait on a cleaner.
 */

import type { SqlHooks } from "../dialects/dialect.js";
import { ident, raw, type SqlFragment, sql } from "../dialects/sql.js";
import { claimIndexName } from "../schema/tables.js";

/** Most rows one DELETE removes: short statements, short row locks, small undo. */
export const PRUNE_BATCH = 1000;

/** Rows `{ now }`: the database's clock in epoch seconds (the unit of update_time). Locks: none. */
export function databaseNowSec(d: SqlHooks): SqlFragment {
  return sql`SELECT ${raw(d.nowSec)} AS ${ident("now")}`;
}

/** Rows `{ lo, hi }`: the lowest and highest job id (NULL on an empty table). Two index seeks. */
export function idRange(_d: SqlHooks, table: string): SqlFragment {
  return sql`SELECT MIN(id) AS lo, MAX(id) AS hi FROM ${ident(table)}`;
}

/**
 * Rows `{ create_time }`: the first job at or after id `from`, by primary key —
 * one seek. The probe of the binary search for the first job created after a
 * cut-off (ids and create_time grow together). Locks: none.
 */
export function createdAtOrAfter(_d: SqlHooks, table: string, from: number): SqlFragment {
  return sql`SELECT create_time FROM ${ident(table)} WHERE id >= ${from} ORDER BY id LIMIT 1`;
}

/**
 * Rows `{ job_type }`: the lowest job type from `from` up with a row of `status`
 * — one seek on the claim index (job_status, job_type, id), so the job types
 * are walked without reading their rows. Locks: none.
 */
export function nextTypeWithStatus(
  d: SqlHooks,
  table: string,
  status: number,
  from: number,
): SqlFragment {
  return sql`SELECT job_type FROM ${ident(table)} ${raw(d.forceIndex(claimIndexName(table)))}
  WHERE job_status = ${status} AND job_type >= ${from} ORDER BY job_type LIMIT 1`;
}

/**
 * Rows `{ id }`: up to {@link PRUNE_BATCH} jobs of one type in `status` last
 * updated before `cutoffSec`, oldest id first, among the ids below `belowId`
 * (the first job created after the cut-off, plus a margin). One range of the
 * claim index (job_status, job_type, id < belowId), so the rows read are the
 * old ones only, however many newer finished jobs the table keeps. A plain
 * read: no locks.
 */
export function selectExpired(
  d: SqlHooks,
  table: string,
  status: number,
  jobType: number,
  belowId: number,
  cutoffSec: number,
): SqlFragment {
  return sql`SELECT id FROM ${ident(table)} ${raw(d.forceIndex(claimIndexName(table)))}
  WHERE job_status = ${status} AND job_type = ${jobType} AND id < ${belowId} AND update_time < ${cutoffSec}
  ORDER BY id LIMIT ${raw(String(PRUNE_BATCH))}`;
}

/**
 * Deletes the jobs among `ids` still in `status` and last updated before
 * `cutoffSec` (one a `retry()` revived in between stays). By primary key.
 * Affected rows = jobs deleted. Locks: those finished rows, for the statement.
 */
export function deleteExpired(
  _d: SqlHooks,
  table: string,
  ids: readonly number[],
  status: number,
  cutoffSec: number,
): SqlFragment {
  return sql`DELETE FROM ${ident(table)} WHERE id IN (${ids}) AND job_status = ${status} AND update_time < ${cutoffSec}`;
}
