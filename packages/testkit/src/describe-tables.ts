// The schema comparisons of the ORM packages' schema helpers: all three of the
// queue's tables, and what describeSchema() does not print.
import type { DB, TableNames } from "@persistent-queue/core";
import { describeSchema, resolveTableNames } from "@persistent-queue/core/adapter";

/**
 * describeSchema() of the job and lock tables, then of the schedules table
 * (describeSchema() describes a job and a lock table; the schedules table is
 * described in the job table's place, its lines after the lock table's).
 */
export async function describeQueueTables(db: DB, tables?: Partial<TableNames>): Promise<string> {
  const { schedules } = resolveTableNames(tables);
  const [scheduleLines = ""] = (
    await describeSchema(db, { jobs: schedules, locks: schedules })
  ).split(/(?=^table )/m);
  return (await describeSchema(db, tables)) + scheduleLines;
}

/**
 * MySQL/MariaDB: the job table's generated columns and their expressions as the
 * server normalised them (describeSchema() prints no expression).
 */
export async function generationExpressions(
  db: DB,
  table = "async_job_tab",
): Promise<Array<Record<string, unknown>>> {
  return db.query(
    "SELECT column_name AS name, generation_expression AS expr FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = ? AND generation_expression IS NOT NULL ORDER BY ordinal_position",
    [table],
  );
}
