// What each table type says of its columns, spelled out per dialect: tsc checks these
// literals against the types (schema.test-d.ts imports this file), and schema.test.ts
// checks them against the tables migrate() makes.
import type { DialectFamily } from "@persistent-queue/core";
import type { InsertType, SelectType } from "kysely";
import type { QueueTables } from "../src/index.js";

/** d: NOT NULL with a default; r: NOT NULL, required on insert; n: nullable; v: generated, read only. */
type Kind<C> = [InsertType<C>] extends [never]
  ? "v"
  : null extends SelectType<C>
    ? "n"
    : undefined extends InsertType<C>
      ? "d"
      : "r";
type Js<T> = T extends Date
  ? "date"
  : T extends string
    ? "string"
    : T extends number
      ? "number"
      : never;
/** What a column's type says, spelled out: the literal below must equal it, or tsc fails. */
export type Facts<T> = {
  [Table in keyof T]: {
    [C in keyof T[Table]]-?: `${Kind<T[Table][C]>} ${Js<NonNullable<SelectType<T[Table][C]>>>}`;
  };
};

export const MYSQL: Facts<QueueTables<"mysql">> = {
  async_job_tab: {
    id: "d number",
    params: "d string",
    job_type: "r number",
    job_status: "n number",
    start_time: "n number",
    create_time: "r number",
    update_time: "r number",
    attempts: "d number",
    run_at: "d number",
    lease_token: "n string",
    lease_until: "d number",
    worker_id: "n string",
    last_error: "n string",
    priority: "d number",
    unique_key: "n string",
    result: "n string",
    progress: "n string",
    group_key: "n string",
    trace_context: "n string",
    due_ms: "v number",
    unique_live: "v string",
  },
  shedlock_tab: {
    lock_name: "r string",
    lock_until: "d date",
    locked_at: "d date",
    locked_by: "r string",
  },
  pq_schedules: {
    scope: "r string",
    name: "r string",
    cron: "r string",
    tz: "n string",
    job_type: "r number",
    params: "r string",
    priority: "d number",
    backfill_ms: "d number",
    last_tick_ms: "d number",
    next_tick_ms: "d number",
    source: "r string",
    updated_at: "r number",
  },
  pq_job_types: {
    scope: "r string",
    job_type: "r number",
    paused: "d number",
    claim_seq: "d number",
    backoff_until: "d number",
    updated_at: "d number",
  },
  pq_job_groups: {
    scope: "r string",
    job_type: "r number",
    group_key: "r string",
    backoff_until: "d number",
    updated_at: "d number",
  },
  pq_job_starts: {
    id: "d number",
    scope: "r string",
    job_type: "r number",
    group_key: "n string",
    started_ms: "r number",
  },
  pq_job_stats: {
    scope: "r string",
    job_type: "r number",
    job_status: "r number",
    minute_start: "r number",
    finished: "d number",
  },
};
export const POSTGRES: Facts<QueueTables<"postgres">> = {
  async_job_tab: {
    id: "d string",
    params: "d string",
    job_type: "r number",
    job_status: "n number",
    start_time: "n string",
    create_time: "r string",
    update_time: "r string",
    attempts: "d number",
    run_at: "d string",
    lease_token: "n string",
    lease_until: "d string",
    worker_id: "n string",
    last_error: "n string",
    priority: "d number",
    unique_key: "n string",
    result: "n string",
    progress: "n string",
    group_key: "n string",
    trace_context: "n string",
  },
  shedlock_tab: {
    lock_name: "r string",
    lock_until: "d date",
    locked_at: "d date",
    locked_by: "r string",
  },
  pq_schedules: {
    scope: "r string",
    name: "r string",
    cron: "r string",
    tz: "n string",
    job_type: "r number",
    params: "r string",
    priority: "d number",
    backfill_ms: "d string",
    last_tick_ms: "d string",
    next_tick_ms: "d string",
    source: "r string",
    updated_at: "r string",
  },
  pq_job_types: {
    scope: "r string",
    job_type: "r number",
    paused: "d number",
    claim_seq: "d string",
    backoff_until: "d string",
    updated_at: "d string",
  },
  pq_job_groups: {
    scope: "r string",
    job_type: "r number",
    group_key: "r string",
    backoff_until: "d string",
    updated_at: "d string",
  },
  pq_job_starts: {
    id: "d string",
    scope: "r string",
    job_type: "r number",
    group_key: "n string",
    started_ms: "r string",
  },
  pq_job_stats: {
    scope: "r string",
    job_type: "r number",
    job_status: "r number",
    minute_start: "r string",
    finished: "d string",
  },
};
export const SQLITE: Facts<QueueTables<"sqlite">> = {
  async_job_tab: {
    id: "d number",
    params: "d string",
    job_type: "r number",
    job_status: "n number",
    start_time: "n number",
    create_time: "r number",
    update_time: "r number",
    attempts: "d number",
    run_at: "d number",
    lease_token: "n string",
    lease_until: "d number",
    worker_id: "n string",
    last_error: "n string",
    priority: "d number",
    unique_key: "n string",
    result: "n string",
    progress: "n string",
    group_key: "n string",
    trace_context: "n string",
  },
  shedlock_tab: {
    lock_name: "r string",
    lock_until: "d string",
    locked_at: "d string",
    locked_by: "r string",
  },
  pq_schedules: {
    scope: "r string",
    name: "r string",
    cron: "r string",
    tz: "n string",
    job_type: "r number",
    params: "r string",
    priority: "d number",
    backfill_ms: "d number",
    last_tick_ms: "d number",
    next_tick_ms: "d number",
    source: "r string",
    updated_at: "r number",
  },
  pq_job_types: {
    scope: "r string",
    job_type: "r number",
    paused: "d number",
    claim_seq: "d number",
    backoff_until: "d number",
    updated_at: "d number",
  },
  pq_job_groups: {
    scope: "r string",
    job_type: "r number",
    group_key: "r string",
    backoff_until: "d number",
    updated_at: "d number",
  },
  pq_job_starts: {
    id: "d number",
    scope: "r string",
    job_type: "r number",
    group_key: "n string",
    started_ms: "r number",
  },
  pq_job_stats: {
    scope: "r string",
    job_type: "r number",
    job_status: "r number",
    minute_start: "r number",
    finished: "d number",
  },
};

export const FACTS: Record<DialectFamily, Record<string, Record<string, string>>> = {
  mysql: MYSQL,
  postgres: POSTGRES,
  sqlite: SQLITE,
};
