import { describe, expect, it } from "vitest";
import { mysqlDialect } from "./mysql/index.js";
import { postgresDialect } from "./postgres/index.js";
import { compile, ident, join, raw, sql } from "./sql.js";
import { sqliteDialect } from "./sqlite/index.js";

const DIALECTS = [mysqlDialect("mariadb", "10.11.6-MariaDB"), postgresDialect(), sqliteDialect()];

describe("sql tag", () => {
  for (const dialect of DIALECTS) {
    it(`numbers placeholders and quotes identifiers for ${dialect.name}`, () => {
      const status = 0;
      const { text, params } = compile(
        sql`SELECT ${ident("id")} FROM ${ident("async_job_tab")} WHERE job_status = ${status} AND job_type IN (${[1, 2, 3]}) AND x < ${raw(dialect.nowMs)} ${sql`AND id > ${10n}`}`,
        dialect,
      );
      const q = dialect.quoteIdent;
      const p = (n: number) => dialect.placeholder(n);
      expect(text).toBe(
        `SELECT ${q("id")} FROM ${q("async_job_tab")} WHERE job_status = ${p(1)} AND job_type IN (${p(2)}, ${p(3)}, ${p(4)}) AND x < ${dialect.nowMs} AND id > ${p(5)}`,
      );
      expect(params).toEqual([0, 1, 2, 3, 10n]);
    });
  }

  it("renders an empty list as NULL so `IN ()` stays valid and matches nothing", () => {
    expect(compile(sql`x IN (${[]})`, postgresDialect())).toEqual({
      text: "x IN (NULL)",
      params: [],
    });
  });

  it("joins fragments with their parameters in order", () => {
    const parts = [sql`(${1}, ${"a"})`, sql`(${2}, ${"b"})`];
    expect(compile(sql`VALUES ${join(parts)}`, postgresDialect())).toEqual({
      text: "VALUES ($1, $2), ($3, $4)",
      params: [1, "a", 2, "b"],
    });
  });

  it("refuses identifiers that are not plain", () => {
    expect(() => ident("async_job_tab`; DROP TABLE x; --")).toThrow(/plain SQL identifier/);
    expect(() => ident("")).toThrow(/plain SQL identifier/);
    expect(() => ident("a".repeat(64))).toThrow(/1-63 characters/);
  });
});
