import type { DB } from "../db.js";
import { completeSucceededStatement } from "./complete.js";
import type { ClaimParams, DialectStatements, SqlHooks } from "./dialect.js";
import { querySql, type SqlFragment } from "./sql.js";

/**
 * The operations of a database with `UPDATE … RETURNING` (PostgreSQL, SQLite):
 * the claim and the batched completion are one statement each, and their rows
 * say exactly which jobs they took or completed.
 */
export function returningOperations(
  hooks: SqlHooks,
  claimJobs: (p: ClaimParams) => SqlFragment,
): Pick<DialectStatements, "claim" | "completeSucceeded"> {
  return {
    claim: (db: DB, p: ClaimParams) => querySql(db, hooks, claimJobs(p)),
    async completeSucceeded(db, table, jobs) {
      const rows = await querySql<{ id: unknown; lease_token: unknown }>(
        db,
        hooks,
        completeSucceededStatement(hooks, table, jobs, true),
      );
      return {
        completed: rows.map((row) => ({ id: Number(row.id), token: String(row.lease_token) })),
        exact: true,
      };
    },
  };
}
