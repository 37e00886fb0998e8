import type { DialectDdl } from "../dialect.js";
import { ident, raw, sql } from "../sql.js";

/** MySQL's DDL: the seed's own tables, and INVISIBLE columns for the Go library's readers. */
export const mysqlDdl: DialectDdl = {
  columnTypes: {
    intZero: "INT NOT NULL DEFAULT 0",
    bigintZero: "BIGINT NOT NULL DEFAULT 0",
    varcharNull: (n) => `VARCHAR(${n}) NULL DEFAULT NULL`,
    textNull: "MEDIUMTEXT NULL DEFAULT NULL",
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

  createSchedulesTable: (table) => sql`CREATE TABLE IF NOT EXISTS ${ident(table)} (
  \`scope\` varchar(64) NOT NULL,
  \`name\` varchar(128) NOT NULL,
  \`cron\` varchar(128) NOT NULL,
  \`tz\` varchar(64) NULL DEFAULT NULL,
  \`job_type\` int NOT NULL,
  \`params\` text NOT NULL,
  \`priority\` int NOT NULL DEFAULT 0,
  \`backfill_ms\` bigint NOT NULL DEFAULT 0,
  \`last_tick_ms\` bigint NOT NULL DEFAULT 0,
  \`next_tick_ms\` bigint NOT NULL DEFAULT 0,
  \`source\` varchar(16) NOT NULL,
  \`updated_at\` bigint NOT NULL,
  PRIMARY KEY (\`scope\`, \`name\`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`,

  createJobTypesTable: (table) => sql`CREATE TABLE IF NOT EXISTS ${ident(table)} (
  \`scope\` varchar(64) NOT NULL,
  \`job_type\` int NOT NULL,
  \`paused\` int NOT NULL DEFAULT 0,
  \`claim_seq\` bigint NOT NULL DEFAULT 0,
  \`backoff_until\` bigint NOT NULL DEFAULT 0,
  \`updated_at\` bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (\`scope\`, \`job_type\`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,

  createJobGroupsTable: (table) => sql`CREATE TABLE IF NOT EXISTS ${ident(table)} (
  \`scope\` varchar(64) NOT NULL,
  \`job_type\` int NOT NULL,
  \`group_key\` varchar(255) NOT NULL,
  \`backoff_until\` bigint NOT NULL DEFAULT 0,
  \`updated_at\` bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (\`scope\`, \`job_type\`, \`group_key\`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`,

  // group_key compares with the job table's: the same collation, or MySQL refuses the mix.
  createJobStartsTable: (table) => sql`CREATE TABLE IF NOT EXISTS ${ident(table)} (
  \`id\` bigint unsigned NOT NULL AUTO_INCREMENT,
  \`scope\` varchar(64) NOT NULL,
  \`job_type\` int NOT NULL,
  \`group_key\` varchar(255) NULL DEFAULT NULL,
  \`started_ms\` bigint NOT NULL,
  PRIMARY KEY (\`id\`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`,

  createJobStatsTable: (table) => sql`CREATE TABLE IF NOT EXISTS ${ident(table)} (
  \`scope\` varchar(64) NOT NULL,
  \`job_type\` int NOT NULL,
  \`job_status\` int NOT NULL,
  \`minute_start\` bigint NOT NULL,
  \`finished\` bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (\`scope\`, \`job_type\`, \`job_status\`, \`minute_start\`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,

  // MariaDB has no expression or partial indexes (MySQL 8 has the first only), so what the
  // due index and the unique-key index need is computed in VIRTUAL columns: no storage,
  // no table rewrite when added, the Go library's INSERT and UPDATEs keep them current.
  generatedJobColumns: [
    {
      column: "due_ms",
      type: "BIGINT AS (GREATEST(COALESCE(`start_time`, 0) * 1000, `run_at`)) VIRTUAL",
    },
    {
      column: "unique_live",
      type: "VARCHAR(255) AS (CASE WHEN `job_status` IN (0, 3, 4, 5) THEN `unique_key` END) VIRTUAL",
    },
  ],
  createDueIndex: (table, index) =>
    sql`CREATE INDEX ${ident(index)} ON ${ident(table)} (\`job_status\`, \`job_type\`, \`priority\`, \`due_ms\`, \`id\`)`,
  // NULLs never collide in a unique index: finished jobs and jobs without a key are NULL here.
  createUniqueKeyIndex: (table, index) =>
    sql`CREATE UNIQUE INDEX ${ident(index)} ON ${ident(table)} (\`job_type\`, \`unique_live\`)`,

  setColumnDefault: (table, column, defaultSql) =>
    sql`ALTER TABLE ${ident(table)} ALTER COLUMN ${ident(column)} SET DEFAULT ${raw(defaultSql)}`,

  // MODIFY restates the type (MariaDB has no ALTER COLUMN … SET INVISIBLE). On MariaDB
  // 10.11 it is metadata only (ALGORITHM=INSTANT is accepted): no rows are rewritten.
  hideColumn: (table, column, type) =>
    sql`ALTER TABLE ${ident(table)} MODIFY COLUMN ${ident(column)} ${raw(type)} INVISIBLE`,
};
