// fromPrisma checks its argument at once; an unsupported provider and a closed DB are typed errors.
import {
  AdapterArgumentError,
  ConfigError,
  type DialectFamily,
  UnsupportedError,
} from "@persistent-queue/core";
import { expectRefused, thrown } from "@persistent-queue/testkit";
import { PrismaPg } from "@prisma/adapter-pg";
import Database from "better-sqlite3";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { fromPrisma } from "./index.js";

// Pools are created, never connected: port 1 is closed, and the password must never be printed.
const PG_URL = "postgres://user:s3cret@127.0.0.1:1/x";
const pgPool = new pg.Pool({ connectionString: PG_URL });
const sqlite = new Database(":memory:");
afterAll(async () => {
  await pgPool.end();
  sqlite.close();
});

/** The shape of a Prisma 7 client, without a database behind it. */
const fakeClient = (provider?: string) => ({
  _activeProvider: provider,
  $executeRawUnsafe: async () => 0,
  $queryRawUnsafe: async <T>() => [{ one: 1 }] as T,
  $transaction: async <R>(fn: (tx: never) => Promise<R>) => fn(fakeClient(provider) as never),
  $disconnect: async () => {},
});

describe("fromPrisma refuses what is not a Prisma client, with a typed error", () => {
  it.each([
    ["undefined", () => undefined, /got undefined\./],
    ["null", () => null, /got null\./],
    ["a connection string", () => PG_URL, /got a string\./],
    ["a raw node-postgres Pool", () => pgPool, /node-postgres Pool.*fromPg/],
    ["the PrismaPg driver adapter", () => new PrismaPg(pgPool), /got a PrismaPg\w*\./],
    ["a better-sqlite3 Database", () => sqlite, /better-sqlite3 Database.*fromBetterSqlite3/],
    ["a Promise", () => Promise.resolve(fakeClient("postgresql")), /got a Promise\. .*await it/],
  ])("%s", (_name, make, says) => {
    expectRefused(
      () => fromPrisma(make() as never),
      "fromPrisma",
      /^fromPrisma: expected a PrismaClient or the tx of prisma\.\$transaction/,
      says,
    );
  });

  it("a provider it cannot serve is an UnsupportedError naming the ones it can", () => {
    const err = thrown(() => fromPrisma(fakeClient("sqlserver")));
    expect(err).toBeInstanceOf(UnsupportedError);
    expect(err).toMatchObject({
      code: "ERR_PQ_UNSUPPORTED",
      message:
        /^fromPrisma: the sqlserver provider is not supported; use postgresql, mysql or sqlite\./,
    });
  });

  it("an unreadable provider or a wrong dialect option is a ConfigError saying to pass { dialect }", () => {
    expect(thrown(() => fromPrisma(fakeClient()))).toBeInstanceOf(ConfigError);
    expect(() => fromPrisma(fakeClient())).toThrow(/pass \{ dialect/);
    const wrong = thrown(() => fromPrisma(fakeClient(), { dialect: "mssql" as DialectFamily }));
    expect(wrong).toMatchObject({ code: "ERR_PQ_CONFIG", message: /options\.dialect: must be/ });
  });

  it("a call after close() is an AdapterArgumentError, not a silent reconnect", async () => {
    const db = fromPrisma(fakeClient("postgresql"));
    expect(await db.query("SELECT 1")).toEqual([{ one: 1 }]);
    await db.close();
    const err = await db.query("SELECT 1").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AdapterArgumentError);
    expect(err).toMatchObject({
      code: "ERR_PQ_ADAPTER_ARGUMENT",
      message: /^fromPrisma: .*closed/,
    });
    await expect(db.transaction!(async () => 0)).rejects.toBeInstanceOf(AdapterArgumentError);
  });
});
