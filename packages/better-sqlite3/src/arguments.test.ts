// fromBetterSqlite3 checks its argument at once; transaction misuse is a typed error.
import { TransactionMisuseError } from "@persistent-queue/core";
import { expectRefused } from "@persistent-queue/testkit";
import Database from "better-sqlite3";
import mysql from "mysql2/promise";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { fromBetterSqlite3 } from "./index.js";

// Pools are created, never connected: port 1 is closed, and the password must never be printed.
const mysqlPool = mysql.createPool("mysql://user:s3cret@127.0.0.1:1/x");
const pgPool = new pg.Pool({ connectionString: "postgres://user:s3cret@127.0.0.1:1/x" });
afterAll(async () => {
  await mysqlPool.end();
  await pgPool.end();
});

describe("fromBetterSqlite3 refuses what is not an open better-sqlite3 Database, with a typed error", () => {
  const closed = new Database(":memory:");
  closed.close();
  it.each([
    ["undefined", () => undefined, /got undefined\./],
    ["null", () => null, /got null\./],
    ["a file name", () => "/tmp/s3cret.sqlite", /got a string\. .*new Database\(file\)/],
    ["a mysql2 pool", () => mysqlPool, /mysql2 pool.*fromMysql2/],
    ["a node-postgres Pool", () => pgPool, /node-postgres Pool.*fromPg/],
    ["a closed Database", () => closed, /got a Database\. It is closed/],
    [
      "a Promise of a Database",
      () => Promise.resolve(new Database(":memory:")),
      /got a Promise\. .*await it/,
    ],
  ])("%s", (_name, make, says) => {
    expectRefused(
      () => fromBetterSqlite3(make() as never),
      "fromBetterSqlite3",
      /^fromBetterSqlite3: expected an open better-sqlite3 Database/,
      says,
    );
  });
});

describe("fromBetterSqlite3: transaction misuse is a TransactionMisuseError", () => {
  it("a nested transaction(), and a synchronous call from outside an open asynchronous one", async () => {
    const sqlite = new Database(":memory:");
    const db = fromBetterSqlite3(sqlite);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const outer = db.transaction!(async (tx) => {
      await tx.exec("CREATE TABLE t (v INTEGER)");
      const nested = await db.transaction!(async () => 0).catch((e: unknown) => e);
      expect(nested).toBeInstanceOf(TransactionMisuseError);
      expect(nested).toMatchObject({ code: "ERR_PQ_TRANSACTION", message: /do not nest/ });
      await held;
    });
    await new Promise((r) => setTimeout(r, 10));
    // Outside the transaction's async context, while it holds the connection.
    let outside: unknown;
    try {
      db.execSync!("SELECT 1");
    } catch (err) {
      outside = err;
    }
    expect(outside).toBeInstanceOf(TransactionMisuseError);
    expect(outside).toMatchObject({ code: "ERR_PQ_TRANSACTION", message: /^fromBetterSqlite3: / });
    release();
    await outer;
    sqlite.close();
  });
});
