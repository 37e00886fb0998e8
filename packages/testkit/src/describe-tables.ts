// The schema comparisons of the ORM packages' schema helpers: the queue's
// tables, and what describeSchema() does not print.
import type { DB, TableNames } from "@persistent-queue/core";
import { describeSchema } from "@persistent-queue/core/adapter";

/** describeSchema() of every queue table: what an ORM's schema helper must create alike. */
export async function describeQueueTables(db: DB, tables?: Partial<TableNames>): Promise<string> {
  return describeSchema(db, tables);
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
