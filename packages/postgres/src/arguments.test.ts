// fromPostgresJs checks its argument at once, and says what it expected and what it got.
import { UnsupportedError } from "@persistent-queue/core";
import { recogniseConnection } from "@persistent-queue/core/adapter";
import { expectRefused, thrown } from "@persistent-queue/testkit";
import pg from "pg";
import postgres from "postgres";
import { afterAll, describe, expect, it } from "vitest";
import { fromPostgresJs } from "./index.js";

// Made, never connected (postgres.js connects on the first query): port 1 is closed, and the
// password must never be printed.
const PG_URL = "postgres://user:s3cret@127.0.0.1:1/x";
const pgPool = new pg.Pool({ connectionString: PG_URL });
const sql = postgres(PG_URL);
afterAll(async () => {
  await pgPool.end();
  await sql.end();
});

describe("fromPostgresJs refuses what is not a postgres.js Sql or transaction, with a typed error", () => {
  it.each([
    ["undefined", () => undefined, /got undefined\./],
    ["null", () => null, /got null\./],
    ["a connection string", () => PG_URL, /got a string\. A connection string is not/],
    ["a node-postgres Pool", () => pgPool, /got a BoundPool\. .*node-postgres Pool.*fromPg/],
    [
      "a Promise of an Sql (a forgotten await)",
      () => Promise.resolve(sql),
      /got a Promise\. .*await it/,
    ],
  ])("%s", (_name, make, says) => {
    expectRefused(
      () => fromPostgresJs(make() as never),
      "fromPostgresJs",
      /^fromPostgresJs: expected a postgres\.js Sql or transaction/,
      says,
    );
  });

  it("refuses an Sql that transforms results: the queue could not read its own rows", async () => {
    const camel = postgres(PG_URL, { transform: postgres.camel });
    const err = thrown(() => fromPostgresJs(camel));
    expect(err).toBeInstanceOf(UnsupportedError);
    expect(err).toMatchObject({ message: /^fromPostgresJs: this Sql transforms results/ });
    await camel.end();
  });

  it("other adapters' refusals name fromPostgresJs when given an Sql", () => {
    expect(recogniseConnection(sql)).toMatch(
      /postgres\.js Sql: fromPostgresJs from @persistent-queue\/postgres/,
    );
  });
});

describe("fromPostgresJs accepts, without connecting", () => {
  it("an Sql: statements, transactions, LISTEN and close()", () => {
    const db = fromPostgresJs(sql);
    expect(db.dialect).toBe("postgres");
    expect(typeof db.transaction).toBe("function");
    expect(typeof db.listen).toBe("function");
  });

  it("a handle without begin() (a transaction, savepoint or reserved connection): statements only", async () => {
    const ran: unknown[] = [];
    const handle = {
      unsafe: async (text: string, params: unknown[]) => {
        ran.push(text, params);
        return Object.assign([], { count: 0 });
      },
      typed: (value: unknown, oid: number) => ({ value, oid }),
    };
    const db = fromPostgresJs(handle);
    expect(db.transaction).toBeUndefined();
    expect(db.listen).toBeUndefined();
    await db.close(); // leaves the transaction alone
    await db.exec("UPDATE t SET a = $1, b = $2, c = $3, d = $4 WHERE e = $5", [
      "x",
      1,
      2n,
      new Date(0),
      null,
    ]);
    // Strings, numbers and bigints are sent as text typed by the server (705, unknown).
    expect(ran).toEqual([
      "UPDATE t SET a = $1, b = $2, c = $3, d = $4 WHERE e = $5",
      [
        { value: "x", oid: 705 },
        { value: 1, oid: 705 },
        { value: 2n, oid: 705 },
        { value: "1970-01-01T00:00:00.000Z", oid: 1184 },
        null,
      ],
    ]);
  });
});
