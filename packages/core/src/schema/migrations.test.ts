import { describe, expect, it } from "vitest";
import { mysqlDialect, supportsInvisibleColumns } from "../dialects/mysql/index.js";
import { postgresDialect } from "../dialects/postgres/index.js";
import { compile } from "../dialects/sql.js";
import { sqliteDialect } from "../dialects/sqlite/index.js";
import { MIGRATIONS } from "./migrations.js";
import { DEFAULT_TABLES } from "./tables.js";

const stepsOf = (version: number, d = mysqlDialect("mariadb", "10.11.6-MariaDB")) =>
  MIGRATIONS.find((m) => m.version === version)!.steps(d, DEFAULT_TABLES);

describe("migration 3 (invisible to Go readers)", () => {
  it("restates exactly the type migration 2 gave each column it hides, and hides every one of them", () => {
    const d = mysqlDialect("mariadb", "10.11.6-MariaDB");
    const added = new Map(
      stepsOf(2)
        .filter((s) => s.kind === "addColumn")
        .map((s) => [s.column, compile(s.ddl, d).text.split(`\`${s.column}\` `)[1]]),
    );
    const hidden = stepsOf(3).map((s) => {
      if (s.kind !== "hideColumn") throw new Error(`unexpected step ${s.kind}`);
      return [s.column, compile(s.ddl, d).text] as const;
    });
    expect(hidden.map(([c]) => c)).toEqual([...added.keys()]);
    for (const [column, ddl] of hidden)
      expect(ddl).toBe(
        `ALTER TABLE \`async_job_tab\` MODIFY COLUMN \`${column}\` ${added.get(column)} INVISIBLE`,
      );
  });

  it("has no steps where INVISIBLE does not exist: PostgreSQL, SQLite, MySQL before 8.0.23", () => {
    expect(stepsOf(3, postgresDialect())).toEqual([]);
    expect(stepsOf(3, sqliteDialect())).toEqual([]);
    expect(stepsOf(3, mysqlDialect("mysql", "8.0.22"))).toEqual([]);
    expect(stepsOf(3, mysqlDialect("mysql", "8.0.23"))).toHaveLength(6);
  });

  it.each([
    ["mariadb", "10.3.2-MariaDB", false],
    ["mariadb", "10.3.3-MariaDB-log", true],
    ["mariadb", "10.11.6-MariaDB-0+deb12u1", true],
    ["mariadb", "11.4.2-MariaDB", true],
    ["mysql", "5.7.44", false],
    ["mysql", "8.0.22", false],
    ["mysql", "8.0.23", true],
    ["mysql", "8.4.0", true],
    ["mysql", "9.1.0", true],
  ] as const)("INVISIBLE columns on %s %s: %s", (variant, version, expected) => {
    expect(supportsInvisibleColumns(variant, version)).toBe(expected);
  });
});
