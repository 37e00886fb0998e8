import type { DB, DialectFamily } from "../db.js";
import { UnsupportedError } from "../errors.js";
import type { ClaimLocking, Dialect } from "./dialect.js";
import { detectingMysqlDialect } from "./mysql/index.js";
import { postgresDialect } from "./postgres/index.js";
import { sqliteDialect } from "./sqlite/index.js";

export { claimLockingFor } from "./claim-locking.js";
export type {
  ClaimLocking,
  Dialect,
  DialectCapabilities,
  DialectDdl,
  DialectIntrospection,
  DialectName,
  DialectOptions,
  DialectStatements,
  OnConflict,
  SqlHooks,
  TableNames,
  UniqueInsertForm,
} from "./dialect.js";
export { mariadbDialect, mysqlDialect } from "./mysql/index.js";
export { postgresDialect } from "./postgres/index.js";
export { execSql, querySql } from "./sql.js";
export { sqliteDialect } from "./sqlite/index.js";

/** The dialect each family name in `DB.dialect` stands for. */
const BUILT_IN: Readonly<Record<DialectFamily, () => Dialect>> = {
  mysql: detectingMysqlDialect,
  postgres: postgresDialect,
  sqlite: sqliteDialect,
};

const resolved = new WeakMap<DB, Promise<Dialect>>();

/**
 * The dialect of a connection: the object `DB.dialect` carries, or the
 * built-in one its family name stands for. A dialect that must ask the server
 * (MySQL: MariaDB or not, which version) is resolved once per DB with its
 * `detect`.
 */
export function resolveDialect(db: DB): Promise<Dialect> {
  let dialect = resolved.get(db);
  if (dialect === undefined) {
    dialect = (async () => {
      const given = dialectOf(db);
      return given.detect ? given.detect(db) : given;
    })();
    resolved.set(db, dialect);
    dialect.catch(() => resolved.delete(db)); // a failed probe (server down) is retried next time
  }
  return dialect;
}

/**
 * The dialect without a round trip, where none is needed (no `detect`:
 * SQLite, PostgreSQL, a dialect object); undefined for a MySQL connection.
 */
export function resolveDialectSync(db: DB): Dialect | undefined {
  let given: Dialect;
  try {
    given = dialectOf(db);
  } catch {
    return undefined; // the caller says what it needed
  }
  return given.detect ? undefined : given;
}

function dialectOf(db: DB): Dialect {
  const d: unknown = (db as { dialect?: unknown }).dialect;
  if (typeof d === "string" && Object.hasOwn(BUILT_IN, d)) return BUILT_IN[d as DialectFamily]();
  if (d !== null && typeof d === "object" && "statements" in d) return d as Dialect;
  throw new UnsupportedError(
    `DB.dialect must be "mysql", "postgres", "sqlite" or a dialect object (got ${JSON.stringify(d)}); ` +
      "use one of the @persistent-queue adapters or set it on your own DB object.",
  );
}

/**
 * `db` with its claims forced to `claimLocking` (see {@link ClaimLocking}): the same
 * connection, its dialect built with that option. For engines that speak a built-in
 * dialect without saying what they are (YugabyteDB and CockroachDB answer as PostgreSQL,
 * whose dialect does not ask), or to claim optimistically anywhere:
 * `new Queue(withClaimLocking(fromPg(pool), "optimistic"), …)`. Every queue on the
 * table should then use it (mixing modes stays correct, see docs/scaling.md).
 *
 * For a DB whose `dialect` is a family name ("postgres", "mysql"); a dialect object
 * is built with the option itself (`postgresDialect({ claimLocking })`). The DB's
 * members are copied: they must be own properties, as every adapter's are.
 */
export function withClaimLocking(db: DB, claimLocking: Exclude<ClaimLocking, "single-writer">): DB {
  const family: unknown = (db as { dialect?: unknown }).dialect;
  const options = { claimLocking };
  let dialect: Dialect;
  if (family === "postgres") dialect = postgresDialect(options);
  else if (family === "mysql") dialect = detectingMysqlDialect(options);
  else
    throw new UnsupportedError(
      `withClaimLocking: DB.dialect must be "postgres" or "mysql" (got ${typeof family === "string" ? JSON.stringify(family) : "a dialect object"}); ` +
        "SQLite has one writer and needs no claim locking; build a dialect object with the option instead (postgresDialect({ claimLocking })).",
    );
  return { ...db, dialect };
}
