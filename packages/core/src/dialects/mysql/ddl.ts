import type { DialectDdl } from "../dialect.js";
import { ident, raw, sql } from "../sql.js";

/** MySQL's DDL: the seed's own tables, and INVISIBLE columns for the Go library's readers. */
export const mysqlDdl: DialectDdl = {
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

  // MODIFY restates the type (MariaDB has no ALTER COLUMN … SET INVISIBLE). On MariaDB
  // 10.11 it is metadata only (ALGORITHM=INSTANT is accepted): no rows are rewritten.
  hideColumn: (table, column, type) =>
    sql`ALTER TABLE ${ident(table)} MODIFY COLUMN ${ident(column)} ${raw(type)} INVISIBLE`,
};
