import type { DB } from "./db.js";
import type { Dialect, FlowTables } from "./dialects/dialect.js";
import { execSql, querySql, type SqlFragment } from "./dialects/sql.js";
import { JobInputError } from "./enqueue.js";
import {
  extendGroupBackoff,
  extendTypeBackoff,
  insertGroupBackoff,
  insertTypeState,
  pruneGroups,
  pruneStarts,
  selectPaused,
  selectPausedTypes,
  selectRateWait,
  updatePaused,
} from "./statements/flow.js";

const MAX_INT32 = 2_147_483_647;

/** Checks a job type integer given to pause()/resume()/isPaused(). */
export function checkJobTypeInteger(jobType: number, field: string): number {
  if (!Number.isInteger(jobType) || jobType < -MAX_INT32 - 1 || jobType > MAX_INT32)
    throw new JobInputError(
      field,
      `must be an integer that fits the job_type INT column (got ${jobType}).`,
    );
  return jobType;
}

/**
 * Makes sure the type has its row in the job-types table (limited claims pass
 * through it). Idempotent; safe from many processes at once.
 */
export async function ensureTypeState(
  db: DB,
  dialect: Dialect,
  ts: FlowTables,
  jobType: number,
): Promise<void> {
  try {
    await execSql(db, dialect, insertTypeState(dialect, ts, jobType));
  } catch (error) {
    if (!dialect.isAlreadyExists(error)) throw error; // another process inserted it first
  }
}

/**
 * Sets the type's `paused` flag, creating its row if needed, race-free: an
 * update; where there is no row, an insert; where a concurrent insert won,
 * the update again.
 */
export async function setPaused(
  db: DB,
  dialect: Dialect,
  ts: FlowTables,
  jobType: number,
  paused: boolean,
): Promise<void> {
  await upsert(
    db,
    dialect,
    updatePaused(dialect, ts, jobType, paused),
    insertTypeState(dialect, ts, jobType, { paused }),
  );
}

/**
 * An update; where it matched no row, an insert; where a concurrent insert won
 * the race for the primary key, the update again. Portable, race-free.
 */
export async function upsert(
  db: DB,
  dialect: Dialect,
  update: SqlFragment,
  insert: SqlFragment,
): Promise<void> {
  if ((await execSql(db, dialect, update)).affectedRows > 0) return;
  try {
    if ((await execSql(db, dialect, insert)).affectedRows > 0) return;
  } catch (error) {
    if (!dialect.isAlreadyExists(error)) throw error;
  }
  await execSql(db, dialect, update);
}

/**
 * Backs a job type, or one group of it, off for `ms` from the database's now,
 * cluster-wide: its jobs are not claimed until then. A longer back-off already
 * set stays.
 */
export async function backOff(
  db: DB,
  dialect: Dialect,
  ts: FlowTables,
  jobType: number,
  ms: number,
  group?: string,
): Promise<void> {
  if (group === undefined) {
    await upsert(
      db,
      dialect,
      extendTypeBackoff(dialect, ts, jobType, ms),
      insertTypeState(dialect, ts, jobType, { backoffMs: ms }),
    );
  } else {
    await upsert(
      db,
      dialect,
      extendGroupBackoff(dialect, ts, jobType, group, ms),
      insertGroupBackoff(dialect, ts, jobType, group, ms),
    );
  }
}

/** How long a group's row outlives its back-off before it is deleted. */
const GROUP_ROW_GRACE_MS = 3_600_000;

/**
 * Housekeeping of a limited type's flow rows: starts older than `keepStartsMs`
 * (the longest rate window; none kept when 0) and group rows whose back-off
 * ended an hour ago.
 */
export async function pruneFlowRows(
  db: DB,
  dialect: Dialect,
  ts: FlowTables,
  jobType: number,
  keepStartsMs: number,
): Promise<void> {
  if (keepStartsMs > 0) await execSql(db, dialect, pruneStarts(dialect, ts, jobType, keepStartsMs));
  await execSql(db, dialect, pruneGroups(dialect, ts, jobType, GROUP_ROW_GRACE_MS));
}

/** True when the type is paused in the job-types table. */
export async function readPaused(
  db: DB,
  dialect: Dialect,
  ts: FlowTables,
  jobType: number,
): Promise<boolean> {
  const [row] = await querySql<{ paused: unknown }>(db, dialect, selectPaused(ts, jobType));
  return row !== undefined && Number(row.paused) !== 0;
}

/** The paused job types of this queue's job table, ascending. */
export async function readPausedTypes(db: DB, dialect: Dialect, ts: FlowTables): Promise<number[]> {
  const rows = await querySql<{ job_type: unknown }>(db, dialect, selectPausedTypes(ts));
  return rows.map((r) => Number(r.job_type));
}

/**
 * Ms until the type's rate window has room again at the earliest: until its
 * oldest start in the window leaves it (0: no start in the window).
 */
export async function rateWait(
  db: DB,
  dialect: Dialect,
  ts: FlowTables,
  jobType: number,
  perMs: number,
): Promise<number> {
  const [row] = await querySql<{ wait: unknown }>(
    db,
    dialect,
    selectRateWait(dialect, ts, jobType, perMs),
  );
  return row?.wait === null || row?.wait === undefined ? 0 : Math.max(0, Number(row.wait));
}
