// MySQL 8 has no INSERT … RETURNING: its dialect takes the ids from the driver's
// insert id (the first of a multi-row INSERT; the rest follow it). No MySQL 8
// server runs here, so the MySQL dialect object is given to a DB on MariaDB,
// which runs the same INSERT: the ids it derives must be the rows' real ids.
import { type DB, migrate, PersistentQueue } from "@persistent-queue/core";
import { mysqlDialect } from "@persistent-queue/core/adapter";
import { createDatabase } from "@persistent-queue/testkit";
import mysql from "mysql2/promise";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { fromMysql2 } from "./index.js";

describe("the MySQL 8 dialect's enqueue (no RETURNING), on MariaDB", () => {
  let pool: mysql.Pool;
  let db: DB;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    const database = await createDatabase({ kind: "mariadb", url: inject("pqMysqlUrl") });
    drop = database.drop;
    pool = mysql.createPool({ uri: database.url, connectionLimit: 2 });
    await migrate(fromMysql2(pool));
    const mariadb = fromMysql2(pool);
    db = { ...mariadb, dialect: mysqlDialect("mysql", "8.0.36") };
  });
  afterAll(async () => {
    await pool?.end();
    await drop?.();
  });

  it("add() and addMany() resolve the ids the rows got, in order, across INSERT batches", async () => {
    const queue = new PersistentQueue({ db, serviceName: "mysql8", jobs: [] });
    const one = await queue.add(801, { n: -1 });
    const many = await queue.addMany(
      Array.from({ length: 1500 }, (_, n) => ({ jobType: 801, params: { n } })),
    );
    const [rows] = await pool.query(
      "SELECT id, params FROM async_job_tab WHERE job_type = 801 ORDER BY id",
    );
    const stored = (rows as { id: number; params: string }[]).map((r) => [
      Number(r.id),
      JSON.parse(r.params).n,
    ]);
    expect(stored).toEqual([one, ...many].map((id, i) => [id, i - 1]));
    expect(new Set(many).size).toBe(1500);
  });
});
