// The queue's tables made TypeORM's ways (its migration runner, its schema sync) against core's migrate().
import { migrate } from "@persistent-queue/core";
import {
  describeQueueTables,
  generationExpressions,
  type TargetKind,
} from "@persistent-queue/testkit";
import { DataSource, type DataSourceOptions, EntitySchema } from "typeorm";
import { describe, expect, it } from "vitest";
import { freshTarget, KINDS } from "../test/fresh.js";
import { dataSourceOptions } from "../test/open.mjs";
import {
  createQueueEntitySchemas,
  fromTypeORM,
  PersistentQueueSchema1764000000000,
} from "./index.js";

const TYPE = { mariadb: "mariadb", postgres: "postgres", sqlite: "better-sqlite3" } as const;

/** Runs `fn` on a DataSource over a fresh database, with the queue's entities and migration registered. */
async function withDataSource<T>(kind: TargetKind, fn: (ds: DataSource) => Promise<T>): Promise<T> {
  const { target, drop } = await freshTarget(kind);
  const { AsyncJob, ShedLock, Schedule, JobType, JobGroup, JobStart, JobStat } =
    createQueueEntitySchemas(EntitySchema, TYPE[kind]);
  const ds = new DataSource({
    ...dataSourceOptions(target),
    entities: [AsyncJob, ShedLock, Schedule, JobType, JobGroup, JobStart, JobStat],
    migrations: [PersistentQueueSchema1764000000000],
  } as DataSourceOptions);
  await ds.initialize();
  try {
    return await fn(ds);
  } finally {
    await ds.destroy();
    await drop();
  }
}

/**
 * PostgreSQL: TypeORM 1.1 lowercases an entity's `DEFAULT NULL` before comparing it with the
 * catalog's `NULL` (PostgresDriver.defaultEqual), so it takes every nullable varchar column
 * for changed. That writes no SQL for the column itself, but TypeORM drops and re-creates the
 * composite indexes on a "changed" column: `migration:generate` and `synchronize()` re-create
 * the unique-key index and the job-starts table's group index (on the nullable group_key),
 * identical, every time (the README says to delete those four lines).
 */
const PG_UNIQUE_INDEX_CHURN = [
  'DROP INDEX "public"."async_job_tab_unique_idx"',
  'DROP INDEX "public"."pq_job_starts_group_idx"',
  'CREATE UNIQUE INDEX "async_job_tab_unique_idx" ON "async_job_tab"  ("job_type", "unique_key") WHERE ((unique_key IS NOT NULL) AND (job_status = ANY (ARRAY[0, 3, 4, 5])))',
  'CREATE INDEX "pq_job_starts_group_idx" ON "pq_job_starts"  ("scope", "job_type", "group_key", "started_ms") ',
];

for (const kind of KINDS) {
  describe(`TypeORM schema on ${kind}`, () => {
    it("the migration class, run by TypeORM's migration runner, creates exactly core's schema; the entities agree with it", async () => {
      const expected = await withDataSource(kind, async (ds) => {
        await migrate(fromTypeORM(ds));
        return describeQueueTables(fromTypeORM(ds));
      });
      await withDataSource(kind, async (ds) => {
        const ran = await ds.runMigrations();
        expect(ran.map((m) => m.name)).toEqual(["PersistentQueueSchema1764000000000"]);
        expect(expected).toContain("table pq_job_types");
        expect(expected).toContain("table pq_job_groups");
        expect(expected).toContain("table pq_job_stats");
        for (const index of ["type_idx", "group_idx"])
          expect(expected).toContain(`pq_job_starts_${index}`);
        expect(expected).toMatch(/^ {2}group_key /m);
        expect(expected).toMatch(/^ {2}trace_context /m);
        expect(await describeQueueTables(fromTypeORM(ds))).toBe(expected);
        // What `typeorm migration:generate` would emit for the entities after the migration ran.
        const pending = (await ds.driver.createSchemaBuilder().log()).upQueries.map((q) => q.query);
        if (kind === "sqlite") {
          // TypeORM always declares an SQLite primary key NOT NULL (core's DDL leaves it implicit) and
          // proposes rebuilding the job and job-starts tables for that alone; nothing else differs.
          expect(pending.filter((q) => /^CREATE TABLE/.test(q)).length).toBeGreaterThan(0);
          for (const q of pending) expect(q).toMatch(/async_job_tab|pq_job_starts/);
          expect(
            pending.some((q) => q.includes('"id" integer PRIMARY KEY AUTOINCREMENT NOT NULL')),
          ).toBe(true);
          // The job-starts id stays a plain rowid, as core's (no AUTOINCREMENT): the rebuild
          // TypeORM proposes (its last CREATE TABLE) adds NOT NULL only.
          const startsTables = pending.filter((q) =>
            q.startsWith('CREATE TABLE "temporary_pq_job_starts"'),
          );
          expect(startsTables.at(-1)).toContain('("id" integer PRIMARY KEY NOT NULL, ');
          for (const q of startsTables) expect(q).not.toContain("AUTOINCREMENT");
        } else {
          expect(pending).toEqual(kind === "postgres" ? PG_UNIQUE_INDEX_CHURN : []);
        }
        // MariaDB: up() recorded the generated columns as TypeORM records its own; down() forgets them.
        const recorded = () =>
          fromTypeORM(ds).query(
            "SELECT name, value FROM typeorm_metadata WHERE type = 'GENERATED_COLUMN' AND `table` = 'async_job_tab' ORDER BY name",
          );
        if (kind === "mariadb")
          expect((await recorded()).map((r) => r.name)).toEqual(["due_ms", "unique_live"]);
        await ds.undoLastMigration();
        if (kind === "mariadb") expect(await recorded()).toEqual([]);
        const db = fromTypeORM(ds);
        const left =
          kind === "sqlite"
            ? "SELECT name FROM sqlite_master WHERE name IN ('async_job_tab', 'shedlock_tab', 'pq_schedules', 'pq_job_types', 'pq_job_groups', 'pq_job_starts', 'pq_job_stats')"
            : `SELECT table_name FROM information_schema.tables WHERE table_name IN ('async_job_tab', 'shedlock_tab', 'pq_schedules', 'pq_job_types', 'pq_job_groups', 'pq_job_starts', 'pq_job_stats') AND table_schema = ${kind === "postgres" ? "current_schema()" : "DATABASE()"}`;
        expect(await db.query(left)).toEqual([]); // down() dropped all seven
        await ds.runMigrations(); // and up() again recreates them
        expect(await describeQueueTables(db)).toBe(expected);
      });
    });

    it("the entity schemas, synchronised by TypeORM, then migrate(), give core's schema (schema version 7)", async () => {
      const [expected, coreExpressions] = await withDataSource(kind, async (ds) => {
        await migrate(fromTypeORM(ds));
        const described = await describeQueueTables(fromTypeORM(ds));
        return [described, kind === "mariadb" ? await generationExpressions(fromTypeORM(ds)) : []];
      });
      const { synced, syncedThenMigrated, expressions, pending } = await withDataSource(
        kind,
        async (ds) => {
          await ds.synchronize();
          const db = fromTypeORM(ds);
          const synced = await describeQueueTables(db);
          const expressions = kind === "mariadb" ? await generationExpressions(db) : [];
          const result = await migrate(db); // what the README tells users to run after a sync
          expect(result.warnings).toEqual([]);
          const syncedThenMigrated = await describeQueueTables(db);
          // TypeORM wants nothing back: it leaves the due index alone, sees the same columns.
          const pending = (await ds.driver.createSchemaBuilder().log()).upQueries.map(
            (q) => q.query,
          );
          return { synced, syncedThenMigrated, expressions, pending };
        },
      );
      // What EntitySchema cannot say exactly; everything else (columns, types, nullability,
      // defaults, the claim, due and unique-key indexes, primary keys) must match line for line.
      const inexpressible: Record<TargetKind, [RegExp, string][]> = {
        // No display width in EntitySchema: MySQL picks int(10) for unsigned INT (cosmetic; MySQL 8 drops widths).
        // No INVISIBLE either: the added columns (the generated due_ms and unique_live too) come
        // out visible, which breaks the Go library's SELECT * (see the README); migrate() after
        // the sync hides them (checked below).
        mariadb: [
          [/int\(10\) unsigned/g, "int(11) unsigned"],
          [
            /^( {2}(attempts|run_at|lease_token|lease_until|worker_id|last_error|priority|unique_key|result|progress|group_key|trace_context) (?!.*invisible).*)$(?=[\s\S]*^table shedlock_tab)/gm,
            "$1 invisible",
          ],
          [/^( {2}(due_ms|unique_live) .* virtual generated)$/gm, "$1, invisible"],
        ],
        // TypeORM writes numeric defaults as typed literals: '0'::smallint is the same default as 0.
        postgres: [[/'0'::(smallint|bigint|integer)/g, "0"]],
        // TypeORM adds NOT NULL to an INTEGER PRIMARY KEY (implied by SQLite) and a trailing space to index DDL.
        sqlite: [
          [/id integer not null primary key/g, "id integer primary key"],
          [/ +\n/g, "\n"],
        ],
      };
      // EntitySchema has no expression index: on PostgreSQL and SQLite the due index is
      // declared `synchronize: false`, and migrate() after the sync creates it.
      const dueIndexLine = /^ {2}CREATE INDEX "?async_job_tab_due_idx.*\n/m;
      const beforeMigrate = kind === "mariadb" ? expected : expected.replace(dueIndexLine, "");
      if (kind !== "mariadb") expect(beforeMigrate).not.toBe(expected);
      let normalised = synced;
      for (const [from, to] of inexpressible[kind]) normalised = normalised.replace(from, to);
      expect(synced).not.toBe(beforeMigrate); // the differences above are real (drop a rule if TypeORM learns it)
      expect(normalised).toBe(beforeMigrate);
      // describeSchema() prints no expression: the generated columns' are compared here.
      if (kind === "mariadb") {
        expect(coreExpressions.map((r) => r.name)).toEqual(["due_ms", "unique_live"]);
        expect(expressions).toEqual(coreExpressions);
      }
      // migrate() after TypeORM's sync leaves only what EntitySchema cannot say and a Go reader
      // does not care about (MySQL's display width); on MariaDB it hides the added columns,
      // on PostgreSQL and SQLite it creates the due index.
      const widthOnly =
        kind === "mariadb" ? inexpressible.mariadb.slice(0, 1) : inexpressible[kind];
      let migrated = syncedThenMigrated;
      for (const [from, to] of widthOnly) migrated = migrated.replace(from, to);
      expect(migrated).toBe(expected);
      expect(pending).toEqual(kind === "postgres" ? PG_UNIQUE_INDEX_CHURN : []);
    });

    if (kind === "mariadb")
      it("group_key has core's collation in the job, job-groups and job-starts tables whatever the database's default (the claim compares them)", async () => {
        await withDataSource(kind, async (ds) => {
          await ds.query("ALTER DATABASE CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci");
          await ds.synchronize();
          const rows: Array<{ t: string; c: string; collation: string }> = await ds.query(
            "SELECT table_name AS t, column_name AS c, collation_name AS collation FROM information_schema.columns WHERE table_schema = DATABASE() AND column_name IN ('group_key', 'lease_token') ORDER BY table_name, column_name",
          );
          expect(rows).toEqual([
            { t: "async_job_tab", c: "group_key", collation: "utf8mb4_unicode_ci" },
            // A column core's collation is not declared on: the database's default applied.
            { t: "async_job_tab", c: "lease_token", collation: "utf8mb4_general_ci" },
            { t: "pq_job_groups", c: "group_key", collation: "utf8mb4_unicode_ci" },
            { t: "pq_job_starts", c: "group_key", collation: "utf8mb4_unicode_ci" },
          ]);
        });
      });
  });
}
