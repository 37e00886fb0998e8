import { recursivePriorityLevels } from "../claim.js";
import type { Dialect, SqlHooks } from "../dialect.js";
import { errorMatches } from "../errors.js";
import { sql } from "../sql.js";
import { sqliteDdl } from "./ddl.js";
import { sqliteIntrospection } from "./introspection.js";
import { sqliteStatements } from "./statements.js";

/**
 * SQLite 3.35+. One writer at a time: a claim is one UPDATE … RETURNING,
 * serialised by the database itself, so no row locks are needed.
 */
export function sqliteDialect(): Dialect {
  const hooks: SqlHooks = {
    placeholder: () => "?",
    quoteIdent: (name) => `"${name}"`,
    // julianday works on every SQLite version (unixepoch('subsec') needs 3.42); 'now' is fixed per statement.
    nowMs: "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)",
    nowSec: "CAST(strftime('%s', 'now') AS INTEGER)",
    lockRowsClause: "",
    forceIndex: () => "",
    greatest: "max",
    dueMs: 'max(COALESCE("start_time", 0) * 1000, "run_at")',
    priorityLevels: recursivePriorityLevels,
    // better-sqlite3 binds JS numbers as REAL, so `/` alone could divide as floats.
    intDiv: (a, b) => sql`CAST((${a}) / (${b}) AS INTEGER)`,
    int: (value) => sql`${value}`,
    isAlreadyExists: (err) =>
      errorMatches(
        err,
        ["SQLITE_CONSTRAINT_PRIMARYKEY", "SQLITE_CONSTRAINT_UNIQUE"],
        /already exists|duplicate column name|UNIQUE constraint failed/i,
      ),
  };
  return {
    name: "sqlite",
    family: "sqlite",
    capabilities: {
      skipLocked: false,
      claimLocking: "single-writer",
      updateReturning: true,
      listenNotify: false,
      transactionalDdl: true,
      invisibleColumns: false,
    },
    ...hooks,
    statements: sqliteStatements(hooks),
    ddl: sqliteDdl,
    introspection: sqliteIntrospection,
  };
}
