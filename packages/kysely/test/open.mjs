// Opens the adapter on a conformance target: used by the tests in this
// package and, through `openModule`, by worker processes the tests spawn.
// One Kysely dialect per database: MysqlDialect (mysql2) on MariaDB,
// PostgresDialect (pg), SqliteDialect (better-sqlite3).
import { fromKysely } from "@persistent-queue/kysely";
import Database from "better-sqlite3";
import { Kysely, MysqlDialect, PostgresDialect, SqliteDialect } from "kysely";
import { createPool } from "mysql2";
import pg from "pg";

/**
 * A Kysely instance on `target`, the adapter's DB on it, and close(). On PostgreSQL the DB
 * gets the pg Pool for LISTEN; `plugins` and `log` are passed to the Kysely instance.
 */
export async function openKysely(target, { plugins = [], log } = {}) {
  if (target.kind === "mariadb") {
    const pool = createPool({ uri: target.url, connectionLimit: 8 });
    const kysely = new Kysely({ dialect: new MysqlDialect({ pool }), plugins, log });
    return { kysely, db: fromKysely(kysely), close: () => kysely.destroy() };
  }
  if (target.kind === "postgres") {
    const pool = new pg.Pool({ connectionString: target.url, max: 8 });
    pool.on("error", () => {}); // an idle client dropped by the server: the pool replaces it
    const kysely = new Kysely({ dialect: new PostgresDialect({ pool }), plugins, log });
    return {
      kysely,
      pool,
      db: fromKysely(kysely, { pgPool: pool }),
      close: () => kysely.destroy(),
    };
  }
  const database = new Database(target.path);
  const kysely = new Kysely({ dialect: new SqliteDialect({ database }), plugins, log });
  return {
    kysely,
    db: fromKysely(kysely),
    close: async () => {
      await kysely.destroy();
      if (database.open) database.close();
    },
  };
}

export async function open(target) {
  const { db, close } = await openKysely(target);
  return { db, close };
}
