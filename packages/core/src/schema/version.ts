import type { DB } from "../db.js";
import type { Dialect, TableNames } from "../dialects/dialect.js";
import { compile, ident, type SqlFragment, sql } from "../dialects/sql.js";
import { SchemaVersionError } from "../errors.js";
import { LATEST_SCHEMA_VERSION } from "./migrations.js";

/** The statements that read the schema version: does the migrations table exist, and its newest version for this job table. */
function versionStatements(dialect: Dialect, tables: TableNames): [SqlFragment, SqlFragment] {
  return [
    dialect.introspection.findTable(tables.migrations),
    sql`SELECT MAX(${ident("version")}) AS version FROM ${ident(tables.migrations)} WHERE ${ident("scope")} = ${tables.jobs}`,
  ];
}

function check(tables: TableNames, found: number): void {
  if (found < LATEST_SCHEMA_VERSION)
    throw new SchemaVersionError(tables.jobs, found, LATEST_SCHEMA_VERSION);
}

const versionOf = (rows: readonly Record<string, unknown>[]) => Number(rows[0]?.version ?? 0);

/**
 * Throws {@link SchemaVersionError} unless `migrate()` brought the job table
 * to the version this build needs (newer is fine: migrations only add). Two
 * catalog reads; callers cache a success. Errors of the database itself
 * (unreachable) pass through unchanged.
 */
export async function assertSchemaCurrent(
  db: DB,
  dialect: Dialect,
  tables: TableNames,
): Promise<void> {
  const [find, version] = versionStatements(dialect, tables).map((f) => compile(f, dialect));
  const exists = (await db.query(find!.text, find!.params)).length > 0;
  check(tables, exists ? versionOf(await db.query(version!.text, version!.params)) : 0);
}

/** {@link assertSchemaCurrent} through a synchronous DB (`addSync()`). */
export function assertSchemaCurrentSync(db: DB, dialect: Dialect, tables: TableNames): void {
  const [find, version] = versionStatements(dialect, tables).map((f) => compile(f, dialect));
  const exists = db.querySync!(find!.text, find!.params).length > 0;
  check(tables, exists ? versionOf(db.querySync!(version!.text, version!.params)) : 0);
}
