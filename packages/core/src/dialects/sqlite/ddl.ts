import type { DialectDdl } from "../dialect.js";
import { ident, sql } from "../sql.js";

/** SQLite's DDL: the seed's tables in SQLite's types. */
export const sqliteDdl: DialectDdl = {
  columnTypes: {
    intZero: "INTEGER NOT NULL DEFAULT 0",
    bigintZero: "INTEGER NOT NULL DEFAULT 0",
    varcharNull: () => "TEXT NULL DEFAULT NULL",
    textNull: "TEXT NULL DEFAULT NULL",
  },

  // AUTOINCREMENT: ids are never reused, even after the newest rows are pruned.
  // job_status defaults to 0 here from the start, since SQLite cannot change a default later.
  createJobTable: (table) => sql`CREATE TABLE IF NOT EXISTS ${ident(table)} (
  "id" INTEGER PRIMARY KEY AUTOINCREMENT,
  "params" TEXT NOT NULL DEFAULT '',
  "job_type" INTEGER NOT NULL,
  "job_status" INTEGER DEFAULT 0,
  "start_time" INTEGER DEFAULT 0,
  "create_time" INTEGER NOT NULL,
  "update_time" INTEGER NOT NULL
)`,

  // Times are UTC text 'YYYY-MM-DD HH:MM:SS.SSS', which compares correctly as text.
  createLockTable: (table) => sql`CREATE TABLE IF NOT EXISTS ${ident(table)} (
  "lock_name" TEXT NOT NULL PRIMARY KEY,
  "lock_until" TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
  "locked_at" TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
  "locked_by" TEXT NOT NULL
)`,

  createMigrationsTable: (table) => sql`CREATE TABLE IF NOT EXISTS ${ident(table)} (
  "scope" TEXT NOT NULL,
  "version" INTEGER NOT NULL,
  "name" TEXT NOT NULL,
  "applied_at" INTEGER NOT NULL,
  PRIMARY KEY ("scope", "version")
)`,

  createSchedulesTable: (table) => sql`CREATE TABLE IF NOT EXISTS ${ident(table)} (
  "scope" TEXT NOT NULL,
  "name" TEXT NOT NULL,
  "cron" TEXT NOT NULL,
  "tz" TEXT NULL DEFAULT NULL,
  "job_type" INTEGER NOT NULL,
  "params" TEXT NOT NULL,
  "priority" INTEGER NOT NULL DEFAULT 0,
  "backfill_ms" INTEGER NOT NULL DEFAULT 0,
  "last_tick_ms" INTEGER NOT NULL DEFAULT 0,
  "next_tick_ms" INTEGER NOT NULL DEFAULT 0,
  "source" TEXT NOT NULL,
  "updated_at" INTEGER NOT NULL,
  PRIMARY KEY ("scope", "name")
)`,

  createJobTypesTable: (table) => sql`CREATE TABLE IF NOT EXISTS ${ident(table)} (
  "scope" TEXT NOT NULL,
  "job_type" INTEGER NOT NULL,
  "paused" INTEGER NOT NULL DEFAULT 0,
  "claim_seq" INTEGER NOT NULL DEFAULT 0,
  "backoff_until" INTEGER NOT NULL DEFAULT 0,
  "updated_at" INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY ("scope", "job_type")
)`,

  createJobGroupsTable: (table) => sql`CREATE TABLE IF NOT EXISTS ${ident(table)} (
  "scope" TEXT NOT NULL,
  "job_type" INTEGER NOT NULL,
  "group_key" TEXT NOT NULL,
  "backoff_until" INTEGER NOT NULL DEFAULT 0,
  "updated_at" INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY ("scope", "job_type", "group_key")
)`,

  createJobStartsTable: (table) => sql`CREATE TABLE IF NOT EXISTS ${ident(table)} (
  "id" INTEGER PRIMARY KEY,
  "scope" TEXT NOT NULL,
  "job_type" INTEGER NOT NULL,
  "group_key" TEXT NULL DEFAULT NULL,
  "started_ms" INTEGER NOT NULL
)`,

  createJobStatsTable: (table) => sql`CREATE TABLE IF NOT EXISTS ${ident(table)} (
  "scope" TEXT NOT NULL,
  "job_type" INTEGER NOT NULL,
  "job_status" INTEGER NOT NULL,
  "minute_start" INTEGER NOT NULL,
  "finished" INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY ("scope", "job_type", "job_status", "minute_start")
)`,

  generatedJobColumns: [],
  // An index on the due-time expression: no column to add (so no table rewrite), and the
  // claim's ORDER BY spells the same expression (hooks.dueMs) so that the index serves it.
  createDueIndex: (table, index) =>
    sql`CREATE INDEX ${ident(index)} ON ${ident(table)} ("job_status", "job_type", "priority", (max(COALESCE("start_time", 0) * 1000, "run_at")), "id")`,
  // Partial: finished jobs and jobs without a key are not in it. The enqueue's ON CONFLICT
  // target repeats this predicate.
  createUniqueKeyIndex: (table, index) =>
    sql`CREATE UNIQUE INDEX ${ident(index)} ON ${ident(table)} ("job_type", "unique_key") WHERE "unique_key" IS NOT NULL AND "job_status" IN (0, 3, 4, 5)`,

  setColumnDefault: () => undefined,
};
