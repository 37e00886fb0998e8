// fromTypeORM checks its argument at once; state and transaction misuse are typed errors.
import "reflect-metadata";
import { AdapterArgumentError, TransactionMisuseError } from "@persistent-queue/core";
import { expectRefused, thrown } from "@persistent-queue/testkit";
import mysql from "mysql2/promise";
import pg from "pg";
import { DataSource } from "typeorm";
import { afterAll, describe, expect, it } from "vitest";
import { freshDataSource } from "../test/fresh.js";
import { fromTypeORM } from "./index.js";

// Pools are created, never connected: port 1 is closed, and the password must never be printed.
const PG_URL = "postgres://user:s3cret@127.0.0.1:1/x";
const mysqlPool = mysql.createPool("mysql://user:s3cret@127.0.0.1:1/x");
const pgPool = new pg.Pool({ connectionString: PG_URL });
afterAll(async () => {
  await mysqlPool.end();
  await pgPool.end();
});

const memory = () => new DataSource({ type: "better-sqlite3", database: ":memory:" });

describe("fromTypeORM refuses what is not a DataSource, EntityManager or QueryRunner, with a typed error", () => {
  it.each([
    ["undefined", () => undefined, /got undefined\./],
    ["null", () => null, /got null\./],
    ["a connection string", () => PG_URL, /got a string\./],
    ["DataSource options", () => ({ type: "postgres", url: PG_URL }), /got an object\./],
    ["a raw node-postgres Pool", () => pgPool, /node-postgres Pool.*fromPg/],
    ["a raw mysql2 pool", () => mysqlPool, /mysql2 pool.*fromMysql2/],
    ["a Promise (initialize() not awaited)", () => memory().initialize(), /got a Promise\./],
  ])("%s", (_name, make, says) => {
    expectRefused(
      () => fromTypeORM(make() as never),
      "fromTypeORM",
      /^fromTypeORM: expected a TypeORM DataSource, EntityManager or QueryRunner; /,
      says,
    );
  });

  it("a DataSource that is not initialized, or was destroyed, is refused at use", async () => {
    const ds = memory();
    const db = fromTypeORM(ds); // allowed: it may be initialized before the queue starts
    const before = await db.query("SELECT 1").catch((e: unknown) => e);
    expect(before).toBeInstanceOf(AdapterArgumentError);
    expect(before).toMatchObject({
      code: "ERR_PQ_ADAPTER_ARGUMENT",
      message: /^fromTypeORM: .*await dataSource\.initialize\(\)/,
    });
    await ds.initialize();
    expect(await db.query("SELECT 1 AS one")).toEqual([{ one: 1 }]);
    await ds.destroy();
    await expect(db.exec("SELECT 1")).rejects.toBeInstanceOf(AdapterArgumentError);
  });

  it("a released QueryRunner (PostgreSQL: SQLite's one shared runner is never released)", async () => {
    const fresh = await freshDataSource("postgres");
    try {
      const runner = fresh.dataSource.createQueryRunner();
      await runner.release();
      const err = thrown(() => fromTypeORM(runner));
      expect(err).toBeInstanceOf(AdapterArgumentError);
      expect(err).toMatchObject({ message: /^fromTypeORM: .*It was released/ });
    } finally {
      await fresh.close();
    }
  });
});

describe("fromTypeORM on SQLite: transaction misuse is a TransactionMisuseError", () => {
  it("a nested transaction()", async () => {
    const ds = await memory().initialize();
    const db = fromTypeORM(ds);
    const nested = await db.transaction!(() => db.transaction!(async () => 0)).catch(
      (e: unknown) => e,
    );
    expect(nested).toBeInstanceOf(TransactionMisuseError);
    expect(nested).toMatchObject({ code: "ERR_PQ_TRANSACTION", message: /do not nest/ });
    await ds.destroy();
  });

  it("a statement on the DataSource's DB while a TypeORM transaction holds the connection too long", async () => {
    const ds = await memory().initialize();
    const db = fromTypeORM(ds, { sqliteBusyTimeoutMs: 20 });
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const open = ds.transaction(() => held);
    await new Promise((r) => setTimeout(r, 10));
    const err = await db.query("SELECT 1").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransactionMisuseError);
    expect(err).toMatchObject({ code: "ERR_PQ_TRANSACTION", message: /fromTypeORM\(manager\)/ });
    release();
    await open;
    await ds.destroy();
  });
});
