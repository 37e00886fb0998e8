/**
 * The seed's ShedLock statements on `shedlock_tab`. Every time is the
 * database's (its NOW()), so hosts with skewed clocks agree. A lock is held
 * while `lock_until` is in the future; `locked_by` names the holder. Each
 * statement runs with the session's time zone at UTC where the lock columns
 * depend on it (MySQL family: `Dialect.statements.utcStatement`).
 */
import type { Dialect } from "../dialects/dialect.js";
import { ident, raw, type SqlFragment, sql } from "../dialects/sql.js";

/**
 * Takes a lock that is free or expired: 1 row affected = acquired.
 * Locks: the row, for the statement.
 */
export function acquireLock(
  d: Dialect,
  table: string,
  name: string,
  lockedBy: string,
  atMostMs: number,
): SqlFragment {
  return sql`${raw(d.statements.utcStatement("UPDATE"))} ${ident(table)} SET lock_until = ${d.statements.lockNowPlusMs(atMostMs)}, locked_at = ${raw(d.statements.lockNow)}, locked_by = ${lockedBy}
  WHERE lock_name = ${name} AND lock_until <= ${raw(d.statements.lockNow)}`;
}

/**
 * Creates the lock's row, held by the caller: the first use of a name.
 * Fails with a duplicate-key error when the row exists (then {@link acquireLock} decides).
 */
export function insertLock(
  d: Dialect,
  table: string,
  name: string,
  lockedBy: string,
  atMostMs: number,
): SqlFragment {
  return sql`${raw(d.statements.utcStatement("INSERT"))} INTO ${ident(table)} (lock_name, lock_until, locked_at, locked_by)
  VALUES (${name}, ${d.statements.lockNowPlusMs(atMostMs)}, ${raw(d.statements.lockNow)}, ${lockedBy})`;
}

/** Extends a lock the caller still holds (not expired): 1 row affected = extended. */
export function extendLock(
  d: Dialect,
  table: string,
  name: string,
  lockedBy: string,
  atMostMs: number,
): SqlFragment {
  return sql`${raw(d.statements.utcStatement("UPDATE"))} ${ident(table)} SET lock_until = ${d.statements.lockNowPlusMs(atMostMs)}
  WHERE lock_name = ${name} AND locked_by = ${lockedBy} AND lock_until > ${raw(d.statements.lockNow)}`;
}

/**
 * Releases a lock the caller holds, but keeps it at least `atLeastMs` after
 * it was taken (the seed's minimum hold): lock_until = max(locked_at + atLeast, now).
 */
export function releaseLock(
  d: Dialect,
  table: string,
  name: string,
  lockedBy: string,
  atLeastMs: number,
): SqlFragment {
  return sql`${raw(d.statements.utcStatement("UPDATE"))} ${ident(table)} SET lock_until = ${raw(d.greatest)}(${d.statements.lockTimePlusMs("locked_at", atLeastMs)}, ${raw(d.statements.lockNow)})
  WHERE lock_name = ${name} AND locked_by = ${lockedBy} AND lock_until > ${raw(d.statements.lockNow)}`;
}

/** Rows `{ locked_by, held }`: who holds `name` and whether the lock is live now. */
export function inspectLock(d: Dialect, table: string, name: string): SqlFragment {
  return sql`${raw(d.statements.utcStatement("SELECT"))} locked_by, CASE WHEN lock_until > ${raw(d.statements.lockNow)} THEN 1 ELSE 0 END AS held FROM ${ident(table)} WHERE lock_name = ${name}`;
}
