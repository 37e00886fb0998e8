// fromPg checks its argument at once, and says what it expected and what it got.
import { expectRefused } from "@persistent-queue/testkit";
import Database from "better-sqlite3";
import mysql from "mysql2/promise";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { fromPg } from "./index.js";

// Pools are created, never connected: port 1 is closed, and the password must never be printed.
const PG_URL = "postgres://user:s3cret@127.0.0.1:1/x";
const mysqlPool = mysql.createPool("mysql://user:s3cret@127.0.0.1:1/x");
const sqlite = new Database(":memory:");
afterAll(async () => {
  await mysqlPool.end();
  sqlite.close();
});

describe("fromPg refuses what is not a node-postgres Pool or Client, with a typed error", () => {
  it.each([
    ["undefined", () => undefined, /got undefined\./],
    ["null", () => null, /got null\./],
    ["a connection string", () => PG_URL, /got a string\. A connection string is not/],
    ["a mysql2 pool", () => mysqlPool, /got a PromisePool\. .*mysql2 pool.*fromMysql2/],
    ["a better-sqlite3 Database", () => sqlite, /better-sqlite3 Database.*fromBetterSqlite3/],
    [
      "a Promise of a Pool (a forgotten await)",
      () => Promise.resolve(new pg.Pool({ connectionString: PG_URL })),
      /got a Promise\. .*await it/,
    ],
  ])("%s", (_name, make, says) => {
    expectRefused(
      () => fromPg(make() as never),
      "fromPg",
      /^fromPg: expected a node-postgres Pool or Client/,
      says,
    );
  });

  it("accepts a Pool and a Client without connecting", async () => {
    const pool = new pg.Pool({ connectionString: PG_URL });
    expect(fromPg(pool).dialect).toBe("postgres");
    expect(fromPg(new pg.Client({ connectionString: PG_URL })).dialect).toBe("postgres");
    await pool.end();
  });
});
