// What the adapter normalises, on real databases: BigInt, Decimal, Dates,
// matched rows, insert ids, driver error codes, the dialect, and close().
import { fromPrisma } from "@persistent-queue/prisma";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Fresh, fresh, KINDS } from "../test/fresh.js";

const FAMILY = { mariadb: "mysql", postgres: "postgres", sqlite: "sqlite" } as const;

for (const kind of KINDS) {
  describe(`prisma on ${kind}: results and parameters`, () => {
    let fx: Fresh;
    const p = (n: number) => (kind === "postgres" ? `$${n}` : "?");
    beforeAll(async () => {
      fx = await fresh(kind);
      await fx.db.exec(
        kind === "postgres"
          ? "CREATE TABLE probe (id BIGSERIAL PRIMARY KEY, v BIGINT, at TIMESTAMPTZ(3), amount DECIMAL(10,2))"
          : kind === "mariadb"
            ? "CREATE TABLE probe (id BIGINT AUTO_INCREMENT PRIMARY KEY, v BIGINT, at TIMESTAMP(3) NULL, amount DECIMAL(10,2))"
            : // BIGINT, not INTEGER: PrismaBetterSqlite3 reads a column declared INTEGER as a
              // double, so past 2^53 it loses digits (see README); BIGINT columns read as BigInt.
              "CREATE TABLE probe (id INTEGER PRIMARY KEY, v BIGINT, at TEXT, amount NUMERIC)",
      );
    });
    afterAll(() => fx?.close());

    it("reads the dialect family from the client's own configuration, on root and transaction clients", async () => {
      expect(fx.db.dialect).toBe(FAMILY[kind]);
      await fx.prisma.$transaction(async (tx: Fresh["prisma"]) => {
        expect(fromPrisma(tx).dialect).toBe(FAMILY[kind]);
      });
    });

    it("COUNT(*) and BIGINT come back as numbers; past 2^53 as exact BigInts (core's one rule)", async () => {
      await fx.db.exec(`INSERT INTO probe (v) VALUES (${p(1)}), (${p(2)})`, [
        9007199254740993n,
        42,
      ]);
      const rows = await fx.db.query(
        "SELECT v, (SELECT COUNT(*) FROM probe) AS n FROM probe ORDER BY id",
      );
      expect(rows).toEqual([
        { v: 9007199254740993n, n: 2 },
        { v: 42, n: 2 },
      ]);
    });

    it("DECIMAL comes back as a string, as mysql2 and pg give it", async () => {
      await fx.db.exec(`INSERT INTO probe (amount) VALUES (${p(1)})`, ["12.50"]);
      const [row] = await fx.db.query("SELECT amount FROM probe WHERE amount IS NOT NULL");
      // SQLite has no DECIMAL: NUMERIC affinity stores a REAL.
      expect(row?.amount).toBe(kind === "sqlite" ? 12.5 : "12.5");
    });

    it("binds a Date as an instant and reads it back (a Date; SQLite: core's UTC text)", async () => {
      const at = new Date(Date.UTC(2031, 4, 6, 7, 8, 9, 123));
      await fx.db.exec(`INSERT INTO probe (v, at) VALUES (7, ${p(1)})`, [at]);
      const [row] = await fx.db.query(`SELECT at FROM probe WHERE v = 7 AND at = ${p(1)}`, [at]);
      if (kind === "sqlite") expect(row?.at).toBe("2031-05-06 07:08:09.123");
      else expect(row?.at).toEqual(at);
    });

    it("counts matched rows on UPDATE even when nothing changes", async () => {
      const all = Number((await fx.db.query("SELECT COUNT(*) AS n FROM probe"))[0]?.n);
      expect((await fx.db.exec("UPDATE probe SET v = v")).affectedRows).toBe(all);
    });

    it("reports the id of an INSERT on mysql and sqlite, also on a transaction client", async () => {
      const viaRoot = await fx.db.exec("INSERT INTO probe (v) VALUES (100)");
      const viaTx = await fx.prisma.$transaction(async (tx: Fresh["prisma"]) =>
        fromPrisma(tx).exec("INSERT INTO probe (v) VALUES (101)"),
      );
      const ids = await fx.db.query("SELECT id, v FROM probe WHERE v IN (100, 101) ORDER BY v");
      if (kind === "postgres") {
        expect(viaRoot.insertId).toBeUndefined();
        expect(viaTx.insertId).toBeUndefined();
      } else {
        expect([viaRoot.insertId, viaTx.insertId]).toEqual(ids.map((r) => r.id));
      }
    });

    it("exposes the driver's error code as `cause`, so core can classify it", async () => {
      const error = await fx.db
        .exec(`INSERT INTO probe (id, v) VALUES (${p(1)}, 1)`, [1])
        .catch((e: unknown) => e);
      const code = (error as { cause?: { code?: string } }).cause?.code;
      expect(code).toBe(
        { mariadb: "1062", postgres: "23505", sqlite: "SQLITE_CONSTRAINT_PRIMARYKEY" }[kind],
      );
    });

    it("close() disconnects, and later calls reject instead of silently reconnecting", async () => {
      const other = await fresh(kind);
      await other.db.ping();
      await other.db.close();
      await expect(other.db.query("SELECT 1")).rejects.toThrow(/closed/);
      await other.close();
    });
  });
}

describe("fromPrisma without a recognisable provider", () => {
  it("says how to name the dialect, and accepts it explicitly", () => {
    const client = {
      $executeRawUnsafe: async () => 0,
      $queryRawUnsafe: async <T>() => [] as T,
    };
    expect(() => fromPrisma(client)).toThrow(/pass \{ dialect/);
    expect(fromPrisma(client, { dialect: "postgres" }).dialect).toBe("postgres");
  });
});
