// Opens the adapter on a conformance target: used by the tests in this
// package and, through `openModule`, by worker processes the tests spawn.
// One Drizzle driver per database: mysql2 (MariaDB), node-postgres, better-sqlite3.
import { fromDrizzle } from "@persistent-queue/drizzle";
import Database from "better-sqlite3";
import { drizzle as drizzleSqlite } from "drizzle-orm/better-sqlite3";
import { drizzle as drizzleMysql } from "drizzle-orm/mysql2";
import { drizzle as drizzlePg } from "drizzle-orm/node-postgres";
import mysql from "mysql2/promise";
import pg from "pg";

/** Opens a Drizzle database on `target`; returns it with the adapter's DB and a close(). */
export async function openDrizzle(target) {
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
