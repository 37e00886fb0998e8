/**
 * Statements on the schedules table (`pq_schedules`), one function each, the
 * same on every database. A row is one schedule of one job table: its key is
 * (scope = the job table's name, name). `next_tick_ms` is the first tick not
 * yet enqueued (or skipped); `last_tick_ms` the last one enqueued. Every time
 * written is the database's; column names are quoted (`name`, `source` are
 * keywords somewhere).
 */

import type { SqlHooks } from "../dialects/dialect.js";
import { ident, join, raw, type SqlFragment, sql } from "../dialects/sql.js";

/** The columns the schedules table has, in the order {@link selectSchedules} reads them. */
const COLUMNS = [
  "name",
  "cron",
  "tz",
  "job_type",
  "params",
  "priority",
  "backfill_ms",
  "last_tick_ms",
  "next_tick_ms",
  "source",
  "updated_at",
] as const;

const c = (column: (typeof COLUMNS)[number] | "scope") => ident(column);

/** What a schedule row's definition columns hold; written by {@link updateScheduleDefinition} and {@link insertSchedule}. */
export interface ScheduleRowInput {
  readonly scope: string;
  readonly name: string;
  readonly cron: string;
  readonly tz: string;
  readonly jobType: number;
  /** JSON text. */
  readonly params: string;
  readonly priority: number;
  readonly backfillMs: number;
  readonly source: "config" | "runtime";
}

/** Rows `{ now_ms }`: the database's now in epoch ms. */
export function selectNow(d: SqlHooks): SqlFragment {
  return sql`SELECT ${raw(d.nowMs)} AS now_ms`;
}

/**
 * Rows: every schedule of `scope`, by name, each with the database's now
 * (`now_ms`) so the caller compares due ticks by the database's clock. No locks.
 */
export function selectSchedules(d: SqlHooks, table: string, scope: string): SqlFragment {
  const list = join(COLUMNS.map((name) => sql`${c(name)}`));
  return sql`SELECT ${list}, ${raw(d.nowMs)} AS now_ms FROM ${ident(table)} WHERE ${c("scope")} = ${scope} ORDER BY ${c("name")}`;
}

/**
 * Rewrites a schedule's definition (create-or-update's first step: 0 rows
 * affected = no such schedule, insert it). Its tick bookkeeping is kept when
 * the pattern and zone are unchanged — a restart that upserts the same config
 * neither loses nor repeats a tick; otherwise the next tick becomes `nextMs`
 * (the first after now under the new pattern). `next_tick_ms` is assigned
 * first: MySQL evaluates SET left to right, with columns already assigned.
 */
export function updateScheduleDefinition(
  d: SqlHooks,
  table: string,
  row: ScheduleRowInput,
  nextMs: number,
): SqlFragment {
  return sql`UPDATE ${ident(table)} SET
    ${c("next_tick_ms")} = CASE WHEN ${c("cron")} = ${row.cron} AND COALESCE(${c("tz")}, 'UTC') = ${row.tz} AND ${c("next_tick_ms")} > 0
      THEN ${c("next_tick_ms")} ELSE ${nextMs} END,
    ${c("cron")} = ${row.cron}, ${c("tz")} = ${row.tz}, ${c("job_type")} = ${row.jobType}, ${c("params")} = ${row.params},
    ${c("priority")} = ${row.priority}, ${c("backfill_ms")} = ${row.backfillMs}, ${c("source")} = ${row.source},
    ${c("updated_at")} = ${raw(d.nowMs)}
  WHERE ${c("scope")} = ${row.scope} AND ${c("name")} = ${row.name}`;
}

/** Creates a schedule whose first tick is `nextMs`. Fails with a duplicate-key error if it exists (a concurrent create). */
export function insertSchedule(
  d: SqlHooks,
  table: string,
  row: ScheduleRowInput,
  nextMs: number,
): SqlFragment {
  return sql`INSERT INTO ${ident(table)} (${c("scope")}, ${c("name")}, ${c("cron")}, ${c("tz")}, ${c("job_type")}, ${c("params")}, ${c("priority")},
    ${c("backfill_ms")}, ${c("last_tick_ms")}, ${c("next_tick_ms")}, ${c("source")}, ${c("updated_at")})
  VALUES (${row.scope}, ${row.name}, ${row.cron}, ${row.tz}, ${row.jobType}, ${row.params}, ${row.priority},
    ${row.backfillMs}, 0, ${nextMs}, ${row.source}, ${raw(d.nowMs)})`;
}

/**
 * The compare-and-set that makes a tick one job in the whole cluster: moves the
 * schedule past the ticks a process is about to enqueue, only if its next tick
 * is still `dueMs` and its pattern and zone still those the plan was made
 * with. 1 row affected = this process owns those ticks (enqueue them in the
 * same transaction); 0 = another process took them, or the schedule changed or
 * is gone. Locks: the row until the transaction ends, so a concurrent CAS waits
 * and then finds `next_tick_ms` moved.
 */
export function advanceSchedule(
  d: SqlHooks,
  table: string,
  p: {
    readonly scope: string;
    readonly name: string;
    readonly cron: string;
    readonly tz: string;
    readonly dueMs: number;
    readonly lastMs: number;
    readonly nextMs: number;
  },
): SqlFragment {
  return sql`UPDATE ${ident(table)} SET ${c("last_tick_ms")} = ${p.lastMs}, ${c("next_tick_ms")} = ${p.nextMs}, ${c("updated_at")} = ${raw(d.nowMs)}
  WHERE ${c("scope")} = ${p.scope} AND ${c("name")} = ${p.name} AND ${c("next_tick_ms")} = ${p.dueMs}
    AND ${c("cron")} = ${p.cron} AND COALESCE(${c("tz")}, 'UTC') = ${p.tz}`;
}

/** Deletes one schedule: 1 row affected = it existed. */
export function deleteSchedule(
  _d: SqlHooks,
  table: string,
  scope: string,
  name: string,
): SqlFragment {
  return sql`DELETE FROM ${ident(table)} WHERE ${c("scope")} = ${scope} AND ${c("name")} = ${name}`;
}

/** Deletes the schedules of `scope` that came from a queue's config and are not in `keep` (may be empty). */
export function deleteConfigSchedulesExcept(
  _d: SqlHooks,
  table: string,
  scope: string,
  keep: readonly string[],
): SqlFragment {
  // `NOT IN (NULL)` would match nothing: an empty list needs no condition.
  const except = keep.length > 0 ? sql` AND ${c("name")} NOT IN (${keep})` : sql``;
  return sql`DELETE FROM ${ident(table)} WHERE ${c("scope")} = ${scope} AND ${c("source")} = ${"config"}${except}`;
}
