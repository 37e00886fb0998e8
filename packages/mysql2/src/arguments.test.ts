// fromMysql2 checks its argument at once, and says what it expected and what it got.
import { expectRefused } from "@persistent-queue/testkit";
import Database from "better-sqlite3";
import mysqlCallback from "mysql2";
import mysql from "mysql2/promise";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { fromMysql2 } from "./index.js";

// Pools are created, never connected: port 1 is closed, and the password must never be printed.
const MYSQL_URL = "mysql://user:s3cret@127.0.0.1:1/x";
const pgPool = new pg.Pool({ connectionString: "postgres://user:s3cret@127.0.0.1:1/x" });
const callbackPool = mysqlCallback.createPool(MYSQL_URL);
const sqlite = new Database(":memory:");
afterAll(async () => {
  await pgPool.end();
  await new Promise((resolve) => callbackPool.end(resolve));
  sqlite.close();
});

describe("fromMysql2 refuses what is not a mysql2/promise pool or connection, with a typed error", () => {
  it.each([
    ["undefined", () => undefined, /got undefined\./],
    ["null", () => null, /got null\./],
    ["a connection string", () => MYSQL_URL, /got a string\. A connection string is not/],
    ["a node-postgres Pool", () => pgPool, /node-postgres Pool.*fromPg/],
    [
      "a node-postgres Client",
      () => new pg.Client({ connectionString: "postgres://user:s3cret@127.0.0.1:1/x" }),
      /node-postgres Client.*fromPg/,
    ],
    ["a callback-style mysql2 pool", () => callbackPool, /callback-style mysql2.*\.promise\(\)/],
    ["a better-sqlite3 Database", () => sqlite, /better-sqlite3 Database.*fromBetterSqlite3/],
    [
      "a Promise of a pool (a forgotten await)",
      () => Promise.resolve(mysql.createPool(MYSQL_URL)),
      /got a Promise\. .*await it/,
    ],
  ])("%s", (_name, make, says) => {
    expectRefused(
      () => fromMysql2(make() as never),
      "fromMysql2",
      /^fromMysql2: expected a mysql2\/promise Pool or Connection/,
      says,
    );
  });

  it("accepts a mysql2/promise pool without connecting", async () => {
    const pool = mysql.createPool(MYSQL_URL);
    expect(fromMysql2(pool).dialect).toBe("mysql");
    await pool.end();
  });
});
