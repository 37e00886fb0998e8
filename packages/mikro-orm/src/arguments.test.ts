// fromMikroORM checks its argument at once; an unsupported driver, a closed DB and a nested
// SQLite transaction are typed errors.
import {
  AdapterArgumentError,
  TransactionMisuseError,
  UnsupportedError,
} from "@persistent-queue/core";
import { expectRefused, thrown } from "@persistent-queue/testkit";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { freshOrm } from "../test/fresh.js";
import { missing } from "../test/open.mjs";
import { fromMikroORM } from "./index.js";

// Created, never connected: port 1 is closed, and the password must never be printed.
const PG_URL = "postgres://user:s3cret@127.0.0.1:1/x";
const pgPool = new pg.Pool({ connectionString: PG_URL });
afterAll(() => pgPool.end());

const EXPECTED = /^fromMikroORM: expected a MikroORM EntityManager \(orm\.em, em\.fork\(\), /;

describe("fromMikroORM refuses what is not an EntityManager, with a typed error", () => {
  it.each([
    ["undefined", () => undefined, /got undefined\./],
    ["null", () => null, /got null\./],
    ["a connection string", () => PG_URL, /got a string\./],
    ["MikroORM options", () => ({ clientUrl: PG_URL }), /got an object\./],
    ["a raw node-postgres Pool", () => pgPool, /node-postgres Pool.*fromPg/],
    ["a Promise (MikroORM.init() not awaited)", () => Promise.resolve({}), /got a Promise\./],
  ])("%s", (_name, make, says) => {
    expectRefused(() => fromMikroORM(make() as never), "fromMikroORM", EXPECTED, says);
  });
});

describe.skipIf(missing !== undefined)("fromMikroORM on a real MikroORM", () => {
  it("the MikroORM instance itself is refused with a hint to pass orm.em", async () => {
    const { orm, close } = await freshOrm("sqlite");
    try {
      expectRefused(() => fromMikroORM(orm as never), "fromMikroORM", EXPECTED, /Pass orm\.em\./);
    } finally {
      await close();
    }
  });

  it("a driver other than MySQL/MariaDB, PostgreSQL and SQLite is an UnsupportedError that names the supported ones", async () => {
    const { orm, close } = await freshOrm("sqlite");
    try {
      // A driver class this adapter was not tested with (as MongoDB's or libSQL's), on a real em.
      class LibSqlDriver {}
      const em = Object.create(orm.em, { getDriver: { value: () => new LibSqlDriver() } });
      const err = thrown(() => fromMikroORM(em));
      expect(err).toBeInstanceOf(UnsupportedError);
      expect(err).toMatchObject({
        message:
          /^fromMikroORM: the MikroORM driver LibSqlDriver is not supported; use @mikro-orm\/mysql/,
      });
      // MariaDbDriver extends MySqlDriver; subclasses of a supported driver count as it.
      expect(fromMikroORM(orm.em).dialect).toBe("sqlite");
    } finally {
      await close();
    }
  });

  it("after close(), the DB refuses (MikroORM itself would reconnect)", async () => {
    const { orm, close } = await freshOrm("postgres");
    try {
      const db = fromMikroORM(orm.em);
      expect(await db.query("SELECT 1 AS one")).toEqual([{ one: 1 }]);
      await db.close();
      expect(await orm.isConnected()).toBe(false);
      const err = await db.query("SELECT 1").catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AdapterArgumentError);
      expect(err).toMatchObject({ message: /close\(\) closed the ORM's connection/ });
    } finally {
      await close();
    }
  });

  it("SQLite: a nested db.transaction() is a TransactionMisuseError", async () => {
    const { orm, close } = await freshOrm("sqlite");
    try {
      const db = fromMikroORM(orm.em.fork());
      const nested = await db.transaction!(() => db.transaction!(async () => 0)).catch(
        (e: unknown) => e,
      );
      expect(nested).toBeInstanceOf(TransactionMisuseError);
      expect(nested).toMatchObject({ code: "ERR_PQ_TRANSACTION", message: /do not nest/ });
    } finally {
      await close();
    }
  });

  it("SQLite: a statement from inside db.transaction(fn) on the outer DB joins the transaction instead of waiting for it", async () => {
    const { orm, close } = await freshOrm("sqlite");
    try {
      const db = fromMikroORM(orm.em.fork());
      await db.exec("CREATE TABLE t (x INTEGER)");
      await expect(
        db.transaction!(async (tx) => {
          await tx.exec("INSERT INTO t (x) VALUES (?)", [1]);
          await db.exec("INSERT INTO t (x) VALUES (?)", [2]); // the outer DB: in the same transaction
          expect(await db.query("SELECT COUNT(*) AS n FROM t")).toEqual([{ n: 2 }]);
          throw new Error("undo");
        }),
      ).rejects.toThrow("undo");
      expect(await db.query("SELECT COUNT(*) AS n FROM t")).toEqual([{ n: 0 }]);
    } finally {
      await close();
    }
  });
});
