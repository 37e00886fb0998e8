// Opens the adapter on a conformance target: used by the tests in this
// package and, through `openModule`, by worker processes the tests spawn.
// One Drizzle driver per database: mysql2 (MariaDB), node-postgres (or postgres-js, when
// asked), better-sqlite3.
import { fromDrizzle } from "@persistent-queue/drizzle";
import Database from "better-sqlite3";
import { drizzle as drizzleSqlite } from "drizzle-orm/better-sqlite3";
import { drizzle as drizzleMysql } from "drizzle-orm/mysql2";
import { drizzle as drizzlePg } from "drizzle-orm/node-postgres";
import { drizzle as drizzlePostgresJs } from "drizzle-orm/postgres-js";
import mysql from "mysql2/promise";
import pg from "pg";
import postgres from "postgres";

/**
 * Opens a Drizzle database on `target`; returns it with the adapter's DB and a close().
 * On PostgreSQL, `pgDriver: "postgres-js"` makes it with drizzle-orm/postgres-js.
 */
export async function openDrizzle(target, { pgDriver = "node-postgres" } = {}) {
  if (target.kind === "mariadb") {
    const pool = mysql.createPool({ uri: target.url, connectionLimit: 8 });
    let ended = false;
    const orm = drizzleMysql(pool);
    return {
      orm,
      db: fromDrizzle(orm),
      close: async () => {
        if (ended) return;
        ended = true;
        await pool.end().catch(() => undefined); // already ended by db.close()
      },
    };
  }
  if (target.kind === "postgres" && pgDriver === "postgres-js") {
    const sql = postgres(target.url, { max: 8, onnotice: () => {} });
    const orm = drizzlePostgresJs(sql);
    return { orm, db: fromDrizzle(orm), close: () => sql.end({ timeout: 5 }) };
  }
  if (target.kind === "postgres") {
    const pool = new pg.Pool({ connectionString: target.url, max: 8 });
    const orm = drizzlePg(pool);
    return {
      orm,
      db: fromDrizzle(orm),
      close: async () => {
        if (!pool.ended && !pool.ending) await pool.end();
      },
    };
  }
  const database = new Database(target.path);
  const orm = drizzleSqlite(database);
  return {
    orm,
    db: fromDrizzle(orm),
    close: async () => {
      if (database.open) database.close();
    },
  };
}

export async function open(target) {
  const { db, close } = await openDrizzle(target);
  return { db, close };
}

/** The same as open(), with drizzle-orm/postgres-js on PostgreSQL. */
export async function openPostgresJs(target) {
  const { db, close } = await openDrizzle(target, { pgDriver: "postgres-js" });
  return { db, close };
}
