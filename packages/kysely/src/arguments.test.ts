// fromKysely checks its arguments at once: what is not a Kysely instance, a dialect it
// cannot tell or cannot serve, and a bad option are typed errors saying what to pass.
import { ConfigError, UnsupportedError } from "@persistent-queue/core";
import { expectRefused, thrown } from "@persistent-queue/testkit";
import Database from "better-sqlite3";
import {
  CamelCasePlugin,
  type DialectAdapter,
  Kysely,
  MssqlAdapter,
  MysqlDialect,
  PostgresAdapter,
  PostgresDialect,
  SqliteDialect,
} from "kysely";
import { createPool } from "mysql2";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { fromKysely } from "./index.js";

// Pools are created, never connected: port 1 is closed, and the password must never be printed.
const PG_URL = "postgres://user:s3cret@127.0.0.1:1/x";
const pgPool = new pg.Pool({ connectionString: PG_URL });
const mysqlPool = createPool("mysql://user:s3cret@127.0.0.1:1/x");
const sqlite = new Database(":memory:");
const onPg = new Kysely({ dialect: new PostgresDialect({ pool: pgPool }) });
afterAll(async () => {
  await pgPool.end();
  await new Promise((resolve) => mysqlPool.end(resolve));
  sqlite.close();
});

/** A Kysely instance on a dialect whose adapter is `adapter` (its driver is never used). */
function onAdapter(adapter: DialectAdapter) {
  const sqliteDialect = new SqliteDialect({ database: sqlite });
  return new Kysely({
    dialect: {
      createAdapter: () => adapter,
      createDriver: () => sqliteDialect.createDriver(),
      createQueryCompiler: () => sqliteDialect.createQueryCompiler(),
      createIntrospector: (db) => sqliteDialect.createIntrospector(db),
    },
  });
}
class SomeoneElsesAdapter extends PostgresAdapter {}

describe("fromKysely refuses what is not a Kysely instance, with a typed error", () => {
  it.each([
    ["undefined", () => undefined, /got undefined\./],
    ["null", () => null, /got null\./],
    ["a connection string", () => PG_URL, /got a string\./],
    ["a raw node-postgres Pool", () => pgPool, /node-postgres Pool.*fromPg/],
    ["a better-sqlite3 Database", () => sqlite, /better-sqlite3 Database.*fromBetterSqlite3/],
    ["a Kysely dialect", () => new PostgresDialect({ pool: pgPool }), /got a PostgresDialect\./],
    ["a Promise", () => Promise.resolve(onPg), /got a Promise\. .*await it/],
  ])("%s", (_name, make, says) => {
    expectRefused(
      () => fromKysely(make() as never),
      "fromKysely",
      /^fromKysely: expected a Kysely instance or transaction/,
      says,
    );
  });

  it("options.pgPool that is not a pg Pool", () => {
    expectRefused(
      () => fromKysely(onPg, { pgPool: PG_URL as never }),
      "fromKysely",
      /^fromKysely: expected a node-postgres Pool as options\.pgPool/,
      /got a string\./,
    );
  });
});

describe("fromKysely tells the SQL family from the dialect's adapter", () => {
  it("MysqlDialect, PostgresDialect and SqliteDialect, without connecting", () => {
    const onMysql = new Kysely({ dialect: new MysqlDialect({ pool: mysqlPool }) });
    const onSqlite = new Kysely({ dialect: new SqliteDialect({ database: sqlite }) });
    expect(fromKysely(onMysql).dialect).toBe("mysql");
    expect(fromKysely(onPg).dialect).toBe("postgres");
    expect(fromKysely(onSqlite).dialect).toBe("sqlite");
    // Plugins change nothing: the DB runs without them.
    expect(fromKysely(onPg.withPlugin(new CamelCasePlugin())).dialect).toBe("postgres");
    // listen only with the pg Pool.
    expect(fromKysely(onPg).listen).toBeUndefined();
    expect(fromKysely(onPg, { pgPool }).listen).toBeTypeOf("function");
    expect(fromKysely(onSqlite).listen).toBeUndefined();
  });

  it("MssqlDialect is an UnsupportedError naming the dialects it serves", () => {
    const err = thrown(() => fromKysely(onAdapter(new MssqlAdapter())));
    expect(err).toBeInstanceOf(UnsupportedError);
    expect(err).toMatchObject({
      code: "ERR_PQ_UNSUPPORTED",
      message:
        /^fromKysely: Kysely's MssqlDialect is not supported; use MysqlDialect, PostgresDialect or SqliteDialect\./,
    });
  });

  it("an adapter it does not know is a ConfigError naming options.dialect; with it, it is used", () => {
    const other = onAdapter(new SomeoneElsesAdapter());
    const err = thrown(() => fromKysely(other));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err).toMatchObject({
      code: "ERR_PQ_CONFIG",
      message:
        /options\.dialect.*SomeoneElsesAdapter.*pass \{ dialect: "mysql" \| "postgres" \| "sqlite" \}/,
    });
    expect(fromKysely(other, { dialect: "postgres" }).dialect).toBe("postgres");
  });

  it("options.dialect that is no family, or contradicts the adapter, is a ConfigError", () => {
    const wrong = thrown(() => fromKysely(onPg, { dialect: "mssql" as never }));
    expect(wrong).toBeInstanceOf(ConfigError);
    expect(wrong).toMatchObject({
      message: /options\.dialect: must be "mysql", "postgres" or "sqlite"/,
    });
    const contradicts = thrown(() => fromKysely(onPg, { dialect: "mysql" }));
    expect(contradicts).toBeInstanceOf(ConfigError);
    expect(contradicts).toMatchObject({
      message: /says "mysql", but .*PostgresAdapter speaks postgres/,
    });
  });
});
