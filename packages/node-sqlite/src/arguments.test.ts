// fromNodeSqlite checks its argument at once; transaction misuse is a typed error.
import { AdapterArgumentError, TransactionMisuseError } from "@persistent-queue/core";
import { createSqliteFile, expectRefused } from "@persistent-queue/testkit";
import mysql from "mysql2/promise";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { DatabaseSync, missing } from "../test/open.mjs";
import { fromNodeSqlite } from "./index.js";

// Pools are created, never connected: port 1 is closed, and the password must never be printed.
const mysqlPool = mysql.createPool("mysql://user:s3cret@127.0.0.1:1/x");
const pgPool = new pg.Pool({ connectionString: "postgres://user:s3cret@127.0.0.1:1/x" });
afterAll(async () => {
  await mysqlPool.end();
  await pgPool.end();
});

// Shaped like better-sqlite3's Database (the real one is a native addon built per Node line).
const betterSqlite3Like = { prepare() {}, exec() {}, pragma() {}, open: true, memory: true };

describe("fromNodeSqlite refuses what is not an open DatabaseSync, with a typed error", () => {
  it.each([
    ["undefined", () => undefined, /got undefined\./],
    ["null", () => null, /got null\./],
    ["a file name", () => "/tmp/s3cret.sqlite", /got a string\. .*new DatabaseSync\(file\)/],
    ["a mysql2 pool", () => mysqlPool, /mysql2 pool.*fromMysql2/],
    ["a node-postgres Pool", () => pgPool, /node-postgres Pool.*fromPg/],
    [
      "a better-sqlite3 Database",
      () => betterSqlite3Like,
      /better-sqlite3 Database.*fromBetterSqlite3/,
    ],
    ["a Promise of a Database", () => Promise.resolve({}), /got a Promise\. .*await it/],
  ])("%s", (_name, make, says) => {
    expectRefused(
      () => fromNodeSqlite(make() as never),
      "fromNodeSqlite",
      /^fromNodeSqlite: expected an open node:sqlite DatabaseSync/,
      says,
    );
  });

  it.skipIf(missing !== undefined)(
    "a closed DatabaseSync, and one made with { open: false }",
    () => {
      const closed = new DatabaseSync!(":memory:");
      closed.close();
      for (const database of [closed, new DatabaseSync!(":memory:", { open: false })]) {
        expectRefused(
          () => fromNodeSqlite(database),
          "fromNodeSqlite",
          /^fromNodeSqlite: expected an open node:sqlite DatabaseSync/,
          /got a DatabaseSync\. It is closed/,
        );
      }
    },
  );
});

describe.skipIf(missing !== undefined)("fromNodeSqlite on a DatabaseSync", () => {
  it("another adapter given a DatabaseSync names fromNodeSqlite", () => {
    const err = new AdapterArgumentError(
      "fromPg",
      "a node-postgres Pool",
      new DatabaseSync!(":memory:"),
    );
    expect(err.message).toMatch(
      /got a DatabaseSync\. It looks like a node:sqlite DatabaseSync: fromNodeSqlite from @persistent-queue\/node-sqlite adapts it\.$/,
    );
  });

  it("a nested transaction(), and a synchronous call from outside an open asynchronous one, are TransactionMisuseErrors", async () => {
    const sqlite = new DatabaseSync!(":memory:");
    const db = fromNodeSqlite(sqlite);
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
    let outside: unknown;
    try {
      db.execSync!("SELECT 1");
    } catch (err) {
      outside = err;
    }
    expect(outside).toBeInstanceOf(TransactionMisuseError);
    expect(outside).toMatchObject({ code: "ERR_PQ_TRANSACTION", message: /^fromNodeSqlite: / });
    release();
    await outer;
    await db.close();
    expect(sqlite.isOpen).toBe(false);
  });

  it("integers past 2^53 come back as exact bigints, smaller ones as numbers; rows, changes and insert ids as better-sqlite3's", async () => {
    const db = fromNodeSqlite(new DatabaseSync!(":memory:"));
    await db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER, s TEXT)");
    const big = 2n ** 62n + 1n;
    expect(await db.exec("INSERT INTO t (v, s) VALUES (?, ?)", [big, "a"])).toEqual({
      affectedRows: 1,
      insertId: 1,
    });
    await db.exec("INSERT INTO t (v, s) VALUES (?, ?)", [7, "b"]);
    expect(await db.query("SELECT id, v, s FROM t ORDER BY id")).toEqual([
      { id: 1, v: big, s: "a" },
      { id: 2, v: 7, s: "b" },
    ]);
    // Plain objects, as every other adapter's rows (node:sqlite's own have a null prototype).
    const [text] = await db.query("SELECT s FROM t WHERE id = 2");
    expect(Object.getPrototypeOf(text)).toBe(Object.prototype);
    // A statement that returns rows counts them, as better-sqlite3's reader statements do.
    expect(await db.exec("UPDATE t SET s = 'c' RETURNING id")).toEqual({
      affectedRows: 2,
      insertId: undefined,
    });
    expect(await db.exec("DELETE FROM t WHERE id = ?", [99])).toEqual({
      affectedRows: 0,
      insertId: undefined,
    });
    // Booleans and Dates, which core never binds but a caller's own statement may.
    const [row] = await db.query("SELECT ? AS b, ? AS d", [
      true,
      new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 6)),
    ] as never);
    expect(row).toEqual({ b: 1, d: "2026-01-02 03:04:05.006" });
    await db.close();
  });

  it("a read-only file connection keeps its journal mode; a writable one switches to WAL", async () => {
    const file = await createSqliteFile();
    try {
      const plain = new DatabaseSync!(file.path); // rollback journal, SQLite's default
      plain.exec("CREATE TABLE t (v INTEGER)");
      plain.close();
      const reader = fromNodeSqlite(new DatabaseSync!(file.path, { readOnly: true }), {
        busyTimeoutMs: 250,
      });
      expect(await reader.query("PRAGMA journal_mode")).toEqual([{ journal_mode: "delete" }]);
      expect(await reader.query("PRAGMA busy_timeout")).toEqual([{ timeout: 250 }]);
      await reader.close();
      const writer = fromNodeSqlite(new DatabaseSync!(file.path));
      expect(await writer.query("PRAGMA journal_mode")).toEqual([{ journal_mode: "wal" }]);
      expect(await writer.query("PRAGMA busy_timeout")).toEqual([{ timeout: 5000 }]);
      await writer.close();
    } finally {
      await file.cleanup();
    }
  });
});
