import type { DB } from "../db.js";
import type { TableNames } from "../dialects/dialect.js";
import { querySql, resolveDialect } from "../dialects/index.js";
import { resolveTableNames } from "./tables.js";

/**
 * A stable, text description of the queue's tables as the database reports
 * them: one line per column (type, nullability, default) and per index, for
 * every queue table: jobs, locks, schedules, job types, job groups, job
 * starts and job stats (the migrations table is the runner's own).
 * Tests snapshot it per dialect to catch schema drift, and compare the schema
 * an ORM's own tooling creates with core's.
 */
export async function describeSchema(db: DB, tables?: Partial<TableNames>): Promise<string> {
  const names = resolveTableNames(tables);
  const dialect = await resolveDialect(db);
  const out: string[] = [];
  for (const table of [
    names.jobs,
    names.locks,
    names.schedules,
    names.jobTypes,
    names.jobGroups,
    names.jobStarts,
    names.jobStats,
  ]) {
    const { columns, indexes } = dialect.introspection.describeTable(table);
    out.push(`table ${table}`);
    for (const row of await querySql(db, dialect, columns))
      out.push(`  ${dialect.introspection.formatColumn(row)}`);
    for (const line of dialect.introspection.formatIndex(await querySql(db, dialect, indexes)))
      out.push(`  ${line}`);
  }
  return `${out.join("\n")}\n`;
}
