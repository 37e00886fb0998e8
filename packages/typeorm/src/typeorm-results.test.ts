// What the adapter normalises over TypeORM's per-driver result shapes.
import { type DB, type SqlValue, UnsupportedError } from "@persistent-queue/core";
import type { TargetKind } from "@persistent-queue/testkit";
import { DataSource } from "typeorm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshDataSource, KINDS } from "../test/fresh.js";
import { fromTypeORM } from "./index.js";

const ph = (kind: TargetKind, n: number) => (kind === "postgres" ? `$${n}` : "?");

for (const kind of KINDS) {
  describe(`fromTypeORM on ${kind}: result normalisation`, () => {
    let fresh: Awaited<ReturnType<typeof freshDataSource>>;
    let db: DB;
    beforeAll(async () => {
      fresh = await freshDataSource(kind);
      db = fromTypeORM(fresh.dataSource);
      const id = { mariadb: "INTEGER AUTO_INCREMENT", postgres: "SERIAL", sqlite: "INTEGER" }[kind];
      await db.exec(`CREATE TABLE probe (id ${id} PRIMARY KEY, v INTEGER NOT NULL, big BIGINT)`);
    });
    afterAll(() => fresh?.close());

    it("reads the dialect family from the DataSource's type option", () => {
      expect(db.dialect).toBe({ mariadb: "mysql", postgres: "postgres", sqlite: "sqlite" }[kind]);
      expect(fromTypeORM(fresh.dataSource.manager).dialect).toBe(db.dialect);
    });

    it("counts matched rows on UPDATE, also when no value changes; insertId only after an INSERT", async () => {
      const ins = await db.exec(`INSERT INTO probe (v) VALUES (${ph(kind, 1)})`, [5]);
      await db.exec(`INSERT INTO probe (v) VALUES (${ph(kind, 1)})`, [5]);
      if (kind === "postgres") expect(ins.insertId).toBeUndefined();
      else expect(Number(ins.insertId)).toBe(1);
      const same = await db.exec(`UPDATE probe SET v = ${ph(kind, 1)}`, [5]);
      expect(same).toEqual({ affectedRows: 2, insertId: undefined });
      expect(
        (await db.exec(`UPDATE probe SET v = 6 WHERE id = ${ph(kind, 1)}`, [99])).affectedRows,
      ).toBe(0);
    });

    it("binds booleans as 1/0, so they compare with integer columns on every database", async () => {
      const rows = await db.query(`SELECT id FROM probe WHERE id = ${ph(kind, 1)}`, [
        true as unknown as SqlValue,
      ]);
      expect(rows.map((r) => Number(r.id))).toEqual([1]);
    });

    it("binds a Date as an instant the database reads back (UTC text on SQLite, which cannot bind Dates)", async () => {
      const at = new Date(Date.UTC(2030, 0, 2, 3, 4, 5, 678));
      const sql =
        kind === "sqlite"
          ? "SELECT CAST(strftime('%s', ?) AS INTEGER) AS s"
          : kind === "postgres"
            ? "SELECT floor(EXTRACT(EPOCH FROM $1::timestamptz))::bigint AS s"
            : "SELECT UNIX_TIMESTAMP(?) AS s";
      const [row] = await db.query(sql, [at]);
      expect(Math.floor(Number(row?.s))).toBe(Math.floor(at.getTime() / 1000));
    });

    it("BIGINT and COUNT(*) read back as exact values (numbers, or digit strings on MySQL/PostgreSQL)", async () => {
      // better-sqlite3 reads integers as JS numbers unless safeIntegers is on (tested below): exact up to 2^53.
      const big = kind === "sqlite" ? BigInt(Number.MAX_SAFE_INTEGER) : 9007199254740993n;
      await db.exec(`UPDATE probe SET big = ${ph(kind, 1)} WHERE id = 1`, [big]);
      const [row] = await db.query(
        "SELECT big, (SELECT COUNT(*) FROM probe) AS n FROM probe WHERE id = 1",
      );
      expect(BigInt(String(row?.big))).toBe(big);
      expect(Number(row?.n)).toBe(2);
    });
  });
}

describe("fromTypeORM: driver settings that change result shapes", () => {
  it("MySQL without the FOUND_ROWS flag still reports matched rows (read from the server's info line)", async () => {
    const fresh = await freshDataSource("mariadb", { flags: ["-FOUND_ROWS"] });
    try {
      const db = fromTypeORM(fresh.dataSource);
      await db.exec("CREATE TABLE probe (id INTEGER PRIMARY KEY, v INTEGER)");
      await db.exec("INSERT INTO probe (id, v) VALUES (1, 5), (2, 5)");
      // The driver itself now says 0 for an UPDATE that changes nothing:
      const raw = await fresh.dataSource.query("UPDATE probe SET v = 5");
      expect(raw.affectedRows).toBe(0);
      expect((await db.exec("UPDATE probe SET v = ?", [5])).affectedRows).toBe(2);
    } finally {
      await fresh.close();
    }
  });

  it("SQLite with better-sqlite3's safeIntegers: bigint cells come back as numbers when exact", async () => {
    const fresh = await freshDataSource("sqlite", {
      prepareDatabase: (conn: { defaultSafeIntegers(on: boolean): void }) =>
        conn.defaultSafeIntegers(true),
    } as object);
    try {
      const db = fromTypeORM(fresh.dataSource);
      expect(typeof (await fresh.dataSource.query("SELECT 7 AS v"))[0].v).toBe("bigint");
      const [row] = await db.query("SELECT 7 AS v, 9007199254740993 AS big");
      expect(row).toEqual({ v: 7, big: 9007199254740993n });
    } finally {
      await fresh.close();
    }
  });

  it("refuses a DataSource type it cannot serve, naming the ones it can", () => {
    const ds = new DataSource({
      type: "cockroachdb",
      url: "postgres://127.0.0.1:1/none",
      timeTravelQueries: false,
    });
    expect(() => fromTypeORM(ds)).toThrow(UnsupportedError);
    expect(() => fromTypeORM(ds)).toThrow(/better-sqlite3/);
  });
});
