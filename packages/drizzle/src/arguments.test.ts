// fromDrizzle checks its argument at once; another Drizzle driver is unsupported;
// transaction misuse is a typed error.
import { type DB, TransactionMisuseError, UnsupportedError } from "@persistent-queue/core";
import { expectRefused, thrown } from "@persistent-queue/testkit";
import Database from "better-sqlite3";
import { drizzle as drizzleSqlite } from "drizzle-orm/better-sqlite3";
import { pgTable, text } from "drizzle-orm/pg-core";
import { drizzle as drizzlePgProxy } from "drizzle-orm/pg-proxy";
import { drizzle as drizzleSqliteProxy } from "drizzle-orm/sqlite-proxy";
import mysql from "mysql2/promise";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { fromDrizzle } from "./index.js";

// Pools are created, never connected: port 1 is closed, and the password must never be printed.
const PG_URL = "postgres://user:s3cret@127.0.0.1:1/x";
const mysqlPool = mysql.createPool("mysql://user:s3cret@127.0.0.1:1/x");
const pgPool = new pg.Pool({ connectionString: PG_URL });
afterAll(async () => {
  await mysqlPool.end();
  await pgPool.end();
});

describe("fromDrizzle refuses what is not a Drizzle database or transaction, with a typed error", () => {
  it.each([
    ["undefined", () => undefined, /got undefined\./],
    ["null", () => null, /got null\./],
    ["a connection string", () => PG_URL, /got a string\./],
    ["a raw node-postgres Pool", () => pgPool, /node-postgres Pool.*fromPg/],
    ["a raw mysql2 pool", () => mysqlPool, /mysql2 pool.*fromMysql2/],
    [
      "a Drizzle table",
      () => pgTable("t", { v: text("v") }),
      /It is a Drizzle PgTable, not a database/,
    ],
    ["a Promise", () => Promise.resolve(drizzleSqlite(":memory:")), /got a Promise\. .*await it/],
  ])("%s", (_name, make, says) => {
    expectRefused(
      () => fromDrizzle(make() as never),
      "fromDrizzle",
      /^fromDrizzle: expected a Drizzle database or transaction made with the mysql2, node-postgres, postgres-js or better-sqlite3 driver; /,
      says,
    );
  });

  it("a Drizzle database made with another driver is unsupported, naming Drizzle's session class", () => {
    for (const orm of [
      drizzlePgProxy(async () => ({ rows: [] })),
      drizzleSqliteProxy(async () => ({ rows: [] })),
    ]) {
      const err = thrown(() => fromDrizzle(orm));
      expect(err).toBeInstanceOf(UnsupportedError);
      expect(err).toMatchObject({ code: "ERR_PQ_UNSUPPORTED", message: /^fromDrizzle: .*Session/ });
    }
  });
});

describe("fromDrizzle on better-sqlite3: transaction misuse is a TransactionMisuseError", () => {
  const sqlite = new Database(":memory:");
  const orm = drizzleSqlite({ client: sqlite });
  const db = fromDrizzle(orm);
  afterAll(() => sqlite.close());

  it("a DB bound to a synchronous transaction that has ended", () => {
    let escaped: DB | undefined;
    orm.transaction((tx) => {
      escaped = fromDrizzle(tx);
    });
    const err = thrown(() => escaped!.execSync!("SELECT 1"));
    expect(err).toBeInstanceOf(TransactionMisuseError);
    expect(err).toMatchObject({ code: "ERR_PQ_TRANSACTION", message: /queue\.addSync\(\)/ });
  });

  it("a nested transaction(), and a synchronous call from outside an open asynchronous one", async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const outer = db.transaction!(async () => {
      const nested = await db.transaction!(async () => 0).catch((e: unknown) => e);
      expect(nested).toBeInstanceOf(TransactionMisuseError);
      expect(nested).toMatchObject({ code: "ERR_PQ_TRANSACTION", message: /do not nest/ });
      await held;
    });
    await new Promise((r) => setTimeout(r, 10));
    const outside = thrown(() => db.execSync!("SELECT 1"));
    expect(outside).toBeInstanceOf(TransactionMisuseError);
    expect(outside).toMatchObject({ code: "ERR_PQ_TRANSACTION" });
    release();
    await outer;
  });
});
