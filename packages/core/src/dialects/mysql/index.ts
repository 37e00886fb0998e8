import type { DB } from "../../db.js";
import { claimLockingFor } from "../claim-locking.js";
import type { Dialect, DialectCapabilities, DialectOptions, SqlHooks } from "../dialect.js";
import { errorMatches } from "../errors.js";
import { ident, raw, sql } from "../sql.js";
import { mysqlDdl } from "./ddl.js";
import { mysqlIntrospection } from "./introspection.js";
import { mysqlStatements } from "./statements.js";
import { type MysqlVariant, supportsInvisibleColumns, supportsSkipLocked } from "./version.js";

export type { MysqlVariant } from "./version.js";
export { supportsInvisibleColumns } from "./version.js";

/**
 * MySQL 8 and MariaDB 10.6+. MariaDB is the same dialect with other
 * capability flags and name; {@link mysqlDialect} builds either, for the
 * server `version` (capabilities such as SKIP LOCKED depend on it).
 */
export function mysqlDialect(
  variant: MysqlVariant,
  version: string,
  options: DialectOptions = {},
): Dialect {
  const skipLocked = supportsSkipLocked(variant, version);
  // TiDB reports MySQL 8's version (SKIP LOCKED) and takes no lock there; a server without
  // SKIP LOCKED would make claimers queue behind each other's FOR UPDATE: both claim optimistically.
  const detected = skipLocked ? claimLockingFor(version) : "optimistic";
  const capabilities: DialectCapabilities = {
    skipLocked,
    claimLocking: options.claimLocking ?? detected,
    updateReturning: false, // neither MySQL nor MariaDB 10.11 has UPDATE … RETURNING
    listenNotify: false,
    transactionalDdl: false, // DDL commits implicitly
    invisibleColumns: supportsInvisibleColumns(variant, version),
  };
  const hooks: SqlHooks = {
    placeholder: () => "?",
    quoteIdent: (name) => `\`${name}\``,
    // The database clock, independent of the session's time zone. UNIX_TIMESTAMP(NOW(3))
    // goes UTC → session-local → UTC, and in a DST zone's repeated autumn hour the way back
    // picks the wrong pass: in Europe/Berlin at 01:30 UTC on 2022-10-30 it gave 00:30 UTC,
    // so every lease looked an hour older. UTC_TIMESTAMP never passes through the session's
    // zone. Like NOW(), it is fixed for the whole statement, and MariaDB 10.11 evaluates the
    // expression once per statement (EXPLAIN shows it as <cache>(…)); per evaluation it is
    // cheaper than the old form (BENCHMARK of 2M: 0.45 s against 0.78 s). A claim of 100
    // from 20k pending rows of which 19.9k are not yet due (the scan compares the clock with
    // each): median 61 ms against 75 ms. MySQL 8 has the same functions and the same
    // once-per-statement rule for them.
    nowMs: "(TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', UTC_TIMESTAMP(6)) DIV 1000)",
    nowSec: "TIMESTAMPDIFF(SECOND, '1970-01-01 00:00:00', UTC_TIMESTAMP(6))",
    lockRowsClause: capabilities.skipLocked ? "FOR UPDATE SKIP LOCKED" : "FOR UPDATE",
    forceIndex: (index) => `FORCE INDEX (\`${index}\`)`,
    greatest: "GREATEST",
    dueMs: "`due_ms`", // a VIRTUAL column (see ddl.ts): MariaDB has no expression indexes
    // GROUP BY on the due index's whole prefix is a loose index scan ("Using index for
    // group-by"): 2 rows read for 3 levels over 100k rows. A recursive query's correlated
    // `priority > lv.p` was not a seek on MariaDB 10.11 (190 ms).
    priorityLevels: (table, statuses, jobType) =>
      sql`SELECT ${ident("job_status")} AS s, ${ident("priority")} AS p FROM ${ident(table)}
      WHERE ${ident("job_status")} IN (${raw(statuses.map(Number).join(", "))}) AND ${ident("job_type")} = ${jobType}
      GROUP BY ${ident("job_status")}, ${ident("job_type")}, ${ident("priority")}`,
    intDiv: (a, b) => sql`(${a} DIV ${b})`,
    int: (value) => sql`${value}`,
    // 1050 table exists, 1060 duplicate column, 1061 duplicate key name, 1062 duplicate entry.
    isAlreadyExists: (err) =>
      errorMatches(
        err,
        [
          "1050",
          "1060",
          "1061",
          "1062",
          "ER_TABLE_EXISTS_ERROR",
          "ER_DUP_FIELDNAME",
          "ER_DUP_KEYNAME",
          "ER_DUP_ENTRY",
        ],
        /already exists|Duplicate (column|key|entry)/i,
      ),
  };
  return {
    name: variant,
    family: "mysql",
    capabilities,
    ...hooks,
    statements: mysqlStatements(hooks, variant, capabilities.claimLocking),
    ddl: mysqlDdl,
    introspection: mysqlIntrospection,
  };
}

/**
 * The dialect of a DB with `dialect: "mysql"`: the server is asked once which
 * variant and version it runs (see {@link Dialect.detect}). A dialect made with
 * {@link mysqlDialect} for a known server is used as it is.
 */
export function detectingMysqlDialect(options: DialectOptions = {}): Dialect {
  return { ...mysqlDialect("mysql", "", options), detect: (db) => detectMysql(db, options) };
}

/** MariaDB 10.6+ (a variant of MySQL): {@link mysqlDialect} for a known MariaDB server. */
export function mariadbDialect(version: string, options: DialectOptions = {}): Dialect {
  return mysqlDialect("mariadb", version, options);
}

/** Asks the server which variant and version it runs: the capabilities depend on both. */
async function detectMysql(db: DB, options: DialectOptions): Promise<Dialect> {
  const rows = await db.query<{ v: string }>("SELECT VERSION() AS v");
  const version = String(rows[0]?.v ?? "");
  return mysqlDialect(/mariadb/i.test(version) ? "mariadb" : "mysql", version, options);
}
