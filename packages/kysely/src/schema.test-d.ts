// Checked by tsc (vitest typecheck), never run: the table types work in Kysely's query
// builder, combined with an application's own tables, under default and custom names.
import type { DB } from "@persistent-queue/core";
import type { Generated, Insertable, Kysely, Selectable, Transaction } from "kysely";
import { describe, expectTypeOf, it } from "vitest";
import { type Facts, MYSQL, POSTGRES, SQLITE } from "../test/facts.js";
import {
  fromKysely,
  type MysqlQueueTables,
  type PostgresQueueTables,
  type QueueTables,
  type SqliteQueueTables,
} from "./index.js";

interface ShopDb {
  orders: { id: Generated<number>; item: string };
}

describe("QueueTables in a Kysely database interface", () => {
  it("selects with each dialect's driver types", async () => {
    const pg = {} as Kysely<PostgresQueueTables & ShopDb>;
    const job = await pg
      .selectFrom("async_job_tab")
      .select(["id", "job_status", "run_at", "params", "unique_key"])
      .executeTakeFirstOrThrow();
    expectTypeOf(job).toEqualTypeOf<{
      id: string; // pg returns int8 as text
      job_status: number | null;
      run_at: string;
      params: string;
      unique_key: string | null;
    }>();
    const lock = await pg.selectFrom("shedlock_tab").selectAll().executeTakeFirstOrThrow();
    expectTypeOf(lock.lock_until).toEqualTypeOf<Date>();

    const my = {} as Kysely<MysqlQueueTables>;
    const due = await my
      .selectFrom("async_job_tab")
      .select(["id", "due_ms", "create_time"])
      .execute();
    expectTypeOf(due).toEqualTypeOf<{ id: number; due_ms: number | null; create_time: number }[]>();

    const lite = {} as Kysely<SqliteQueueTables>;
    const row = await lite
      .selectFrom("shedlock_tab")
      .select("lock_until")
      .executeTakeFirstOrThrow();
    expectTypeOf(row.lock_until).toEqualTypeOf<string>();
    // The generated columns are MySQL's only.
    // @ts-expect-error no due_ms on SQLite
    lite.selectFrom("async_job_tab").select("due_ms");
  });

  it("all seven tables, and joins with the application's own", async () => {
    type Tables = keyof SqliteQueueTables;
    expectTypeOf<Tables>().toEqualTypeOf<
      | "async_job_tab"
      | "shedlock_tab"
      | "pq_schedules"
      | "pq_job_types"
      | "pq_job_groups"
      | "pq_job_starts"
      | "pq_job_stats"
    >();
    const db = {} as Kysely<SqliteQueueTables & ShopDb>;
    const rows = await db
      .selectFrom("orders")
      .innerJoin("async_job_tab", "async_job_tab.id", "orders.id")
      .select(["orders.item", "async_job_tab.job_status"])
      .execute();
    expectTypeOf(rows).toEqualTypeOf<{ item: string; job_status: number | null }[]>();
  });

  it("inserts: required columns are required, defaulted and generated ones are not", () => {
    type NewJob = Insertable<QueueTables<"mysql">["async_job_tab"]>;
    expectTypeOf<NewJob>().toHaveProperty("job_type").toEqualTypeOf<number>();
    expectTypeOf<{ job_type: 1; create_time: 1; update_time: 1 }>().toExtend<NewJob>();
    expectTypeOf<{ job_type: 1 }>().not.toExtend<NewJob>();
    // The generated columns cannot be written, only read.
    expectTypeOf<"due_ms" extends keyof NewJob ? true : false>().toEqualTypeOf<false>();
    type Job = Selectable<QueueTables<"mysql">["async_job_tab"]>;
    expectTypeOf<Job["due_ms"]>().toEqualTypeOf<number | null>();
    type NewStat = Insertable<QueueTables<"postgres">["pq_job_stats"]>;
    expectTypeOf<{
      scope: "s";
      job_type: 1;
      job_status: 2;
      minute_start: 10n;
    }>().toExtend<NewStat>();
  });

  it("custom table names, as in core's tables option", () => {
    const tables = { jobs: "shop_jobs", locks: "shop_locks" } as const;
    type Custom = QueueTables<"postgres", typeof tables>;
    expectTypeOf<keyof Custom>().toEqualTypeOf<
      | "shop_jobs"
      | "shop_locks"
      | "pq_schedules"
      | "pq_job_types"
      | "pq_job_groups"
      | "pq_job_starts"
      | "pq_job_stats"
    >();
    expectTypeOf<Selectable<Custom["shop_jobs"]>["id"]>().toEqualTypeOf<string>();
  });
});

describe("fromKysely accepts Kysely objects as they are typed", () => {
  it("a Kysely instance of any database, a Transaction", () => {
    expectTypeOf(fromKysely({} as Kysely<ShopDb>)).toEqualTypeOf<DB>();
    expectTypeOf(fromKysely({} as Kysely<PostgresQueueTables & ShopDb>)).toEqualTypeOf<DB>();
    expectTypeOf(fromKysely({} as Transaction<ShopDb>)).toEqualTypeOf<DB>();
    // @ts-expect-error not a Kysely instance
    fromKysely({ query: () => undefined });
  });
});

describe("the facts schema.test.ts checks against the database are the types' own", () => {
  it("per dialect (test/facts.ts declares them as Facts<QueueTables<D>>, checked by tsc)", () => {
    expectTypeOf(MYSQL).toEqualTypeOf<Facts<QueueTables<"mysql">>>();
    expectTypeOf(POSTGRES).toEqualTypeOf<Facts<QueueTables<"postgres">>>();
    expectTypeOf(SQLITE).toEqualTypeOf<Facts<QueueTables<"sqlite">>>();
    expectTypeOf(POSTGRES.async_job_tab.id).toEqualTypeOf<"d string">();
  });
});
