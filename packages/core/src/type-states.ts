import type { DB } from "./db.js";
import type { Dialect, TypeStateRef } from "./dialects/dialect.js";
import { execSql, querySql } from "./dialects/sql.js";
import { JobInputError } from "./enqueue.js";
import {
  insertTypeState,
  selectPaused,
  selectPausedTypes,
  updatePaused,
} from "./statements/job-types.js";

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
  ts: TypeStateRef,
  jobType: number,
): Promise<void> {
  try {
    await execSql(db, dialect, insertTypeState(dialect, ts, jobType, false));
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
  ts: TypeStateRef,
  jobType: number,
  paused: boolean,
): Promise<void> {
  const update = () => execSql(db, dialect, updatePaused(dialect, ts, jobType, paused));
  if ((await update()).affectedRows > 0) return;
  try {
    const inserted = await execSql(db, dialect, insertTypeState(dialect, ts, jobType, paused));
    if (inserted.affectedRows > 0) return;
  } catch (error) {
    if (!dialect.isAlreadyExists(error)) throw error;
  }
  await update();
}

/** True when the type is paused in the job-types table. */
export async function readPaused(
  db: DB,
  dialect: Dialect,
  ts: TypeStateRef,
  jobType: number,
): Promise<boolean> {
  const [row] = await querySql<{ paused: unknown }>(db, dialect, selectPaused(ts, jobType));
  return row !== undefined && Number(row.paused) !== 0;
}

/** The paused job types of this queue's job table, ascending. */
export async function readPausedTypes(
  db: DB,
  dialect: Dialect,
  ts: TypeStateRef,
): Promise<number[]> {
  const rows = await querySql<{ job_type: unknown }>(db, dialect, selectPausedTypes(ts));
  return rows.map((r) => Number(r.job_type));
}
