import type { DB, Row } from "../db.js";
import type { Dialect } from "../dialects/dialect.js";
import { execSql, querySql } from "../dialects/sql.js";
import {
  deleteConfigSchedulesExcept,
  deleteSchedule,
  insertSchedule,
  type ScheduleRowInput,
  selectNow,
  selectSchedules,
  updateScheduleDefinition,
} from "../statements/schedules.js";
import type { ResolvedSchedule, ScheduleInfo } from "./schedule-spec.js";

/** Where a queue's schedules live: the schedules table, and the job table that scopes its rows. */
export interface ScheduleTable {
  readonly db: DB;
  readonly dialect: Dialect;
  /** The schedules table (`tables.schedules`). */
  readonly table: string;
  /** The job table's name: the rows' scope, and where ticks insert their jobs. */
  readonly scope: string;
}

/** One row of the schedules table, numbers normalised. */
export interface StoredSchedule extends Omit<ScheduleRowInput, "scope"> {
  readonly lastTickMs: number;
  readonly nextTickMs: number;
  readonly updatedAt: number;
  /** The database's now when the row was read. */
  readonly nowMs: number;
}

/** Every schedule of the table's scope, by name. */
export async function readSchedules(t: ScheduleTable): Promise<StoredSchedule[]> {
  const rows = await querySql(t.db, t.dialect, selectSchedules(t.dialect, t.table, t.scope));
  return rows.map(toStored);
}

function toStored(row: Row): StoredSchedule {
  const num = (v: unknown) => Number(v ?? 0);
  return {
    name: String(row.name),
    cron: String(row.cron),
    tz: row.tz === null || row.tz === undefined || row.tz === "" ? "UTC" : String(row.tz),
    jobType: num(row.job_type),
    params: String(row.params ?? ""),
    priority: num(row.priority),
    backfillMs: num(row.backfill_ms),
    lastTickMs: num(row.last_tick_ms),
    nextTickMs: num(row.next_tick_ms),
    source: row.source === "config" ? "config" : "runtime",
    updatedAt: num(row.updated_at),
    nowMs: num(row.now_ms),
  };
}

/**
 * Creates schedule `s` or rewrites its definition (keeping its ticks when the
 * pattern and zone are unchanged). Two statements, no transaction: an UPDATE,
 * and when it matched nothing an INSERT; an INSERT that loses a race with a
 * concurrent create is retried as the UPDATE.
 */
export async function upsertSchedule(
  t: ScheduleTable,
  s: ResolvedSchedule,
  params: string,
  source: "config" | "runtime",
): Promise<void> {
  const [now] = await querySql(t.db, t.dialect, selectNow(t.dialect));
  const nowMs = Number(now?.now_ms);
  const nextMs = s.pattern.nextAfter(nowMs) ?? 0;
  const row: ScheduleRowInput = {
    scope: t.scope,
    name: s.name,
    cron: s.cron,
    tz: s.tz,
    jobType: s.jobType,
    params,
    priority: s.priority,
    backfillMs: s.backfillMs,
    source,
  };
  const update = () =>
    execSql(t.db, t.dialect, updateScheduleDefinition(t.dialect, t.table, row, nextMs));
  if ((await update()).affectedRows > 0) return;
  try {
    await execSql(t.db, t.dialect, insertSchedule(t.dialect, t.table, row, nextMs));
  } catch (err) {
    if (!t.dialect.isAlreadyExists(err)) throw err;
    await update(); // created meanwhile by another process: this definition is the later one
  }
}

/** Deletes schedule `name`; true if it existed. */
export async function removeSchedule(t: ScheduleTable, name: string): Promise<boolean> {
  const result = await execSql(t.db, t.dialect, deleteSchedule(t.dialect, t.table, t.scope, name));
  return result.affectedRows > 0;
}

/** Deletes the config schedules of the scope that `keep` does not name; resolves how many. */
export async function removeConfigSchedulesExcept(
  t: ScheduleTable,
  keep: readonly string[],
): Promise<number> {
  const result = await execSql(
    t.db,
    t.dialect,
    deleteConfigSchedulesExcept(t.dialect, t.table, t.scope, keep),
  );
  return result.affectedRows;
}

/** A stored row as `listSchedules()` reports it; `jobName` looks up the job type's name. */
export function toScheduleInfo(
  s: StoredSchedule,
  jobName: (jobType: number) => string | undefined,
): ScheduleInfo {
  let params: unknown;
  try {
    params = JSON.parse(s.params);
  } catch {
    params = undefined; // written by hand, not JSON
  }
  return {
    name: s.name,
    cron: s.cron,
    tz: s.tz,
    jobType: s.jobType,
    jobName: jobName(s.jobType),
    params,
    priority: s.priority,
    backfillMs: s.backfillMs,
    nextRun: s.nextTickMs > 0 ? new Date(s.nextTickMs) : undefined,
    lastRun: s.lastTickMs > 0 ? new Date(s.lastTickMs) : undefined,
    source: s.source,
    updatedAt: new Date(s.updatedAt),
  };
}
