import { migrate } from "@persistent-queue/core";
import {
  createDatabase,
  createSqliteFile,
  describeQueueTables,
  generationExpressions,
  type Target,
  type TargetKind,
} from "@persistent-queue/testkit";
import { describe, expect, inject, it } from "vitest";
import { openSequelize } from "../test/open.mjs";
import { defineQueueModels, fromSequelize, queueMigration } from "./index.js";

/** A fresh database of `kind`, opened with Sequelize; `drop()` closes and removes it. */
async function fresh(kind: TargetKind, dialect: "mysql" | "mariadb" = "mariadb") {
  let target: Target;
  let cleanup: () => Promise<void>;
  if (kind === "sqlite") {
    const file = await createSqliteFile();
    target = { kind, path: file.path };
    cleanup = file.cleanup;
  } else {
    const database = await createDatabase({
      kind,
      url: kind === "mariadb" ? inject("pqMysqlUrl") : inject("pqPgUrl"),
    });
    target = { kind, url: database.url };
    cleanup = database.drop;
  }
  const sequelize = openSequelize(target, dialect);
  return {
    sequelize,
    db: fromSequelize(sequelize),
    drop: async () => {
      await sequelize.close();
      await cleanup();
    },
  };
}

/**
 * What Sequelize cannot write exactly like core's DDL, per database, as
 * describeQueueTables() prints it. Everything else must be identical.
 */
const KNOWN: Record<TargetKind, (schema: string) => string> = {
  // No attribute option for ON UPDATE CURRENT_TIMESTAMP; every lock write sets lock_until itself.
  // No INVISIBLE: core's migrate() after the migration hides the added columns (below).
  mariadb: (s) => s.replace(" on update current_timestamp()", ""),
  postgres: (s) => s,
  // Sequelize quotes the index DDL with backticks, core with double quotes: same index.
  sqlite: (s) => s.replace(/[`"]/g, ""),
};

/** MariaDB before migrate(): the columns the queue added are visible (no INVISIBLE in Sequelize). */
const visible = (s: string) => s.replace(/,? invisible$/gm, "");

for (const kind of ["mariadb", "postgres", "sqlite"] as const) {
  describe(`sequelize schema on ${kind}`, () => {
    it("the migration's up(), then migrate(), creates what core's migrate() creates (schema version 7: columns, types, nullability, defaults, indexes, all seven tables)", async () => {
      const ours = await fresh(kind);
      const core = await fresh(kind);
      try {
        await queueMigration.up(ours.sequelize.getQueryInterface());
        await migrate(core.db);
        const expected = await describeQueueTables(core.db);
        const actual = await describeQueueTables(ours.db);
        for (const index of ["claim_idx", "due_idx", "unique_idx"])
          expect(actual).toContain(`async_job_tab_${index}`);
        expect(actual).toContain("table pq_schedules");
        expect(actual).toContain("table pq_job_types");
        expect(actual).toContain("table pq_job_groups");
        expect(actual).toContain("table pq_job_stats");
        for (const index of ["type_idx", "group_idx"])
          expect(actual).toContain(`pq_job_starts_${index}`);
        expect(actual).toMatch(/^ {2}group_key /m);
        expect(actual).toMatch(/^ {2}trace_context /m);
        // Sequelize cannot write INVISIBLE: until migrate() runs, the added columns are
        // visible on MariaDB (the README says to run it). Compared with only that flag dropped.
        expect(KNOWN[kind](actual)).toBe(
          KNOWN[kind](kind === "mariadb" ? visible(expected) : expected),
        );
        if (kind === "mariadb") {
          expect(actual).not.toMatch(/invisible/);
          // describeSchema() prints no expression: the generated columns' are compared here.
          const expressions = await generationExpressions(core.db);
          expect(expressions.map((r) => r.name)).toEqual(["due_ms", "unique_live"]);
          expect(await generationExpressions(ours.db)).toEqual(expressions);
          // The one line Sequelize cannot write: only ON UPDATE differs.
          const diff = (s: string) => s.split("\n").filter((l) => l.includes("lock_until"));
          expect(diff(expected)).toEqual([
            "  lock_until timestamp not null default current_timestamp() on update current_timestamp()",
          ]);
          expect(diff(actual)).toEqual([
            "  lock_until timestamp not null default current_timestamp()",
          ]);
        }
        if (kind === "sqlite") {
          // describeSchema() does not show AUTOINCREMENT: the job table has it, as core's; the
          // job-starts table's id is a plain rowid, as core's.
          const autoincrement = async (db: typeof ours.db) =>
            (
              await db.query(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE '%AUTOINCREMENT%' AND name <> 'sqlite_sequence' ORDER BY name",
              )
            ).map((r) => r.name);
          expect(await autoincrement(core.db)).toEqual(["async_job_tab"]);
          expect(await autoincrement(ours.db)).toEqual(["async_job_tab"]);
        }
        // core's migrate() accepts the tables the migration made and, on MariaDB, hides the
        // added columns: then they are core's tables but for ON UPDATE.
        const result = await migrate(ours.db);
        expect(result).toMatchObject({ version: 7, warnings: [] });
        expect(KNOWN[kind](await describeQueueTables(ours.db))).toBe(KNOWN[kind](expected));
        await queueMigration.down(ours.sequelize.getQueryInterface());
        expect(await describeQueueTables(ours.db)).toBe(
          "table async_job_tab\ntable shedlock_tab\ntable pq_schedules\ntable pq_job_types\ntable pq_job_groups\ntable pq_job_starts\ntable pq_job_stats\n",
        );
      } finally {
        await ours.drop();
        await core.drop();
      }
    });

    it("the models' sync() creates the same tables as the migration", async () => {
      const synced = await fresh(kind);
      const migrated = await fresh(kind);
      try {
        const { Job, ShedLock, Schedule, JobType, JobGroup, JobStart, JobStat } = defineQueueModels(
          synced.sequelize,
        );
        await synced.sequelize.sync();
        await queueMigration.up(migrated.sequelize.getQueryInterface());
        expect(await describeQueueTables(synced.db)).toBe(await describeQueueTables(migrated.db));
        // The models read what the queue writes.
        await synced.db.exec(
          kind === "postgres"
            ? "INSERT INTO async_job_tab (params, job_type, create_time, update_time) VALUES ($1, $2, 1, 1)"
            : "INSERT INTO async_job_tab (params, job_type, create_time, update_time) VALUES (?, ?, 1, 1)",
          ['{"orderId":1}', 7],
        );
        const job = await Job.findOne({ where: { job_type: 7 }, raw: true });
        expect(job).toMatchObject({
          params: '{"orderId":1}',
          job_status: 0,
          attempts: 0,
          priority: 0,
          unique_key: null,
          result: null,
          group_key: null,
          trace_context: null,
        });
        expect(await ShedLock.count()).toBe(0);
        expect(await Schedule.count()).toBe(0);
        expect(await JobType.count()).toBe(0);
        expect(await JobGroup.count()).toBe(0);
        expect(await JobStart.count()).toBe(0);
        expect(await JobStat.count()).toBe(0);
      } finally {
        await synced.drop();
        await migrated.drop();
      }
    });

    if (kind === "mariadb")
      it("group_key has core's collation in the job, job-groups and job-starts tables whatever the database's default (the claim compares them)", async () => {
        const synced = await fresh(kind);
        const migrated = await fresh(kind);
        try {
          const collations = async (db: typeof synced.db) => {
            await db.exec("ALTER DATABASE CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci");
            return db.query(
              "SELECT table_name AS t, collation_name AS collation FROM information_schema.columns WHERE table_schema = DATABASE() AND column_name = 'group_key' ORDER BY table_name",
            );
          };
          const before = await collations(synced.db);
          await collations(migrated.db);
          defineQueueModels(synced.sequelize);
          await synced.sequelize.sync();
          await queueMigration.up(migrated.sequelize.getQueryInterface());
          const expected = ["async_job_tab", "pq_job_groups", "pq_job_starts"].map((t) => ({
            t,
            collation: "utf8mb4_unicode_ci",
          }));
          expect(before).toEqual([]);
          expect(await collations(synced.db)).toEqual(expected);
          expect(await collations(migrated.db)).toEqual(expected);
          // The database's default did change: the job-types and job-stats tables (charset only) took it.
          const charsetOnly = await synced.db.query(
            "SELECT table_name AS t, collation_name AS collation FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name IN ('pq_job_types', 'pq_job_stats') AND column_name = 'scope' ORDER BY table_name",
          );
          expect(charsetOnly).toEqual([
            { t: "pq_job_stats", collation: "utf8mb4_general_ci" },
            { t: "pq_job_types", collation: "utf8mb4_general_ci" },
          ]);
        } finally {
          await synced.drop();
          await migrated.drop();
        }
      });
  });
}
