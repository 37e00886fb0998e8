// The table types against the tables core's migrate() makes, on each database: every
// column is there and no other, nullability and insert defaults agree with Kysely's
// introspection, and a row written and read through Kysely's query builder with those
// types gives the JavaScript types they declare.

import type { DialectFamily } from "@persistent-queue/core";
import { migrate } from "@persistent-queue/core";
import type { TargetKind } from "@persistent-queue/testkit";
import type { Kysely } from "kysely";
import { describe, expect, it } from "vitest";
import { FACTS } from "../test/facts.js";
import { freshKysely, KINDS } from "../test/fresh.js";

const familyOf = (kind: TargetKind): DialectFamily => (kind === "mariadb" ? "mysql" : kind);
const jsOf = (value: unknown) => (value instanceof Date ? "date" : typeof value);

/**
 * A value of each JavaScript type, to write through the query builder: digits for pg's
 * BIGINT text; 3 (Continue), a live status, so MySQL's unique_live is not NULL.
 */
const SAMPLE: Record<string, unknown> = {
  string: "3",
  number: 3,
  date: new Date("2026-01-02T03:04:05.006Z"),
};

for (const kind of KINDS) {
  const family = familyOf(kind);
  const facts = FACTS[family];
  describe(`kysely on ${kind}: table types`, () => {
    for (const tables of [
      undefined,
      { jobs: "shop_jobs", locks: "shop_locks", jobStats: "shop_job_stats" },
    ] as const) {
      it(`every table migrate() made has the columns, nullability, insert defaults and JavaScript types of QueueTables<"${family}">${tables ? " (custom table names)" : ""}`, async () => {
        const shop = await freshKysely(kind);
        try {
          await migrate(shop.db, tables ? { tables } : {});
          const rename: Record<string, string> = {
            async_job_tab: tables?.jobs ?? "async_job_tab",
            shedlock_tab: tables?.locks ?? "shedlock_tab",
            pq_job_stats: tables?.jobStats ?? "pq_job_stats",
          };
          const kysely = shop.kysely as unknown as Kysely<Record<string, Record<string, unknown>>>;
          const introspected = await kysely.introspection.getTables();
          for (const [table, columns] of Object.entries(facts)) {
            const name = rename[table] ?? table;
            const meta = introspected.find(
              (t) => t.name === name && t.schema !== "information_schema",
            );
            expect(meta, name).toBeDefined();
            const described = Object.fromEntries(
              meta!.columns.map((c) => {
                // SQLite reports a rowid alias (INTEGER PRIMARY KEY) as nullable; it never is.
                const rowid = family === "sqlite" && c.name === "id";
                const nullable = c.isNullable && !rowid;
                const kind = nullable
                  ? "n"
                  : c.hasDefaultValue || c.isAutoIncrementing || rowid
                    ? "d"
                    : "r";
                return [c.name, kind];
              }),
            );
            const declared = Object.fromEntries(
              Object.entries(columns).map(([c, fact]) => [
                c,
                fact.split(" ")[0] === "v" ? "n" : fact.split(" ")[0],
              ]),
            );
            expect(described, name).toEqual(declared);

            // One row with every writable column set, written and read through the query builder.
            const row = Object.fromEntries(
              Object.entries(columns)
                .filter(([, fact]) => !fact.startsWith("v"))
                .map(([c, fact]) => [c, SAMPLE[fact.split(" ")[1]!]]),
            );
            await kysely.insertInto(name).values(row).execute();
            const [read] = await kysely.selectFrom(name).select(Object.keys(columns)).execute();
            const types = Object.fromEntries(Object.entries(read!).map(([c, v]) => [c, jsOf(v)]));
            const expected = Object.fromEntries(
              Object.entries(columns).map(([c, fact]) => [c, fact.split(" ")[1]]),
            );
            expect(types, name).toEqual(expected);
          }
        } finally {
          await shop.close();
        }
      });
    }
  });
}
