import type { DialectIntrospection } from "../dialect.js";
import { sql } from "../sql.js";

/** SQLite's catalogue queries: the table_info and index_list pragmas, sqlite_master. */
export const sqliteIntrospection: DialectIntrospection = {
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
};
