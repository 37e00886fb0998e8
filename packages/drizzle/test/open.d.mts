import type { DB } from "@persistent-queue/core";
import type { Opened, Target } from "@persistent-queue/testkit";
import type BetterSqlite3 from "better-sqlite3";
import type { BetterSQLite3Database } from "drizzle-orm/better-sqlite3";
import type { MySql2Database } from "drizzle-orm/mysql2";
import type { NodePgDatabase } from "drizzle-orm/node-postgres";
import type { PostgresJsDatabase } from "drizzle-orm/postgres-js";
import type { Pool as MysqlPool } from "mysql2/promise";
import type { Pool as PgPool } from "pg";
import type { Sql } from "postgres";
export function open(target: Target): Promise<Opened>;
/** open(), with drizzle-orm/postgres-js on PostgreSQL. */
export function openPostgresJs(target: Target): Promise<Opened>;
/** A Drizzle database on `target` (mysql2 on MariaDB, node-postgres, better-sqlite3), the adapter's DB on it, and close(). */
export function openDrizzle(
  target: Target,
  options?: { pgDriver?: "node-postgres" | "postgres-js" },
): Promise<{
  orm:
    | (MySql2Database & { $client: MysqlPool })
    | (NodePgDatabase & { $client: PgPool })
    | (PostgresJsDatabase & { $client: Sql })
    | (BetterSQLite3Database & { $client: BetterSqlite3.Database });
  db: DB;
  close(): Promise<void>;
}>;
