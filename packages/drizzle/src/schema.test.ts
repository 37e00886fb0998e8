// The Drizzle table definitions, turned into DDL by drizzle-kit and run
// through Drizzle on a fresh database, give the schema core's migrate() gives.
import { migrate } from "@persistent-queue/core";
import { describeSchema } from "@persistent-queue/core/adapter";
import type { TargetKind } from "@persistent-queue/testkit";
import * as kit from "drizzle-kit/api";
import { sql } from "drizzle-orm";
import type { BetterSQLite3Database } from "drizzle-orm/better-sqlite3";
import type { MySql2Database } from "drizzle-orm/mysql2";
import { describe, expect, it } from "vitest";
import { freshDrizzle } from "../test/fresh.js";
import { mysqlQueueTables, pgQueueTables, sqliteQueueTables } from "./index.js";

/** What `drizzle-kit generate` writes for the queue's tables, from an empty database. */
async function drizzleKitDdl(kind: TargetKind, tables?: { jobs: string; locks: string }) {
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

/** A line of describeSchema() for a column the queue adds to the seed's job table. */
const ADDED_COLUMN_LINE =
  /^( {2}(attempts|run_at|lease_token|lease_until|worker_id|last_error) .*)$/gm;

/**
 * Where drizzle-kit cannot say exactly what core's DDL says; everything else
 * (columns, types, nullability, defaults, indexes) must be identical.
 * - MariaDB: Drizzle's `int({ unsigned: true })` has no display width, so the
 *   server reports `int(10) unsigned` where core wrote the seed's `int(11) unsigned`.
 *   Display width changes neither storage nor range (MySQL 8 drops it).
 * - MariaDB: drizzle-kit has no INVISIBLE, so the columns the queue adds come out
 *   visible, and the Go library's SELECT * would fail on them (see the README):
 *   run migrate() after drizzle-kit's migration; it hides them (checked below).
 * - SQLite: Drizzle writes `id integer PRIMARY KEY AUTOINCREMENT NOT NULL`
 *   (core omits NOT NULL: a rowid is never NULL anyway), and SQLite keeps the
 *   index's DDL text verbatim, with Drizzle's backticks instead of core's quotes.
 */
function knownDifferences(kind: TargetKind, text: string, { hidden = false } = {}): string {
  if (kind === "mariadb") {
    const width = text.replace(/ int\(10\) unsigned/g, " int(11) unsigned");
    return hidden ? width : width.replace(ADDED_COLUMN_LINE, "$1 invisible");
  }
  if (kind === "sqlite") {
    return text
      .replace("id integer not null primary key", "id integer primary key")
      .replace(/^( {2}CREATE INDEX .*)$/gm, (line) =>
        line.replace(/`,`/g, '", "').replace(/`/g, '"'),
      );
  }
  return text;
}

for (const kind of ["mariadb", "postgres", "sqlite"] as const) {
  describe(`drizzle on ${kind}: schema definitions`, () => {
    for (const tables of [undefined, { jobs: "shop_jobs", locks: "shop_locks" }]) {
      it(`drizzle-kit's DDL from the definitions matches core's migrate()${tables ? " (custom table names)" : ""}`, async () => {
        const byCore = await freshDrizzle(kind);
        const byDrizzle = await freshDrizzle(kind);
        try {
          await migrate(byCore.db, tables ? { tables } : {});
          const ddl = await drizzleKitDdl(kind, tables);
          expect(ddl.join("\n")).toContain(`${tables?.jobs ?? "async_job_tab"}_claim_idx`);
          await runThroughDrizzle(byDrizzle, ddl);
          const core = await describeSchema(byCore.db, tables);
          const drizzled = await describeSchema(byDrizzle.db, tables);
          expect(knownDifferences(kind, drizzled)).toBe(core);
          // The claim index, column for column (the claim's SKIP LOCKED depends on it on MariaDB).
          expect(drizzled).toMatch(/claim_idx.*\(.*job_status.*id.*\)/);
          // migrate() accepts drizzle-kit's tables as current and changes nothing in them but,
          // on MariaDB, the added columns' visibility: then only the display width differs.
          await migrate(byDrizzle.db, tables ? { tables } : {});
          const migrated = await describeSchema(byDrizzle.db, tables);
          if (kind === "mariadb") {
            expect(migrated).not.toBe(drizzled);
            expect(knownDifferences(kind, migrated, { hidden: true })).toBe(core);
          } else {
            expect(migrated).toBe(drizzled);
          }
        } finally {
          await byCore.close();
          await byDrizzle.close();
        }
      });
    }
  });
}
