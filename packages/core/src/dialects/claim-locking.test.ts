import { describe, expect, it } from "vitest";
import type { DB } from "../db.js";
import { JobStatus } from "../job-status.js";
import { claimLockingFor } from "./claim-locking.js";
import type { ClaimParams, Dialect } from "./dialect.js";
import { resolveDialect, withClaimLocking } from "./index.js";
import { mysqlDialect } from "./mysql/index.js";
import { postgresDialect } from "./postgres/index.js";
import { compile } from "./sql.js";
import { sqliteDialect } from "./sqlite/index.js";

// Version strings as the servers report them (SELECT VERSION() / SELECT version()).
const TIDB = "8.0.11-TiDB-v7.5.1";
const COCKROACH =
  "CockroachDB CCL v23.2.4 (x86_64-pc-linux-gnu, built 2024/04/08 22:19:12, go1.21.9 X:nocoverageredesign)";
const YUGABYTE =
  "PostgreSQL 11.2-YB-2.20.1.0-b0 on x86_64-pc-linux-gnu, compiled by clang version 16.0.6, 64-bit";
const POSTGRES =
  "PostgreSQL 15.18 (Debian 15.18-0+deb12u1) on x86_64-pc-linux-gnu, compiled by gcc";
const MARIADB = "10.11.19-MariaDB-0+deb12u1";
const MYSQL = "8.0.36";

describe("claimLockingFor (detection from the version string)", () => {
  it.each([
    [TIDB, "optimistic"],
    ["5.7.25-TiDB-v6.5.0", "optimistic"],
    [COCKROACH, "optimistic"],
    [YUGABYTE, "optimistic"],
    [POSTGRES, "skip-locked"],
    [MARIADB, "skip-locked"],
    [MYSQL, "skip-locked"],
    ["", "skip-locked"],
  ])("%s → %s", (version, expected) => {
    expect(claimLockingFor(version)).toBe(expected);
  });
});

describe("the dialects' claimLocking capability", () => {
  it("MySQL family: from the version; a server without SKIP LOCKED claims optimistically", () => {
    expect(mysqlDialect("mysql", TIDB).capabilities.claimLocking).toBe("optimistic");
    expect(mysqlDialect("mysql", MYSQL).capabilities.claimLocking).toBe("skip-locked");
    expect(mysqlDialect("mariadb", MARIADB).capabilities.claimLocking).toBe("skip-locked");
    expect(mysqlDialect("mariadb", "10.5.24-MariaDB").capabilities.claimLocking).toBe("optimistic");
    expect(mysqlDialect("mysql", "5.7.44").capabilities.claimLocking).toBe("optimistic");
  });

  it("the option overrides what the version says, both ways", () => {
    expect(
      mysqlDialect("mariadb", MARIADB, { claimLocking: "optimistic" }).capabilities.claimLocking,
    ).toBe("optimistic");
    expect(
      mysqlDialect("mysql", TIDB, { claimLocking: "skip-locked" }).capabilities.claimLocking,
    ).toBe("skip-locked");
    expect(postgresDialect().capabilities.claimLocking).toBe("skip-locked");
    expect(postgresDialect({ claimLocking: "optimistic" }).capabilities.claimLocking).toBe(
      "optimistic",
    );
    expect(sqliteDialect().capabilities.claimLocking).toBe("single-writer");
  });

  it("a detecting MySQL dialect keeps the forced option through detection", async () => {
    const forced = withClaimLocking(fakeDb("mysql", MARIADB), "optimistic");
    const given = forced.dialect as Dialect;
    const detected = await given.detect?.(forced);
    expect(detected?.name).toBe("mariadb");
    expect(detected?.capabilities.claimLocking).toBe("optimistic");
    const tidb = fakeDb("mysql", TIDB);
    const plain = await resolveDialect(tidb);
    expect(plain.capabilities.claimLocking).toBe("optimistic");
  });

  it("withClaimLocking refuses a DB whose dialect is not a family name it can rebuild", () => {
    expect(() => withClaimLocking(fakeDb("sqlite", ""), "optimistic")).toThrow(/SQLite/);
  });
});

describe("the optimistic claim's SQL", () => {
  const params: ClaimParams = {
    table: "async_job_tab",
    jobType: 1,
    status: JobStatus.Init,
    stale: undefined,
    limit: 8,
    token: "t",
    leaseMs: 1000,
    workerId: "w",
    flow: { scope: "async_job_tab", types: "pq_job_types", groups: "pq_job_groups", starts: "s" },
  };
  it("PostgreSQL: one statement, no row lock read, the UPDATE re-checks status and due time", () => {
    const d = postgresDialect({ claimLocking: "optimistic" });
    const { text } = compile(d.statements.claimJobs(params), d);
    expect(text).not.toMatch(/FOR UPDATE|SKIP LOCKED/);
    expect(text).toMatch(/"job_status" = "picked"\."prev_status" AND GREATEST/);
    const locked = compile(postgresDialect().statements.claimJobs(params), d).text;
    expect(locked).toMatch(/FOR UPDATE SKIP LOCKED/);
  });
  it("limited claims keep their gate (a conditional UPDATE, no SKIP LOCKED) and drop the row locks", () => {
    const d = postgresDialect({ claimLocking: "optimistic" });
    const { text } = compile(d.statements.claimJobs({ ...params, limits: { global: 2 } }), d);
    expect(text).toMatch(/"gate" AS \(\s*UPDATE "pq_job_types"/);
    expect(text).not.toMatch(/SKIP LOCKED/);
  });
});

/** A DB that answers only `SELECT VERSION()`, with `version`. */
function fakeDb(dialect: "mysql" | "sqlite", version: string): DB {
  return {
    dialect,
    exec: async () => ({ affectedRows: 0 }),
    query: async <T>() => [{ v: version }] as T[],
    ping: async () => {},
    close: async () => {},
  };
}
