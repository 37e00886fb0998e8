import type { DialectIntrospection } from "../dialect.js";
import { sql } from "../sql.js";

/** PostgreSQL's catalogue queries; tables live in the connection's `current_schema()`. */
export const postgresIntrospection: DialectIntrospection = {
  listColumns: (table) =>
    sql`SELECT column_name AS name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ${table}`,
  listIndexes: (table) =>
    sql`SELECT indexname AS name FROM pg_indexes WHERE schemaname = current_schema() AND tablename = ${table}`,
  findTable: (table) =>
    sql`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ${table}`,
  describeTable: (table) => ({
    columns: sql`SELECT column_name AS name, data_type AS type, character_maximum_length AS len, is_nullable AS nullable,
  column_default AS dflt, is_identity AS identity
  FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ${table} ORDER BY ordinal_position`,
    indexes: sql`SELECT indexname AS name, indexdef AS def FROM pg_indexes
  WHERE schemaname = current_schema() AND tablename = ${table} ORDER BY indexname`,
  }),
  formatColumn: (r) =>
    `${r.name} ${r.type}${r.len ? `(${r.len})` : ""}${r.nullable === "NO" ? " not null" : ""}` +
    `${r.dflt === null || r.dflt === undefined ? "" : ` default ${r.dflt}`}${r.identity === "YES" ? " identity" : ""}`,
  // The definition names the schema; drop it so the description does not depend on it.
  formatIndex: (rows) => rows.map((r) => String(r.def).replace(/ ON [^ ]+\./, " ON ")),
};
