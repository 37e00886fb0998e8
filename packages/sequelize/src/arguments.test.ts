// fromSequelize checks its arguments at once; transaction misuse is a typed error.
import { TransactionMisuseError } from "@persistent-queue/core";
import { createSqliteFile, expectRefused } from "@persistent-queue/testkit";
import mysql from "mysql2/promise";
import pg from "pg";
import { Sequelize } from "sequelize";
import { afterAll, describe, expect, it } from "vitest";
import { fromSequelize } from "./index.js";

// Pools are created, never connected: port 1 is closed, and the password must never be printed.
const PG_URL = "postgres://user:s3cret@127.0.0.1:1/x";
const mysqlPool = mysql.createPool("mysql://user:s3cret@127.0.0.1:1/x");
const pgPool = new pg.Pool({ connectionString: PG_URL });
const memory = () => new Sequelize({ dialect: "sqlite", storage: ":memory:", logging: false });
const other = memory();
afterAll(async () => {
  await mysqlPool.end();
  await pgPool.end();
  await other.close();
});

describe("fromSequelize refuses what is not a Sequelize instance, with a typed error", () => {
  it.each([
    ["undefined", () => undefined, /got undefined\./],
    ["null", () => null, /got null\./],
    ["a connection string", () => PG_URL, /got a string\./],
    ["a raw node-postgres Pool", () => pgPool, /node-postgres Pool.*fromPg/],
    ["a raw mysql2 pool", () => mysqlPool, /mysql2 pool.*fromMysql2/],
    ["the Sequelize class, not an instance", () => Sequelize, /got a function\./],
    ["a Promise", () => Promise.resolve(other), /got a Promise\. .*await it/],
  ])("%s", (_name, make, says) => {
    expectRefused(
      () => fromSequelize(make() as never),
      "fromSequelize",
      /^fromSequelize: expected a Sequelize instance/,
      says,
    );
  });

  it("options.transaction must be a Transaction of that same instance", async () => {
    const sequelize = memory();
    try {
      expectRefused(
        () => fromSequelize(sequelize, { transaction: sequelize as never }),
        "fromSequelize",
        /^fromSequelize: expected a Sequelize Transaction as options\.transaction/,
        /got a Sequelize\. Pass the Transaction that sequelize\.transaction\(\) gives\./,
      );
      const foreign = await other.transaction();
      expectRefused(
        () => fromSequelize(sequelize, { transaction: foreign }),
        "fromSequelize",
        /options\.transaction/,
        /another Sequelize instance/,
      );
      await foreign.rollback();
    } finally {
      await sequelize.close();
    }
  });
});

describe("fromSequelize on SQLite: transaction misuse is a TransactionMisuseError", () => {
  it("a finished transaction, and a nested transaction()", async () => {
    const file = await createSqliteFile();
    const sequelize = new Sequelize({ dialect: "sqlite", storage: file.path, logging: false });
    try {
      const t = await sequelize.transaction();
      await t.commit();
      const finished = await fromSequelize(sequelize, { transaction: t })
        .exec("SELECT 1")
        .catch((e: unknown) => e);
      expect(finished).toBeInstanceOf(TransactionMisuseError);
      expect(finished).toMatchObject({
        code: "ERR_PQ_TRANSACTION",
        message: /^fromSequelize: the transaction has already finished \(commit\)/,
      });
      const db = fromSequelize(sequelize);
      const nested = await db.transaction!(() => db.transaction!(async () => 0)).catch(
        (e: unknown) => e,
      );
      expect(nested).toBeInstanceOf(TransactionMisuseError);
      expect(nested).toMatchObject({ code: "ERR_PQ_TRANSACTION", message: /do not nest/ });
    } finally {
      await sequelize.close();
      await file.cleanup();
    }
  });
});
