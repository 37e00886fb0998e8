import { UnsupportedError } from "../../errors.js";
import { logStarts } from "../../statements/flow.js";
import { claimAssignments, jobColumns, pickDue, pickLimited, recordsStarts } from "../claim.js";
import type { ClaimParams, DialectStatements, SqlHooks } from "../dialect.js";
import { commonJobOperations, insertOperations } from "../job-operations.js";
import { returningOperations } from "../returning.js";
import { execSql, ident, sql } from "../sql.js";
import { onConflictForm } from "../unique.js";

/** Lock times are UTC text with milliseconds, which compares correctly as text. */
const LOCK_NOW = "strftime('%Y-%m-%d %H:%M:%f', 'now')";

/** SQLite's runtime statements: the one-statement claim and lock times as text. */
export function sqliteStatements(hooks: SqlHooks): DialectStatements {
  /**
   * Claim, SQLite form: one UPDATE … RETURNING. SQLite runs one writer at a
   * time, so the subquery's pick and the update are atomic without row locks,
   * and a limited pick's counts of running rows cannot change under it.
   */
  const claimJobs = (p: ClaimParams) =>
    sql`UPDATE ${ident(p.table)} SET ${claimAssignments(hooks, p, ident("job_status"), ident("attempts"))}
  WHERE ${ident("id")} IN (SELECT ${ident("id")} FROM (${p.limits ? pickLimited(hooks, p, p.limits, "") : pickDue(hooks, p)}))
  RETURNING ${jobColumns()}`;

  const returning = returningOperations(hooks, claimJobs);
  return {
    claimJobs,
    ...commonJobOperations(hooks),
    ...returning,
    /**
     * A rate-limited type's claim and the record of its starts, in one transaction
     * (SQLite's writer lock held throughout); other claims are one statement.
     */
    async claim(db, p) {
      if (!recordsStarts(p.limits)) return returning.claim(db, p);
      if (!db.transaction)
        throw new UnsupportedError(
          "rateLimit and groupRateLimit on SQLite need DB.transaction, which this adapter does not offer; use the connection itself rather than a DB bound to a transaction.",
        );
      return db.transaction(async (tx) => {
        const rows = await returning.claim(tx, p);
        if (rows.length > 0)
          await execSql(tx, hooks, logStarts(hooks, p.flow, p.table, p.jobType, p.token));
        return rows;
      });
    },
    ...insertOperations(hooks, true, onConflictForm),
    utcStatement: (verb) => verb, // lock times are absolute instants here
    lockNow: LOCK_NOW,
    lockNowPlusMs: (ms) => sql`strftime('%Y-%m-%d %H:%M:%f', 'now', ${`+${ms / 1000} seconds`})`,
    lockTimePlusMs: (column, ms) =>
      sql`strftime('%Y-%m-%d %H:%M:%f', ${ident(column)}, ${`+${ms / 1000} seconds`})`,
  };
}
