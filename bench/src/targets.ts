/** The databases every bench scenario runs on: an SQLite file and throwaway MariaDB/PostgreSQL (or PQ_MYSQL_URL/PQ_PG_URL). */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fromBetterSqlite3 } from "@persistent-queue/better-sqlite3";
import type { DB } from "@persistent-queue/core";
import { fromMysql2 } from "@persistent-queue/mysql2";
import { fromPg } from "@persistent-queue/pg";
import {
  createDatabase,
  mariadbFromEnvOrStart,
  postgresFromEnvOrStart,
} from "@persistent-queue/testkit";
import Database from "better-sqlite3";
import mysql from "mysql2/promise";
import pg from "pg";

export interface Target {
  name: string;
  open(): Promise<{ db: DB; close(): Promise<void> }>;
  done(): Promise<void>;
}

export async function targets(): Promise<Target[]> {
  const dir = mkdtempSync(join(tmpdir(), "pq-bench-"));
  const file = join(dir, "bench.sqlite");
  const maria = await mariadbFromEnvOrStart();
  const postgres = await postgresFromEnvOrStart();
  const myDb = await createDatabase({ kind: "mariadb", url: maria.url });
  const pgDb = await createDatabase({ kind: "postgres", url: postgres.url });
  return [
    {
      name: "SQLite",
      open: async () => {
        const s = new Database(file);
        return { db: fromBetterSqlite3(s), close: async () => void s.close() };
      },
      done: async () => rmSync(dir, { recursive: true, force: true }),
    },
    {
      name: `MariaDB ${maria.version.split("-")[0]}`,
      open: async () => {
        const pool = mysql.createPool({ uri: myDb.url, connectionLimit: 10 });
        return { db: fromMysql2(pool), close: () => pool.end() };
      },
      done: async () => {
        await myDb.drop();
        await maria.stop();
      },
    },
    {
      name: `PostgreSQL ${/PostgreSQL (\S+)/.exec(postgres.version)?.[1] ?? ""}`,
      open: async () => {
        const pool = new pg.Pool({ connectionString: pgDb.url, max: 10 });
        return { db: fromPg(pool), close: () => pool.end() };
      },
      done: async () => {
        await pgDb.drop();
        await postgres.stop();
      },
    },
  ];
}

/** The p-th percentile of ascending `sorted`. */
export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
