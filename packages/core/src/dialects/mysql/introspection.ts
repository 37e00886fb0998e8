import type { Row } from "../../db.js";
import type { DialectIntrospection } from "../dialect.js";
import { sql } from "../sql.js";

/** MySQL's catalogue queries, on information_schema of the connection's DATABASE(). */
export const mysqlIntrospection: DialectIntrospection = {
  listColumns: (table) =>
    sql`SELECT COLUMN_NAME AS name FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ${table}`,
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
};

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
