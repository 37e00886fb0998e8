import type { DB, Row } from "../db.js";
import { UnsupportedError } from "../errors.js";
import type { Dialect } from "./dialect.js";
import { mysqlDialect } from "./mysql.js";
import { postgresDialect } from "./postgres.js";
import { compile, type SqlFragment } from "./sql.js";
import { sqliteDialect } from "./sqlite.js";

export type { Dialect, DialectCapabilities, DialectName, TableNames } from "./dialect.js";

const resolved = new WeakMap<DB, Promise<Dialect>>();

/**
 * The dialect of a connection. The adapter names the family; for MySQL the
 * server is asked once (`SELECT VERSION()`) whether it is MariaDB and which
 * version, since capabilities such as SKIP LOCKED depend on it.
 */
export function resolveDialect(db: DB): Promise<Dialect> {
  let dialect = resolved.get(db);
  if (dialect === undefined) {
    dialect = detect(db);
    resolved.set(db, dialect);
    dialect.catch(() => resolved.delete(db)); // a failed probe (server down) is retried next time
  }
  return dialect;
}

/**
 * The dialect without a round trip, where none is needed (SQLite,
 * PostgreSQL) or it was resolved before; undefined for a MySQL connection
 * never probed.
 */
export function resolveDialectSync(db: DB): Dialect | undefined {
  if (db.dialect === "sqlite") return sqliteDialect();
  if (db.dialect === "postgres") return postgresDialect();
  return undefined;
}

async function detect(db: DB): Promise<Dialect> {
  switch (db.dialect) {
    case "postgres":
      return postgresDialect();
    case "sqlite":
      return sqliteDialect();
    case "mysql": {
      const rows = await db.query<{ v: string }>("SELECT VERSION() AS v");
      const version = String(rows[0]?.v ?? "");
      return mysqlDialect(/mariadb/i.test(version) ? "mariadb" : "mysql", version);
    }
    default:
      throw new UnsupportedError(
        `DB.dialect must be "mysql", "postgres" or "sqlite" (got ${JSON.stringify((db as { dialect?: unknown }).dialect)}); ` +
          "use one of the @persistent-queue adapters or set it on your own DB object.",
      );
  }
}

/** Compiles a fragment for the dialect and runs it with `db.exec`. */
export function execSql(db: DB, dialect: Dialect, fragment: SqlFragment) {
  const { text, params } = compile(fragment, dialect);
  return db.exec(text, params);
}

/** Compiles a fragment for the dialect and runs it with `db.query`. */
export function querySql<T extends Row = Row>(
  db: DB,
  dialect: Dialect,
  fragment: SqlFragment,
): Promise<T[]> {
  const { text, params } = compile(fragment, dialect);
  return db.query<T>(text, params);
}
