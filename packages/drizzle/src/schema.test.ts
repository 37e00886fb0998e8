// The Drizzle table definitions, turned into DDL by drizzle-kit and run
// through Drizzle on a fresh database, give the schema core's migrate() gives.
import { migrate } from "@persistent-queue/core";
import {
  describeQueueTables,
  generationExpressions,
  type TargetKind,
} from "@persistent-queue/testkit";
import * as kit from "drizzle-kit/api";
import { sql } from "drizzle-orm";
import type { BetterSQLite3Database } from "drizzle-orm/better-sqlite3";
import type { MySql2Database } from "drizzle-orm/mysql2";
import { describe, expect, it } from "vitest";
import { freshDrizzle } from "../test/fresh.js";
import { mysqlQueueTables, pgQueueTables, sqliteQueueTables } from "./index.js";

/** Table names as in core's `tables` option. */
type Names = {
  jobs: string;
  locks: string;
  schedules: string;
  jobTypes: string;
  jobGroups: string;
  jobStarts: string;
  jobStats: string;
};

/** What `drizzle-kit generate` writes for the queue's tables, from an empty database. */
async function drizzleKitDdl(kind: TargetKind, tables?: Names) {
  if (kind === "postgres") {
    const to = kit.generateDrizzleJson(pgQueueTables(tables));
    return kit.generateMigration(kit.generateDrizzleJson({}), to);
  }
  if (kind === "mariadb") {
    const to = await kit.generateMySQLDrizzleJson(mysqlQueueTables(tables));
    return kit.generateMySQLMigration(await kit.generateMySQLDrizzleJson({}), to);
  }
  const to = await kit.generateSQLiteDrizzleJson(sqliteQueueTables(tables));
  return kit.generateSQLiteMigration(await kit.generateSQLiteDrizzleJson({}), to);
}

/** Runs DDL the Drizzle way: through the ORM instance, not the adapter. */
async function runThroughDrizzle(shop: Awaited<ReturnType<typeof freshDrizzle>>, ddl: string[]) {
  for (const statement of ddl) {
    if (shop.target.kind === "sqlite") (shop.orm as BetterSQLite3Database).run(sql.raw(statement));
    else await (shop.orm as MySql2Database).execute(sql.raw(statement));
  }
}

/** A line of describeSchema() for a plain column the queue adds to the seed's job table. */
const ADDED_COLUMN_LINE =
  /^( {2}(attempts|run_at|lease_token|lease_until|worker_id|last_error|priority|unique_key|result|progress|group_key|trace_context) .*)$/gm;
/** A line of describeSchema() for a generated column the queue adds (MySQL family). */
const GENERATED_COLUMN_LINE = /^( {2}(due_ms|unique_live) .* virtual generated)$/gm;
/** The due index's line on SQLite (drizzle-kit cannot write it; migrate() does). */
const SQLITE_DUE_INDEX_LINE = /^ {2}CREATE INDEX "\w+_due_idx" .*\n/m;

/**
 * Where drizzle-kit cannot say exactly what core's DDL says; everything else
 * (columns, types, nullability, defaults, indexes) must be identical.
 * - MariaDB: Drizzle's `int({ unsigned: true })` has no display width, so the
 *   server reports `int(10) unsigned` where core wrote the seed's `int(11) unsigned`.
 *   Display width changes neither storage nor range (MySQL 8 drops it).
 * - MariaDB: drizzle-kit has no INVISIBLE, so the columns the queue adds (the generated
 *   `due_ms` and `unique_live` too) come out visible, and the Go library's SELECT * would
 *   fail on them (see the README): run migrate() after drizzle-kit's migration; it hides
 *   them (checked below).
 * - SQLite: Drizzle writes `id integer PRIMARY KEY AUTOINCREMENT NOT NULL` (the job
 *   table) and `id integer PRIMARY KEY NOT NULL` (the job-starts table); core omits
 *   NOT NULL (a rowid is never NULL anyway). SQLite keeps the
 *   index's DDL text verbatim, with Drizzle's backticks instead of core's quotes.
 * - SQLite: no due index from drizzle-kit (it splits an index expression at its commas,
 *   drizzle-orm#6062, so the definitions leave it out); migrate() creates it (checked below).
 */
function knownDifferences(kind: TargetKind, text: string, { migrated = false } = {}): string {
  if (kind === "mariadb") {
    const width = text.replace(/ int\(10\) unsigned/g, " int(11) unsigned");
    if (migrated) return width;
    // The job table's section only (the schedules table has a `priority` column too).
    const [jobTable = "", ...others] = width.split(/(?=^table )/m);
    const hidden = jobTable
      .replace(ADDED_COLUMN_LINE, "$1 invisible")
      .replace(GENERATED_COLUMN_LINE, "$1, invisible");
    return [hidden, ...others].join("");
  }
  if (kind === "sqlite") {
    return text
      .replace(/^ {2}id integer not null primary key$/gm, "  id integer primary key")
      .replace(/^( {2}CREATE (UNIQUE )?INDEX .*)$/gm, (line) =>
        line.replace(/`,`/g, '", "').replace(/`/g, '"'),
      );
  }
  return text;
}

for (const kind of ["mariadb", "postgres", "sqlite"] as const) {
  describe(`drizzle on ${kind}: schema definitions`, () => {
    for (const tables of [
      undefined,
      {
        jobs: "shop_jobs",
        locks: "shop_locks",
        schedules: "shop_schedules",
        jobTypes: "shop_job_types",
        jobGroups: "shop_job_groups",
        jobStarts: "shop_job_starts",
        jobStats: "shop_job_stats",
      },
    ]) {
      it(`drizzle-kit's DDL from the definitions, then migrate(), gives core's schema (schema version 7, seven tables)${tables ? " (custom table names)" : ""}`, async () => {
        const jobs = tables?.jobs ?? "async_job_tab";
        const byCore = await freshDrizzle(kind);
        const byDrizzle = await freshDrizzle(kind);
        try {
          await migrate(byCore.db, tables ? { tables } : {});
          const ddl = await drizzleKitDdl(kind, tables);
          for (const index of [
            "claim_idx",
            "unique_idx",
            ...(kind === "sqlite" ? [] : ["due_idx"]),
          ])
            expect(ddl.join("\n")).toContain(`${jobs}_${index}`);
          await runThroughDrizzle(byDrizzle, ddl);
          const core = await describeQueueTables(byCore.db, tables);
          const drizzled = await describeQueueTables(byDrizzle.db, tables);
          expect(core).toContain(`table ${tables?.schedules ?? "pq_schedules"}`);
          expect(core).toContain(`table ${tables?.jobTypes ?? "pq_job_types"}`);
          expect(core).toMatch(/^ {2}group_key /m);
          expect(core).toMatch(/^ {2}trace_context /m);
          const starts = tables?.jobStarts ?? "pq_job_starts";
          expect(core).toContain(`table ${tables?.jobGroups ?? "pq_job_groups"}`);
          expect(core).toContain(`table ${starts}`);
          for (const index of ["type_idx", "group_idx"]) {
            expect(core).toContain(`${starts}_${index}`);
            expect(ddl.join("\n")).toContain(`${starts}_${index}`);
          }
          const stats = tables?.jobStats ?? "pq_job_stats";
          expect(core).toContain(`table ${stats}`);
          expect(ddl.join("\n")).toContain(stats);
          const withoutDueIndex =
            kind === "sqlite" ? core.replace(SQLITE_DUE_INDEX_LINE, "") : core;
          if (kind === "sqlite") expect(withoutDueIndex).not.toBe(core);
          expect(knownDifferences(kind, drizzled)).toBe(withoutDueIndex);
          if (kind === "sqlite") {
            // describeSchema() does not show AUTOINCREMENT: the job table has it, as core's; the
            // job-starts table's id is a plain rowid, as core's.
            const autoincrement = async (db: typeof byCore.db) =>
              (
                await db.query(
                  "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE '%AUTOINCREMENT%' AND name <> 'sqlite_sequence' ORDER BY name",
                )
              ).map((r) => r.name);
            expect(await autoincrement(byCore.db)).toEqual([jobs]);
            expect(await autoincrement(byDrizzle.db)).toEqual([jobs]);
          }
          // The claim index, column for column (the claim's SKIP LOCKED depends on it on MariaDB).
          expect(drizzled).toMatch(/claim_idx.*\(.*job_status.*id.*\)/);
          if (kind === "mariadb") {
            // describeSchema() does not print a generated column's expression: compared here.
            const expressions = await generationExpressions(byCore.db, jobs);
            expect(expressions.map((r) => r.name)).toEqual(["due_ms", "unique_live"]);
            expect(await generationExpressions(byDrizzle.db, jobs)).toEqual(expressions);
          }
          // migrate() after drizzle-kit's migration completes the schema: on MariaDB it hides the
          // added columns, on SQLite it creates the due index; then only the display width differs.
          const result = await migrate(byDrizzle.db, tables ? { tables } : {});
          expect(result.warnings).toEqual([]);
          const migrated = await describeQueueTables(byDrizzle.db, tables);
          if (kind === "postgres") expect(migrated).toBe(drizzled);
          else expect(migrated).not.toBe(drizzled);
          expect(knownDifferences(kind, migrated, { migrated: true })).toBe(core);
          if (kind === "mariadb")
            expect(await generationExpressions(byDrizzle.db, jobs)).toEqual(
              await generationExpressions(byCore.db, jobs),
            );
        } finally {
          await byCore.close();
          await byDrizzle.close();
        }
      });
    }
  });
}
