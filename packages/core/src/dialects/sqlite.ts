import { claimAssignments, jobColumns, pickDue } from "./claim.js";
import type { Dialect } from "./dialect.js";
import { errorMatches } from "./errors.js";
import { ident, sql } from "./sql.js";

/** Lock times are UTC text with milliseconds, which compares correctly as text. */
const LOCK_NOW = "strftime('%Y-%m-%d %H:%M:%f', 'now')";

/**
 * SQLite 3.35+. One writer at a time: a claim is one UPDATE … RETURNING,
 * serialised by the database itself, so no row locks are needed.
 */
export function sqliteDialect(): Dialect {
  return {
    name: "sqlite",
    family: "sqlite",
    capabilities: {
      skipLocked: false,
      updateReturning: true,
      listenNotify: false,
      transactionalDdl: true,
      invisibleColumns: false,
    },
    placeholder: () => "?",
    quoteIdent: (name) => `"${name}"`,
    // julianday works on every SQLite version (unixepoch('subsec') needs 3.42); 'now' is fixed per statement.
    nowMs: "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)",
    nowSec: "CAST(strftime('%s', 'now') AS INTEGER)",
    lockRowsClause: "",
    forceIndex: () => "",
    greatest: "max",
    insertReturning: true,

    /**
     * Claim, SQLite form: one UPDATE … RETURNING. SQLite runs one writer at a
     * time, so the subquery's pick and the update are atomic without row locks.
     */
    claimJobs(p) {
      return sql`UPDATE ${ident(p.table)} SET ${claimAssignments(this, p, ident("job_status"), ident("attempts"))}
  WHERE ${ident("id")} IN (SELECT ${ident("id")} FROM (${pickDue(this, p)}))
  RETURNING ${jobColumns()}`;
    },

    // better-sqlite3 binds JS numbers as REAL, so `/` alone could divide as floats.
    intDiv: (a, b) => sql`CAST((${a}) / (${b}) AS INTEGER)`,
    utcStatement: (verb) => verb, // lock times are absolute instants here
    lockNow: LOCK_NOW,
    lockNowPlusMs: (ms) => sql`strftime('%Y-%m-%d %H:%M:%f', 'now', ${`+${ms / 1000} seconds`})`,
    lockTimePlusMs: (column, ms) =>
      sql`strftime('%Y-%m-%d %H:%M:%f', ${ident(column)}, ${`+${ms / 1000} seconds`})`,

    columnTypes: {
      intZero: "INTEGER NOT NULL DEFAULT 0",
      bigintZero: "INTEGER NOT NULL DEFAULT 0",
      varcharNull: () => "TEXT NULL DEFAULT NULL",
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

    setColumnDefault: () => undefined,

    listColumns: (table) => sql`SELECT name FROM pragma_table_info(${table})`,
    listIndexes: (table) => sql`SELECT name FROM pragma_index_list(${table})`,
    findTable: (table) =>
      sql`SELECT name FROM sqlite_master WHERE type = 'table' AND name = ${table}`,
    describeTable: (table) => ({
      columns: sql`SELECT name, type, "notnull" AS nn, dflt_value AS dflt, pk FROM pragma_table_info(${table}) ORDER BY cid`,
      indexes: sql`SELECT name, sql AS def FROM sqlite_master WHERE type = 'index' AND tbl_name = ${table} AND sql IS NOT NULL ORDER BY name`,
    }),
    formatColumn: (r) =>
      `${r.name} ${String(r.type).toLowerCase()}${Number(r.nn) ? " not null" : ""}` +
      `${r.dflt === null || r.dflt === undefined ? "" : ` default ${r.dflt}`}${Number(r.pk) ? " primary key" : ""}`,
    formatIndex: (rows) => rows.map((r) => String(r.def).replace(/\s+/g, " ")),

    isAlreadyExists: (err) =>
      errorMatches(
        err,
        ["SQLITE_CONSTRAINT_PRIMARYKEY", "SQLITE_CONSTRAINT_UNIQUE"],
        /already exists|duplicate column name|UNIQUE constraint failed/i,
      ),
  };
}
