// The queue's tables made by MikroORM's SchemaGenerator from createQueueEntitySchemas(), against core's migrate().
import { EntitySchema, type MikroORM } from "@mikro-orm/core";
import { migrate, type TableNames } from "@persistent-queue/core";
import {
  describeQueueTables,
  generationExpressions,
  type TargetKind,
} from "@persistent-queue/testkit";
import { describe, expect, it } from "vitest";
import { freshTarget, KINDS } from "../test/fresh.js";
import { missing, openOrm } from "../test/open.mjs";
import { createQueueEntitySchemas, fromMikroORM, type QueueEntitySchemas } from "./index.js";

const FAMILY = { mariadb: "mysql", postgres: "postgres", sqlite: "sqlite" } as const;

/** Custom names for every table, as core's `tables` option takes them. */
const CUSTOM: TableNames = {
  jobs: "shop_jobs",
  locks: "shop_locks",
  schedules: "shop_schedules",
  jobTypes: "shop_job_types",
  jobGroups: "shop_job_groups",
  jobStarts: "shop_job_starts",
  jobStats: "shop_job_stats",
  migrations: "shop_migrations",
};

/** Runs `fn` on a MikroORM over a fresh database, with the queue's entity schemas registered. */
async function withOrm<T>(
  kind: TargetKind,
  tables: Partial<TableNames>,
  fn: (orm: MikroORM, schemas: QueueEntitySchemas) => Promise<T>,
  skipMigrationsTable = true,
): Promise<T> {
  const { target, drop } = await freshTarget(kind);
  const schemas = createQueueEntitySchemas(EntitySchema, FAMILY[kind], tables);
  const orm = await openOrm(target, {
    entities: Object.values(schemas),
    // core's migrations table has no entity: without this, MikroORM proposes dropping it.
    schemaGenerator: skipMigrationsTable
      ? { skipTables: [tables.migrations ?? "pq_migrations"] }
      : {},
  });
  try {
    return await fn(orm, schemas);
  } finally {
    await orm.close();
    await drop();
  }
}

/** The statements `orm.schema.update()` would run (`schema:update --dump`), without the session settings. */
async function pendingUpdate(orm: MikroORM): Promise<string[]> {
  const sql = await orm.schema.getUpdateSchemaSQL({ wrap: false });
  return sql
    .split(/;\n/)
    .map((s) => s.trim().replace(/;$/, ""))
    .filter((s) => s !== "" && !/^set names/i.test(s) && !/^pragma foreign_keys/i.test(s));
}

/**
 * What EntitySchema cannot say exactly on SQLite; everything else (columns, types, nullability,
 * defaults, the claim, due and unique-key indexes, primary keys) must match line for line, and
 * on MariaDB and PostgreSQL everything does.
 */
const SQLITE_INEXPRESSIBLE: [RegExp, string][] = [
  // MikroORM always declares an INTEGER PRIMARY KEY NOT NULL (SQLite implies it; core leaves it out).
  [/id integer not null primary key/g, "id integer primary key"],
  // MikroORM quotes index DDL with backticks and writes `on`/`where` in lower case: SQLite keeps
  // the text as written. The same index.
  [/`/g, '"'],
  [/" on "/g, '" ON "'],
  [
    /\) where unique_key IS NOT NULL AND job_status IN/g,
    ') WHERE "unique_key" IS NOT NULL AND "job_status" IN',
  ],
];

for (const kind of KINDS) {
  describe.skipIf(missing !== undefined)(`MikroORM schema on ${kind}`, () => {
    it("orm.schema.create() makes core's schema (custom table names too); migrate() then changes nothing and MikroORM proposes nothing", async () => {
      for (const tables of [{}, CUSTOM] as Partial<TableNames>[]) {
        const [expected, coreExpressions] = await withOrm(kind, tables, async (orm) => {
          const db = fromMikroORM(orm.em);
          await migrate(db, { tables });
          const described = await describeQueueTables(db, tables);
          const jobs = tables.jobs ?? "async_job_tab";
          return [described, kind === "mariadb" ? await generationExpressions(db, jobs) : []];
        });
        await withOrm(kind, tables, async (orm, { AsyncJob }) => {
          const db = fromMikroORM(orm.em);
          await orm.schema.create();
          const created = await describeQueueTables(db, tables);
          let normalised = created;
          if (kind === "sqlite") {
            for (const [from, to] of SQLITE_INEXPRESSIBLE)
              normalised = normalised.replace(from, to);
            expect(created).not.toBe(expected); // the differences are real (drop a rule if MikroORM learns it)
          }
          expect(normalised).toBe(expected);
          // describeSchema() prints no expression: MariaDB's generated columns are compared here.
          if (kind === "mariadb") {
            expect(coreExpressions.map((r) => r.name)).toEqual(["due_ms", "unique_live"]);
            expect(await generationExpressions(db, tables.jobs ?? "async_job_tab")).toEqual(
              coreExpressions,
            );
          }
          const result = await migrate(db, { tables }); // what the README tells users to run after
          expect(result.warnings).toEqual([]);
          expect(await describeQueueTables(db, tables)).toBe(created);
          expect(await pendingUpdate(orm)).toEqual([]);
          // The entities map the tables: MikroORM reads them.
          expect(await orm.em.fork().count(AsyncJob, {})).toBe(0);
        });
      }
    });

    it("after core's migrate(), MikroORM's schema update proposes nothing (SQLite: rebuilding two tables, for NOT NULL on the primary key alone)", async () => {
      const pending = await withOrm(kind, {}, async (orm) => {
        await migrate(fromMikroORM(orm.em));
        return pendingUpdate(orm);
      });
      if (kind !== "sqlite") {
        expect(pending).toEqual([]);
        return;
      }
      const rebuilt = pending.filter((s) => /^create table/.test(s));
      expect(rebuilt).toHaveLength(2);
      expect(rebuilt[0]).toMatch(
        /^create table `async_job_tab__temp_alter` \(`id` integer not null primary key autoincrement, /,
      );
      expect(rebuilt[1]).toMatch(
        /^create table `pq_job_starts__temp_alter` \(`id` integer not null primary key, /,
      );
      for (const s of pending) expect(s).toMatch(/async_job_tab|pq_job_starts/);
    });

    it("without schemaGenerator.skipTables, MikroORM proposes dropping core's migrations table (hence the README's setting)", async () => {
      const pending = await withOrm(
        kind,
        {},
        async (orm) => {
          await migrate(fromMikroORM(orm.em));
          return pendingUpdate(orm);
        },
        false,
      );
      expect(pending.filter((s) => /pq_migrations/.test(s))).toEqual([
        expect.stringMatching(/^drop table if exists [`"]pq_migrations[`"]/),
      ]);
    });
  });
}
