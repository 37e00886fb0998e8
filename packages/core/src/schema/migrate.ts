import type { DB } from "../db.js";
import type { Dialect, TableNames } from "../dialects/dialect.js";
import { resolveDialect } from "../dialects/index.js";
import { execSql, ident, querySql, raw, type SqlFragment, sql } from "../dialects/sql.js";
import { MigrationError } from "../errors.js";
import type { Logger } from "../logger.js";
import { hideAddedColumns, MIGRATIONS, type MigrationStep } from "./migrations.js";
import { resolveTableNames } from "./tables.js";

/** Options of {@link migrate}. */
export interface MigrateOptions {
  /** Table names; defaults are the seed's (`async_job_tab`, `shedlock_tab`) and `pq_migrations`. */
  readonly tables?: Partial<TableNames>;
  /** Stop after this version (for staged rollouts and upgrade tests). Default: the newest. */
  readonly targetVersion?: number;
  /** Where warnings go (see {@link MigrateResult.warnings}); `PersistentQueue.migrate()` passes the queue's. */
  readonly logger?: Pick<Logger, "warn">;
}

/** What {@link migrate} did. */
export interface MigrateResult {
  /** Versions this call applied (empty when the schema was already current). */
  readonly applied: number[];
  /** The schema version now in place. */
  readonly version: number;
  /**
   * What the schema cannot do on this server, e.g. a MySQL too old for INVISIBLE
   * columns: Go services reading the job table will fail. Also sent to `logger.warn`.
   */
  readonly warnings: string[];
}

/**
 * Creates or upgrades the queue's tables. Idempotent and safe to run from many
 * processes at once: every step checks the catalog first and, when it loses a
 * race to a concurrent run ("already exists"), checks again and moves on.
 * A table created by the Go library's DDL is upgraded in place; no row is
 * touched.
 */
export async function migrate(db: DB, options: MigrateOptions = {}): Promise<MigrateResult> {
  const tables = resolveTableNames(options.tables);
  const dialect = await resolveDialect(db);
  const scope = tables.jobs;

  await applyStep(db, dialect, {
    kind: "createTable",
    table: tables.migrations,
    ddl: dialect.ddl.createMigrationsTable(tables.migrations),
  });
  const done = new Set(
    (
      await querySql<{ version: unknown }>(
        db,
        dialect,
        sql`SELECT ${ident("version")} AS version FROM ${ident(tables.migrations)} WHERE ${ident("scope")} = ${scope}`,
      )
    ).map((r) => Number(r.version)),
  );

  const applied: number[] = [];
  for (const migration of MIGRATIONS) {
    if (done.has(migration.version)) continue;
    if (options.targetVersion !== undefined && migration.version > options.targetVersion) break;
    for (const step of migration.steps(dialect, tables)) {
      await applyStep(db, dialect, step).catch((err: unknown) => {
        throw new MigrationError(
          `migration ${migration.version} (${migration.name}) failed on ${describeStep(step)}: ${messageOf(err)}`,
          { cause: err },
        );
      });
    }
    await execSql(
      db,
      dialect,
      sql`INSERT INTO ${ident(tables.migrations)} (${ident("scope")}, ${ident("version")}, ${ident("name")}, ${ident("applied_at")})
  VALUES (${scope}, ${migration.version}, ${migration.name}, ${raw(dialect.nowMs)})`,
    ).catch((err: unknown) => {
      if (!dialect.isAlreadyExists(err)) throw err; // a concurrent run recorded it first
    });
    applied.push(migration.version);
  }
  const version = Math.max(0, ...done, ...applied);
  const warnings = await goReaderCheck(db, dialect, tables, version);
  for (const w of warnings) options.logger?.warn(w);
  return { applied, version, warnings };
}

/**
 * From version 3 on, the added columns must be invisible to the Go library's
 * SELECT *. Version 3 may have been recorded on a server too old for INVISIBLE
 * (or a tool may have made a column visible again), so its steps are re-checked
 * on every run where the server has INVISIBLE: one catalog query per column, and
 * DDL only for a column still visible. Where the server cannot, a warning.
 */
async function goReaderCheck(
  db: DB,
  dialect: Dialect,
  tables: TableNames,
  version: number,
): Promise<string[]> {
  if (!dialect.ddl.hideColumn || version < 3) return []; // only the MySQL family can hide them
  if (dialect.capabilities.invisibleColumns) {
    for (const step of hideAddedColumns(dialect, tables, version)) {
      await applyStep(db, dialect, step).catch((err: unknown) => {
        throw new MigrationError(`${describeStep(step)} failed: ${messageOf(err)}`, { cause: err });
      });
    }
    return [];
  }
  return [
    `${dialect.name} server too old for INVISIBLE columns (MariaDB 10.3.3+, MySQL 8.0.23+): the columns persistent-queue added to ${tables.jobs} stay visible, and a Go service using the Go persistent-queue library on this table will fail every load (its SELECT * scans exactly 7 columns). Upgrade the server and run migrate() again.`,
  ];
}

async function applyStep(db: DB, dialect: Dialect, step: MigrationStep): Promise<void> {
  if (step.kind === "statement") {
    await execSql(db, dialect, step.ddl);
    return;
  }
  if (await stepDone(db, dialect, step)) return;
  try {
    await execSql(db, dialect, step.ddl);
  } catch (err) {
    // Lost a race with a concurrent migrate(): fine if the object is there now.
    if (dialect.isAlreadyExists(err) && (await stepDone(db, dialect, step))) return;
    throw err;
  }
}

async function stepDone(
  db: DB,
  dialect: Dialect,
  step: Exclude<MigrationStep, { kind: "statement" }>,
) {
  const has = async (fragment: SqlFragment, name: string) =>
    (await querySql<{ name: unknown }>(db, dialect, fragment)).some(
      (r) => String(r.name).toLowerCase() === name.toLowerCase(),
    );
  switch (step.kind) {
    case "createTable":
      return has(dialect.introspection.findTable(step.table), step.table);
    case "addColumn":
      return has(dialect.introspection.listColumns(step.table), step.column);
    case "hideColumn":
      return dialect.introspection.listInvisibleColumns
        ? has(dialect.introspection.listInvisibleColumns(step.table), step.column)
        : false;
    case "createIndex":
      return has(dialect.introspection.listIndexes(step.table), step.index);
  }
}

function describeStep(step: MigrationStep): string {
  switch (step.kind) {
    case "createTable":
      return `CREATE TABLE ${step.table}`;
    case "addColumn":
      return `ADD COLUMN ${step.table}.${step.column}`;
    case "createIndex":
      return `CREATE INDEX ${step.index}`;
    case "hideColumn":
      return `INVISIBLE ${step.table}.${step.column}`;
    case "statement":
      return "a schema statement";
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
