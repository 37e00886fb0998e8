import type { DB } from "../db.js";
import type { Dialect, TableNames } from "../dialects/dialect.js";
import { execSql, querySql, resolveDialect } from "../dialects/index.js";
import { ident, raw, type SqlFragment, sql } from "../dialects/sql.js";
import { MigrationError } from "../errors.js";
import { MIGRATIONS, type MigrationStep } from "./migrations.js";
import { resolveTableNames } from "./tables.js";

/** Options of {@link migrate}. */
export interface MigrateOptions {
  /** Table names; defaults are the seed's (`async_job_tab`, `shedlock_tab`) and `pq_migrations`. */
  readonly tables?: Partial<TableNames>;
  /** Stop after this version (for staged rollouts and upgrade tests). Default: the newest. */
  readonly targetVersion?: number;
}

/** What {@link migrate} did. */
export interface MigrateResult {
  /** Versions this call applied (empty when the schema was already current). */
  readonly applied: number[];
  /** The schema version now in place. */
  readonly version: number;
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
    ddl: dialect.createMigrationsTable(tables.migrations),
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
  return { applied, version };
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
      return has(dialect.findTable(step.table), step.table);
    case "addColumn":
      return has(dialect.listColumns(step.table), step.column);
    case "createIndex":
      return has(dialect.listIndexes(step.table), step.index);
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
    case "statement":
      return "a schema statement";
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
