// fromKnex checks its argument at once; another Knex client is unsupported;
// transaction misuse is a typed error.
import { TransactionMisuseError, UnsupportedError } from "@persistent-queue/core";
import { createSqliteFile, expectRefused, thrown } from "@persistent-queue/testkit";
import knexFactory from "knex";
import mysql from "mysql2/promise";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { createQueueMigration, fromKnex } from "./index.js";

// Pools are created, never connected: port 1 is closed, and the password must never be printed.
const PG_URL = "postgres://user:s3cret@127.0.0.1:1/x";
const mysqlPool = mysql.createPool("mysql://user:s3cret@127.0.0.1:1/x");
const pgPool = new pg.Pool({ connectionString: PG_URL });
afterAll(async () => {
  await mysqlPool.end();
  await pgPool.end();
});

describe("fromKnex refuses what is not a Knex instance or transaction, with a typed error", () => {
  it.each([
    ["undefined", () => undefined, /got undefined\./],
    ["null", () => null, /got null\./],
    ["a connection string", () => PG_URL, /got a string\./],
    ["a raw node-postgres Pool", () => pgPool, /node-postgres Pool.*fromPg/],
    ["a raw mysql2 pool", () => mysqlPool, /mysql2 pool.*fromMysql2/],
    ["a Knex config object", () => ({ client: "pg", connection: PG_URL }), /got an object/],
    [
      "a Promise",
      () => Promise.resolve(knexFactory({ client: "pg" })),
      /got a Promise\. .*await it/,
    ],
  ])("%s", (_name, make, says) => {
    expectRefused(
      () => fromKnex(make() as never),
      "fromKnex",
      /^fromKnex: expected a Knex instance or transaction \(knex\(\{ client: 'mysql2' \| 'pg' \| 'better-sqlite3', … \}\), or a trx\); /,
      says,
    );
  });

  it("a Knex instance on another client is unsupported, naming the client", async () => {
    const knex = knexFactory({
      client: "sqlite3",
      connection: { filename: ":memory:" },
      useNullAsDefault: true,
    });
    try {
      const err = thrown(() => fromKnex(knex));
      expect(err).toBeInstanceOf(UnsupportedError);
      expect(err).toMatchObject({
        code: "ERR_PQ_UNSUPPORTED",
        message:
          /^fromKnex: Knex's sqlite3 client is not supported; use the mysql2, pg or better-sqlite3 client\.$/,
      });
    } finally {
      await knex.destroy();
    }
  });

  it("the migration refuses a Knex client it has no DDL for, and table names core refuses", async () => {
    const knex = knexFactory({ client: "mssql" });
    await expect(createQueueMigration().up(knex)).rejects.toMatchObject({
      code: "ERR_PQ_UNSUPPORTED",
      message: /Knex's mssql dialect is not supported/,
    });
    expect(thrown(() => createQueueMigration({ jobs: "jobs; DROP TABLE x" }))).toMatchObject({
      code: "ERR_PQ_IDENTIFIER",
    });
    await knex.destroy();
  });
});

describe("fromKnex on better-sqlite3: transaction misuse is a TransactionMisuseError", () => {
  const knex = knexFactory({
    client: "better-sqlite3",
    connection: { filename: ":memory:" },
    useNullAsDefault: true,
  });
  const db = fromKnex(knex);
  afterAll(() => knex.destroy());

  it("a nested transaction()", async () => {
    await db.transaction!(async () => {
      const nested = await db.transaction!(async () => 0).catch((e: unknown) => e);
      expect(nested).toBeInstanceOf(TransactionMisuseError);
      expect(nested).toMatchObject({ code: "ERR_PQ_TRANSACTION", message: /do not nest/ });
    });
  });

  it("a DB bound to a Knex transaction that has ended", async () => {
    const trx = await knex.transaction();
    const tx = fromKnex(trx);
    expect(await tx.query("SELECT 1 AS one")).toEqual([{ one: 1 }]);
    await trx.commit();
    const err = await tx.exec("SELECT 1").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransactionMisuseError);
  });
});

describe("fromKnex on better-sqlite3: the connection's settings", () => {
  it("switches a file database to WAL and sets the busy timeout on first use; sqliteWal: false leaves the journal alone", async () => {
    for (const sqliteWal of [undefined, false]) {
      const file = await createSqliteFile();
      const knex = knexFactory({
        client: "better-sqlite3",
        connection: { filename: file.path },
        useNullAsDefault: true,
      });
      try {
        const db = fromKnex(knex, { sqliteWal, sqliteBusyTimeoutMs: 1234 });
        expect(await db.query("PRAGMA journal_mode")).toEqual([
          { journal_mode: sqliteWal === false ? "delete" : "wal" },
        ]);
        expect(await db.query("PRAGMA busy_timeout")).toEqual([{ timeout: 1234 }]);
      } finally {
        await knex.destroy();
        await file.cleanup();
      }
    }
  });
});
