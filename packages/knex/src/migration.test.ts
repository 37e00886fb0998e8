// The Knex migration, run by Knex's own migrator on a fresh database, gives
// the schema core's migrate() gives.
import { migrate, type TableNames } from "@persistent-queue/core";
import {
  createDatabase,
  createSqliteFile,
  describeQueueTables,
  generationExpressions,
  type Target,
  type TargetKind,
} from "@persistent-queue/testkit";
import { describe, expect, inject, it } from "vitest";
import { openKnex } from "../test/open.mjs";
import { createQueueMigration, fromKnex, queueMigration } from "./index.js";

/** A fresh database of `kind`, opened with Knex; `drop()` closes and removes it. */
async function fresh(kind: TargetKind) {
  let target: Target;
  let cleanup: () => Promise<void>;
  if (kind === "sqlite") {
    const file = await createSqliteFile();
    target = { kind, path: file.path };
    cleanup = file.cleanup;
  } else {
    const url = kind === "mariadb" ? inject("pqMysqlUrl") : inject("pqPgUrl");
    const database = await createDatabase({ kind, url });
    target = { kind, url: database.url };
    cleanup = database.drop;
  }
  const knex = openKnex(target);
  return {
    knex,
    db: fromKnex(knex),
    drop: async () => {
      await knex.destroy();
      await cleanup();
    },
  };
}

/**
 * What SQLite keeps of an index is its DDL text: Knex writes the plain indexes
 * in lower case with backticks, core in upper case with double quotes. The same index.
 */
const KNOWN: Record<TargetKind, (schema: string) => string> = {
  mariadb: (s) => s,
  postgres: (s) => s,
  sqlite: (s) =>
    s.replace(/^( {2}create (unique )?index .*)$/gim, (line) =>
      line.replace(/[`"]/g, "").toLowerCase(),
    ),
};

const CUSTOM: Partial<TableNames> = {
  jobs: "shop_jobs",
  locks: "shop_locks",
  schedules: "shop_schedules",
  jobTypes: "shop_job_types",
  jobGroups: "shop_job_groups",
  jobStarts: "shop_job_starts",
  jobStats: "shop_job_stats",
  migrations: "shop_migrations",
};

for (const kind of ["mariadb", "postgres", "sqlite"] as const) {
  describe(`knex migration on ${kind}`, () => {
    for (const tables of [undefined, CUSTOM]) {
      const names = tables ? " (custom table names)" : "";
      it(`knex.migrate.latest() with the migration creates what core's migrate() creates (schema version 7, seven tables)${names}`, async () => {
        const ours = await fresh(kind);
        const core = await fresh(kind);
        const jobs = tables?.jobs ?? "async_job_tab";
        const migration = tables ? createQueueMigration(tables) : queueMigration;
        try {
          // Knex's migrator, with the migration as a source, as a knexfile would give it.
          const migrationSource = {
            getMigrations: async () => ["20260101000000_persistent_queue"],
            getMigrationName: (name: string) => name,
            getMigration: async () => migration,
          };
          await ours.knex.migrate.latest({ migrationSource });
          await migrate(core.db, tables ? { tables } : {});
          const expected = await describeQueueTables(core.db, tables);
          const actual = await describeQueueTables(ours.db, tables);
          for (const index of ["claim_idx", "due_idx", "unique_idx"])
            expect(actual).toContain(`${jobs}_${index}`);
          expect(actual).toMatch(/^ {2}trace_context /m);
          expect(KNOWN[kind](actual)).toBe(KNOWN[kind](expected));
          if (kind === "mariadb") {
            // The Go library's contract: the same 7 visible columns, the rest invisible.
            expect(actual).toMatch(/^ {2}due_ms .*invisible$/m);
            const expressions = await generationExpressions(core.db, jobs);
            expect(expressions.map((r) => r.name)).toEqual(["due_ms", "unique_live"]);
            expect(await generationExpressions(ours.db, jobs)).toEqual(expressions);
          }
          if (kind === "sqlite") {
            const autoincrement = async (db: typeof ours.db) =>
              (
                await db.query(
                  "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE '%AUTOINCREMENT%' AND name <> 'sqlite_sequence' AND name NOT LIKE 'knex%' ORDER BY name",
                )
              ).map((r) => r.name);
            expect(await autoincrement(core.db)).toEqual([jobs]);
            expect(await autoincrement(ours.db)).toEqual([jobs]);
          }
          // migrate() after it changes nothing and records the versions the queue checks.
          const result = await migrate(ours.db, tables ? { tables } : {});
          expect(result).toMatchObject({ version: 7, warnings: [] });
          expect(KNOWN[kind](await describeQueueTables(ours.db, tables))).toBe(
            KNOWN[kind](expected),
          );
          // down() drops the tables and forgets their versions: migrate() makes them again.
          await ours.knex.migrate.rollback({ migrationSource }, true);
          expect(await describeQueueTables(ours.db, tables)).not.toMatch(/^ {2}/m);
          expect(await migrate(ours.db, tables ? { tables } : {})).toMatchObject({
            applied: [1, 2, 3, 4, 5, 6, 7],
          });
          expect(KNOWN[kind](await describeQueueTables(ours.db, tables))).toBe(
            KNOWN[kind](expected),
          );
        } finally {
          await ours.drop();
          await core.drop();
        }
      });
    }
  });
}
