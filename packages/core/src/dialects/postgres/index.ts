import { recursivePriorityLevels } from "../claim.js";
import type { Dialect, DialectOptions, SqlHooks } from "../dialect.js";
import { errorMatches } from "../errors.js";
import { ident, sql } from "../sql.js";
import { postgresDdl } from "./ddl.js";
import { postgresIntrospection } from "./introspection.js";
import { postgresStatements } from "./statements.js";

/**
 * PostgreSQL 12+. Tables live in the connection's `current_schema()`.
 *
 * The dialect does not ask the server what it is (no round trip, and enqueueSync
 * needs none), so it claims with SKIP LOCKED unless told otherwise: on engines that
 * speak PostgreSQL's protocol but do not lock there as PostgreSQL does (CockroachDB,
 * YugabyteDB), pass `{ claimLocking: "optimistic" }` (see {@link DialectOptions};
 * `claimLockingFor` tells them apart by their `version()`).
 */
export function postgresDialect(options: DialectOptions = {}): Dialect {
  const claimLocking = options.claimLocking ?? "skip-locked";
  const hooks: SqlHooks = {
    placeholder: (n) => `$${n}`,
    quoteIdent: (name) => `"${name}"`,
    // now() is the transaction's start: one instant for the whole statement.
    nowMs: "(floor(extract(epoch from now()) * 1000))::bigint",
    nowSec: "(floor(extract(epoch from now())))::bigint",
    lockRowsClause: "FOR UPDATE SKIP LOCKED",
    forceIndex: () => "",
    greatest: "GREATEST",
    dueMs: 'GREATEST(COALESCE("start_time", 0) * 1000, "run_at")',
    priorityLevels: recursivePriorityLevels,
    intDiv: (a, b) => sql`(${a} / ${b})`,
    int: (value) => sql`CAST(${value} AS bigint)`,
    likeIgnoringCase: (column, pattern) => sql`${ident(column)} ILIKE ${pattern} ESCAPE '!'`,
    // 42P07 duplicate table/index, 42701 duplicate column, 42710 duplicate object,
    // 23505 unique violation (also raised by racing CREATE TABLE IF NOT EXISTS on pg_type).
    isAlreadyExists: (err) =>
      errorMatches(err, ["42P07", "42701", "42710", "23505"], /already exists/i),
  };
  return {
    name: "postgres",
    family: "postgres",
    capabilities: {
      skipLocked: true,
      claimLocking,
      updateReturning: true,
      listenNotify: true,
      transactionalDdl: true,
      invisibleColumns: false,
    },
    ...hooks,
    statements: postgresStatements(hooks, claimLocking),
    ddl: postgresDdl,
    introspection: postgresIntrospection,
  };
}
