import type { DB } from "@persistent-queue/core";
import type { Opened, Target } from "@persistent-queue/testkit";
import type { Kysely, KyselyConfig, KyselyPlugin } from "kysely";
import type { Pool } from "pg";
export function open(target: Target): Promise<Opened>;
/** A Kysely instance on `target` (MysqlDialect on MariaDB, PostgresDialect, SqliteDialect), the adapter's DB on it, and close(). */
export function openKysely<T = unknown>(
  target: Target,
  options?: { plugins?: KyselyPlugin[]; log?: KyselyConfig["log"] },
): Promise<{
  kysely: Kysely<T>;
  /** PostgreSQL only: the pg Pool under Kysely. */
  pool?: Pool;
  db: DB;
  close(): Promise<void>;
}>;
