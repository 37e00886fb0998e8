// fromPGlite on a real in-memory PGlite: what it refuses, how values bind and come back, and how
// its transactions share PGlite's one connection with statements from elsewhere.
import { PGlite } from "@electric-sql/pglite";
import type { DB } from "@persistent-queue/core";
import { TransactionMisuseError } from "@persistent-queue/core";
import { recogniseConnection } from "@persistent-queue/core/adapter";
import { expectRefused } from "@persistent-queue/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fromPGlite } from "./index.js";

describe("fromPGlite refuses what is not a PGlite database or transaction, with a typed error", () => {
  it.each([
    ["undefined", () => undefined, /got undefined\./],
    ["a connection string", () => "postgres://user:s3cret@127.0.0.1:1/x", /A connection string/],
    [
      "an ORM with query() and transaction() but no listen() (Sequelize, TypeORM)",
      () => ({ query: async () => [], transaction: async () => undefined }),
      /got an object\./,
    ],
    ["a Promise of a PGlite (PGlite.create() not awaited)", () => PGlite.create, /got a function/],
  ])("%s", (_name, make, says) => {
    expectRefused(
      () => fromPGlite(make() as never),
      "fromPGlite",
      /^fromPGlite: expected a PGlite database or transaction/,
      says,
    );
  });

  it("a Promise (a forgotten await)", () => {
    const pending = Promise.resolve({});
    expectRefused(
      () => fromPGlite(pending as never),
      "fromPGlite",
      /^fromPGlite: expected a PGlite/,
      /await it/,
    );
  });
});

describe("fromPGlite on an in-memory PGlite", () => {
  let pg: PGlite;
  let db: DB;
  beforeAll(async () => {
    pg = await PGlite.create();
    db = fromPGlite(pg);
    await db.exec(
      "CREATE TABLE t (id BIGSERIAL PRIMARY KEY, n INTEGER, flag BOOLEAN, doc JSON, at TIMESTAMPTZ)",
    );
  });
  afterAll(() => pg.close());

  it("binds core's values: JSON text, 1 for true, Dates as timestamptz, bigints", async () => {
    const at = new Date("2026-11-29T12:34:56.789Z");
    // Core sends JSON as text into json_to_recordset($1::json); PGlite must not re-encode it.
    const rows = await db.query(
      "SELECT * FROM json_to_recordset($1::json) AS r(a INTEGER, b TEXT)",
      [
        JSON.stringify([
          { a: 1, b: "x" },
          { a: 2, b: "y" },
        ]),
      ],
    );
    expect(rows).toEqual([
      { a: 1, b: "x" },
      { a: 2, b: "y" },
    ]);
    // A boolean from a caller's own statement is bound as 1 (core's bindParams), as core binds one.
    await db.exec("INSERT INTO t (n, flag, doc, at) VALUES ($1, $2, $3, $4)", [
      true as never,
      1,
      '{"k":[1,2]}',
      at,
    ]);
    const [row] = await db.query(
      "SELECT n, flag, doc, at, $1::int8 AS big, $2::int8 AS small FROM t",
      [2n ** 62n, 42n],
    );
    expect(row).toEqual({ n: 1, flag: true, doc: { k: [1, 2] }, at, big: 2n ** 62n, small: 42 });
  });

  it("int8 results follow core's rule: a number when it fits a safe integer, else a bigint", async () => {
    const [row] = await db.query(
      "SELECT 9007199254740991::int8 AS max, 9007199254740992::int8 AS past, COUNT(*) AS n FROM t",
    );
    expect(row).toEqual({ max: Number.MAX_SAFE_INTEGER, past: 2n ** 53n, n: 1 });
  });

  it("affectedRows: rows matched by UPDATE and DELETE, inserted by INSERT", async () => {
    await db.exec("INSERT INTO t (n) VALUES ($1), ($2), ($3)", [10, 11, 12]);
    expect((await db.exec("UPDATE t SET n = n + 1 WHERE n >= $1", [10])).affectedRows).toBe(3);
    expect((await db.exec("UPDATE t SET n = 0 WHERE n < 0")).affectedRows).toBe(0);
    expect((await db.exec("DELETE FROM t WHERE n > $1", [10])).affectedRows).toBe(3);
    expect((await db.exec("INSERT INTO t (n) VALUES (1)")).insertId).toBeUndefined();
  });

  it("a statement from outside waits for the transaction, and never runs inside it", async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let written!: () => void;
    const inside = new Promise<void>((r) => (written = r));
    const tx = db.transaction!(async (t) => {
      await t.exec("INSERT INTO t (n) VALUES (777)");
      written();
      await held;
    });
    await inside;
    let outsideDone = false;
    const outside = db
      .query<{ c: number }>("SELECT COUNT(*) AS c FROM t WHERE n = 777")
      .then(([r]) => {
        outsideDone = true;
        return r?.c;
      });
    await new Promise((r) => setTimeout(r, 100));
    expect(outsideDone).toBe(false); // held by PGlite until the transaction ends
    release();
    await tx;
    expect(await outside).toBe(1); // ran after COMMIT, on its own
  });

  it("the same holds for a transaction you open on PGlite yourself", async () => {
    const order: string[] = [];
    const mine = pg.transaction(async (t) => {
      await t.query("INSERT INTO t (n) VALUES (778)");
      await new Promise((r) => setTimeout(r, 100));
      await t.rollback();
      order.push("rolled back");
    });
    await new Promise((r) => setTimeout(r, 20));
    const [row] = await db.query<{ c: number }>("SELECT COUNT(*) AS c FROM t WHERE n = 778");
    order.push(`outside saw ${row?.c}`);
    await mine;
    expect(order).toEqual(["rolled back", "outside saw 0"]);
  });

  it("a statement through the root DB from inside fn joins the transaction instead of waiting forever", async () => {
    await expect(
      db.transaction!(async (t) => {
        await t.exec("INSERT INTO t (n) VALUES (779)");
        const [row] = await db.query<{ c: number }>("SELECT COUNT(*) AS c FROM t WHERE n = 779");
        expect(row?.c).toBe(1);
        throw new Error("undo");
      }),
    ).rejects.toThrow("undo");
    const [row] = await db.query<{ c: number }>("SELECT COUNT(*) AS c FROM t WHERE n = 779");
    expect(row?.c).toBe(0);
  });

  it("refuses a nested transaction; a transaction-bound DB has none, and close() leaves it open", async () => {
    await db.transaction!(async (t) => {
      expect(t.transaction).toBeUndefined();
      expect(t.listen).toBeUndefined();
      await t.close();
      await expect(db.transaction!(async () => undefined)).rejects.toBeInstanceOf(
        TransactionMisuseError,
      );
      await t.exec("INSERT INTO t (n) VALUES (780)");
    });
    expect(pg.closed).toBe(false);
    expect((await db.query("SELECT n FROM t WHERE n = 780")).length).toBe(1);
    // Your own pg.transaction()'s tx, adapted: the job is part of it.
    await pg.transaction(async (tx) => {
      await fromPGlite(tx).exec("INSERT INTO t (n) VALUES (781)");
      await tx.rollback();
    });
    expect((await db.query("SELECT n FROM t WHERE n = 781")).length).toBe(0);
  });

  it("listen(): NOTIFY from this database, delivered on commit; unlisten stops it", async () => {
    const got: string[] = [];
    const unlisten = await db.listen!("pq_Wake", (payload) => got.push(payload));
    await db.transaction!(async (t) => {
      await t.exec("SELECT pg_notify('pq_Wake', 'in tx')");
      await new Promise((r) => setTimeout(r, 20));
      expect(got).toEqual([]);
    });
    await db.exec(`NOTIFY "pq_Wake", 'direct'`);
    expect(got).toEqual(["in tx", "direct"]);
    await unlisten();
    await db.exec(`NOTIFY "pq_Wake", 'after'`);
    expect(got).toEqual(["in tx", "direct"]);
  });

  it("other adapters' refusals name fromPGlite when given a PGlite", () => {
    expect(recogniseConnection(pg)).toMatch(
      /PGlite database: fromPGlite from @persistent-queue\/pglite/,
    );
  });

  it("close() closes the PGlite it was given; later calls reject", async () => {
    const own = await PGlite.create();
    const ownDb = fromPGlite(own);
    await ownDb.ping();
    await ownDb.close();
    expect(own.closed).toBe(true);
    await ownDb.close(); // twice is fine
    await expect(ownDb.query("SELECT 1")).rejects.toThrow(/closed/);
  });
});
