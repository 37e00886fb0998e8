import type { Row } from "../db.js";
import { claimAssignments, pickDue } from "./claim.js";
import type { Dialect, DialectCapabilities } from "./dialect.js";
import { errorMatches } from "./errors.js";
import { ident, raw, sql } from "./sql.js";

/**
 * MySQL 8 and MariaDB 10.6+. MariaDB is the same dialect with other
 * capability flags and name; {@link mysqlDialect} builds either.
 */
export function mysqlDialect(variant: "mysql" | "mariadb", version: string): Dialect {
  const capabilities: DialectCapabilities = {
    skipLocked: supportsSkipLocked(variant, version),
    updateReturning: false, // neither MySQL nor MariaDB 10.11 has UPDATE … RETURNING
    listenNotify: false,
    transactionalDdl: false, // DDL commits implicitly
    invisibleColumns: supportsInvisibleColumns(variant, version),
  };
  return {
    name: variant,
    family: "mysql",
    capabilities,
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
    insertReturning: variant === "mariadb", // MariaDB 10.5+ has INSERT … RETURNING; MySQL 8 does not

    /**
     * Claim, MySQL form (no UPDATE … RETURNING): one autocommit statement that
     * joins the picked ids (locked with SKIP LOCKED, so concurrent claimers
     * take disjoint rows) and marks them running under `token`. The claimed
     * rows are then read with `selectClaimed`. The derived table carries
     * the pre-claim status, because a multi-table UPDATE may apply its SET
     * assignments in any order. Needs the (job_status, job_type, id) index: without it
     * the locking read locks every row it scans.
     *
     * The picked rows drive the join (STRAIGHT_JOIN), each job row looked up by
     * primary key. Left to itself, MariaDB 10.11 on a small table scanned the job
     * table first, and an UPDATE locks every row it reads: a claim then waited on
     * any row another transaction held (an uncommitted `add(…, { db: tx })`, a
     * running job locked by a user), and joined deadlocks with completions.
     */
    claimJobs(p) {
      const prev = sql`${ident("s")}.${ident("prev_status")}`;
      const attempts = sql`${ident(p.table)}.${ident("attempts")}`;
      return sql`UPDATE (${pickDue(this, p)}) AS ${ident("s")} STRAIGHT_JOIN ${ident(p.table)} FORCE INDEX (PRIMARY) ON ${ident(p.table)}.${ident("id")} = ${ident("s")}.${ident("id")}
  SET ${claimAssignments(this, p, prev, attempts)}`;
    },

    intDiv: (a, b) => sql`(${a} DIV ${b})`,
    // The seed's lock columns are TIMESTAMP: whole seconds, fractions truncated. A lock
    // must never be shorter than asked, so lock times round up: from the whole second
    // now, plus the duration in whole seconds, plus one. It may last up to 2 s longer.
    lockNow: "NOW(3)",
    // The lock table's TIMESTAMP columns and NOW() convert through the session's time zone,
    // and local time repeats an hour in autumn. Measured on MariaDB 10.11 in Europe/Berlin
    // (2022-10-30): a lock released at 00:50 UTC read as held again from 01:00 to 01:50 UTC
    // (02:50 local compared with 02:xx local); one taken at 01:30 UTC for 31 s was stored
    // as expiring at 00:30:31 UTC, free to a second holder at once; one taken at 00:59:50
    // UTC lasted 3631 s. So our lock statements run in UTC, for the one statement: same
    // text otherwise, and the instants they store are the ones the Go library's session
    // reads back in its own zone. MariaDB: SET STATEMENT (10.1.2+, also in prepared
    // statements). MySQL 8: the SET_VAR hint; a server that does not take it ignores the
    // hint with a warning and behaves as before (not run here: no MySQL 8 in the matrix).
    utcStatement: (verb) =>
      variant === "mariadb"
        ? `SET STATEMENT time_zone = '+00:00' FOR ${verb}`
        : `${verb} /*+ SET_VAR(time_zone = '+00:00') */`,
    lockNowPlusMs: (ms) => sql`(NOW() + INTERVAL ${Math.ceil(ms / 1000) + 1} SECOND)`,
    lockTimePlusMs: (column, ms) =>
      ms > 0
        ? sql`(${ident(column)} + INTERVAL ${Math.ceil(ms / 1000) + 1} SECOND)`
        : sql`${ident(column)}`,

    columnTypes: {
      intZero: "INT NOT NULL DEFAULT 0",
      bigintZero: "BIGINT NOT NULL DEFAULT 0",
      varcharNull: (n) => `VARCHAR(${n}) NULL DEFAULT NULL`,
    },

    // The seed's DDL, verbatim apart from IF NOT EXISTS and the table name.
    createJobTable: (table) => sql`CREATE TABLE IF NOT EXISTS ${ident(table)} (
  \`id\` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  \`params\` varchar(4096) COLLATE utf8mb4_unicode_ci DEFAULT '' NOT NULL,
  \`job_type\` int(11) NOT NULL,
  \`job_status\` tinyint(4) DEFAULT NULL COMMENT '0:init, 1:success, 2:failed, 3:continue, 4:retry, 5:running',
  \`start_time\` int(11) unsigned DEFAULT '0',
  \`create_time\` int(11) unsigned NOT NULL,
  \`update_time\` int(11) unsigned NOT NULL,
  PRIMARY KEY (\`id\`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`,

    createLockTable: (table) => sql`CREATE TABLE IF NOT EXISTS ${ident(table)} (
  \`lock_name\` varchar(64) NOT NULL COMMENT 'lock key',
  \`lock_until\` timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP COMMENT 'lock expiry time',
  \`locked_at\` timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP COMMENT 'lock time',
  \`locked_by\` varchar(255) NOT NULL COMMENT 'who lock',
  PRIMARY KEY (\`lock_name\`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,

    createMigrationsTable: (table) => sql`CREATE TABLE IF NOT EXISTS ${ident(table)} (
  \`scope\` varchar(128) NOT NULL,
  \`version\` int NOT NULL,
  \`name\` varchar(128) NOT NULL,
  \`applied_at\` bigint NOT NULL,
  PRIMARY KEY (\`scope\`, \`version\`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,

    setColumnDefault: (table, column, defaultSql) =>
      sql`ALTER TABLE ${ident(table)} ALTER COLUMN ${ident(column)} SET DEFAULT ${raw(defaultSql)}`,

    listColumns: (table) =>
      sql`SELECT COLUMN_NAME AS name FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ${table}`,
    // MODIFY restates the type (MariaDB has no ALTER COLUMN … SET INVISIBLE). On MariaDB
    // 10.11 it is metadata only (ALGORITHM=INSTANT is accepted): no rows are rewritten.
    hideColumn: (table, column, type) =>
      sql`ALTER TABLE ${ident(table)} MODIFY COLUMN ${ident(column)} ${raw(type)} INVISIBLE`,
    listInvisibleColumns: (table) =>
      sql`SELECT COLUMN_NAME AS name FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ${table} AND EXTRA LIKE '%INVISIBLE%'`,
    listIndexes: (table) =>
      sql`SELECT DISTINCT INDEX_NAME AS name FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ${table}`,
    findTable: (table) =>
      sql`SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ${table}`,
    describeTable: (table) => ({
      columns: sql`SELECT COLUMN_NAME AS name, COLUMN_TYPE AS type, IS_NULLABLE AS nullable, COLUMN_DEFAULT AS dflt, EXTRA AS extra
  FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ${table} ORDER BY ORDINAL_POSITION`,
      indexes: sql`SELECT INDEX_NAME AS name, COLUMN_NAME AS col, NON_UNIQUE AS non_unique
  FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ${table} ORDER BY INDEX_NAME, SEQ_IN_INDEX`,
    }),
    formatColumn: (r) =>
      `${r.name} ${String(r.type).toLowerCase()}${r.nullable === "NO" ? " not null" : ""}` +
      `${r.dflt === null || r.dflt === undefined ? "" : ` default ${r.dflt}`}${r.extra ? ` ${String(r.extra).toLowerCase()}` : ""}`,
    formatIndex: groupIndexColumns,

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
}

/** Rows `{ name, col, non_unique }` ordered by index and position → one line per index. */
export function groupIndexColumns(rows: Row[]): string[] {
  const byName = new Map<string, { unique: boolean; cols: string[] }>();
  for (const r of rows) {
    const name = String(r.name);
    const entry = byName.get(name) ?? { unique: Number(r.non_unique) === 0, cols: [] };
    entry.cols.push(String(r.col));
    byName.set(name, entry);
  }
  return [...byName].map(
    ([name, e]) => `${e.unique ? "unique " : ""}index ${name} (${e.cols.join(", ")})`,
  );
}

/** MySQL has SKIP LOCKED from 8.0.1, MariaDB from 10.6. */
function supportsSkipLocked(variant: "mysql" | "mariadb", version: string): boolean {
  const [major = 0, minor = 0] = versionParts(version);
  return variant === "mariadb" ? major > 10 || (major === 10 && minor >= 6) : major >= 8;
}

/** INVISIBLE columns: MariaDB from 10.3.3, MySQL from 8.0.23. */
export function supportsInvisibleColumns(variant: "mysql" | "mariadb", version: string): boolean {
  const [major = 0, minor = 0, patch = 0] = versionParts(version);
  const atLeast = (a: number, b: number, c: number) =>
    major !== a ? major > a : minor !== b ? minor > b : patch >= c;
  return variant === "mariadb" ? atLeast(10, 3, 3) : atLeast(8, 0, 23);
}

/** "10.11.6-MariaDB-0+deb12u1" → [10, 11, 6]; "8.0.36" → [8, 0, 36]. */
function versionParts(version: string): number[] {
  return version.split(/[.-]/).map((p) => Number.parseInt(p, 10) || 0);
}
