// Enqueue inside Drizzle's own transactions (commit and rollback, on each
// driver), and the adapter's normalisations, on real databases.
import { type DB, JobStatus, migrate, PersistentQueue } from "@persistent-queue/core";
import type { TargetKind } from "@persistent-queue/testkit";
import type BetterSqlite3 from "better-sqlite3";
import type { BetterSQLite3Database } from "drizzle-orm/better-sqlite3";
import { int, mysqlTable, varchar } from "drizzle-orm/mysql-core";
import { drizzle as drizzleMysql, type MySql2Database } from "drizzle-orm/mysql2";
import { drizzle as drizzlePg, type NodePgDatabase } from "drizzle-orm/node-postgres";
import { integer, pgTable, varchar as pgVarchar } from "drizzle-orm/pg-core";
import { drizzle as drizzlePostgresJs } from "drizzle-orm/postgres-js";
import { integer as sqliteInteger, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { freshDrizzle } from "../test/fresh.js";
import { type DrizzleHandle, fromDrizzle } from "./index.js";

const myOrders = mysqlTable("orders", {
  id: int("id").primaryKey(),
  item: varchar("item", { length: 64 }).notNull(),
});
const pgOrders = pgTable("orders", {
  id: integer("id").primaryKey(),
  item: pgVarchar("item", { length: 64 }).notNull(),
});
const liteOrders = sqliteTable("orders", {
  id: sqliteInteger("id").primaryKey(),
  item: text("item").notNull(),
});

/** One fresh database per kind, migrated, with an orders table and a queue that records what ran. */
function useShop(kind: TargetKind, pgDriver?: "node-postgres" | "postgres-js") {
  let shop: Awaited<ReturnType<typeof freshDrizzle>>;
  const ran: number[] = [];
  const makeQueue = (db: DB) =>
    new PersistentQueue({
      db,
      serviceName: "drizzle-test",
      pollInterval: 50,
      jobs: [{ jobType: 1, handleJob: async (job: { id: number }) => void ran.push(job.id) }],
    });
  let queue: ReturnType<typeof makeQueue>;
  beforeAll(async () => {
    shop = await freshDrizzle(kind, { pgDriver });
    await migrate(shop.db);
    await shop.db.exec("CREATE TABLE orders (id INTEGER PRIMARY KEY, item VARCHAR(64) NOT NULL)");
    queue = makeQueue(shop.db);
    await queue.start();
  });
  afterAll(async () => {
    await queue?.stop({ timeoutMs: 1000 });
    await shop?.close();
  });
  const count = async (sqlText: string) => Number((await shop.db.query(sqlText))[0]?.n);
  return {
    get shop() {
      return shop;
    },
    get queue() {
      return queue;
    },
    ran,
    orders: (id: number) => count(`SELECT COUNT(*) AS n FROM orders WHERE id = ${id}`),
    jobs: (id: number) => count(`SELECT COUNT(*) AS n FROM async_job_tab WHERE id = ${id}`),
    /** Waits until job `id` is Success, then a little more, to catch a second run. */
    async settled(id: number) {
      const deadline = Date.now() + 10_000;
      for (;;) {
        const [row] = await shop.db.query(`SELECT job_status FROM async_job_tab WHERE id = ${id}`);
        if (Number(row?.job_status) === JobStatus.Success) break;
        if (Date.now() > deadline) throw new Error(`job ${id} did not succeed`);
        await new Promise((r) => setTimeout(r, 50));
      }
      await new Promise((r) => setTimeout(r, 300));
    },
  };
}

for (const [kind, pgDriver] of [
  ["mariadb", undefined],
  ["postgres", "node-postgres"],
  ["postgres", "postgres-js"],
] as const) {
  const cell = pgDriver ? `${kind} (${pgDriver})` : kind;
  describe(`drizzle on ${cell}: enqueue in db.transaction(async (tx) => …)`, () => {
    const t = useShop(kind, pgDriver);
    // Drizzle's per-driver types do not unify; each call picks its driver's.
    const transaction = <T>(fn: (tx: DrizzleHandle) => Promise<T>): Promise<T> =>
      kind === "mariadb"
        ? (t.shop.orm as MySql2Database).transaction(fn)
        : (t.shop.orm as NodePgDatabase).transaction(fn);
    const insertOrder = async (tx: DrizzleHandle, id: number, item: string) => {
      if (kind === "mariadb") await (tx as MySql2Database).insert(myOrders).values({ id, item });
      else await (tx as NodePgDatabase).insert(pgOrders).values({ id, item });
    };

    it("committed: the order and its job exist together, and the job runs once", async () => {
      let jobId = 0;
      let invisibleOutside = -1;
      await transaction(async (tx) => {
        await insertOrder(tx, 1, "book");
        jobId = await t.queue.add(1, { orderId: 1 }, { db: fromDrizzle(tx) });
        invisibleOutside = await t.jobs(jobId); // another connection must not see it yet
      });
      expect(invisibleOutside).toBe(0);
      expect(await t.orders(1)).toBe(1);
      expect(await t.jobs(jobId)).toBe(1);
      await t.settled(jobId);
      expect(t.ran.filter((id) => id === jobId)).toEqual([jobId]);
    });

    it("rolled back: neither the order nor the job exists, and nothing runs", async () => {
      let jobId = 0;
      await expect(
        transaction(async (tx) => {
          await insertOrder(tx, 2, "pen");
          jobId = await t.queue.add(1, { orderId: 2 }, { db: fromDrizzle(tx) });
          throw new Error("payment declined");
        }),
      ).rejects.toThrow("payment declined");
      expect(jobId).toBeGreaterThan(0);
      expect(await t.orders(2)).toBe(0);
      expect(await t.jobs(jobId)).toBe(0);
      await new Promise((r) => setTimeout(r, 300));
      expect(t.ran).not.toContain(jobId);
    });

    it("a DB made from tx has no nested transaction and close() leaves the connection alone", async () => {
      await transaction(async (tx) => {
        const db = fromDrizzle(tx);
        expect(db.transaction).toBeUndefined();
        expect(db.listen).toBeUndefined();
        await db.close();
        expect(await db.query("SELECT 1 AS one")).toHaveLength(1);
      });
      await expect(t.shop.db.ping()).resolves.toBeUndefined();
    });

    it("the root DB's transaction() is Drizzle's own db.transaction()", async () => {
      // A second Drizzle instance on the same pool, with a logger: drizzle logs the begin/rollback it sends.
      const logged: string[] = [];
      const logger = { logQuery: (query: string) => void logged.push(query.toLowerCase()) };
      const client = t.shop.orm.$client as never;
      const logging =
        kind === "mariadb"
          ? drizzleMysql(client, { logger })
          : pgDriver === "postgres-js"
            ? drizzlePostgresJs(client, { logger })
            : drizzlePg(client, { logger });
      // postgres-js transactions are postgres.js's own sql.begin(): Drizzle logs no BEGIN, so
      // its db.transaction() is watched instead.
      const opened: string[] = [];
      const drizzleTransaction = logging.transaction.bind(logging) as (fn: unknown) => unknown;
      Object.assign(logging, {
        transaction: (fn: unknown) => {
          opened.push("db.transaction");
          return drizzleTransaction(fn);
        },
      });
      await expect(
        fromDrizzle(logging).transaction!(async (tx) => {
          await tx.exec("INSERT INTO orders (id, item) VALUES (3, 'cup')");
          throw new Error("undo");
        }),
      ).rejects.toThrow("undo");
      expect(opened).toEqual(["db.transaction"]);
      if (pgDriver !== "postgres-js") expect(logged).toEqual(["begin", "rollback"]);
      expect(await t.orders(3)).toBe(0);
    });
  });
}

describe("drizzle on sqlite: enqueue in db.transaction((tx) => …), synchronously", () => {
  const t = useShop("sqlite");
  const orm = () => t.shop.orm as BetterSQLite3Database;

  it("committed: queue.addSync with fromDrizzle(tx) joins the transaction, and the job runs once", async () => {
    const jobId = orm().transaction((tx) => {
      tx.insert(liteOrders).values({ id: 1, item: "book" }).run();
      return t.queue.addSync(1, { orderId: 1 }, { db: fromDrizzle(tx) });
    });
    expect(await t.orders(1)).toBe(1);
    expect(await t.jobs(jobId)).toBe(1);
    await t.settled(jobId);
    expect(t.ran.filter((id) => id === jobId)).toEqual([jobId]);
  });

  it("rolled back: neither the order nor the job exists, and nothing runs", async () => {
    let jobId = 0;
    expect(() =>
      orm().transaction((tx) => {
        tx.insert(liteOrders).values({ id: 2, item: "pen" }).run();
        jobId = t.queue.addSync(1, { orderId: 2 }, { db: fromDrizzle(tx) });
        throw new Error("payment declined");
      }),
    ).toThrow("payment declined");
    expect(jobId).toBeGreaterThan(0);
    expect(await t.orders(2)).toBe(0);
    expect(await t.jobs(jobId)).toBe(0);
    await new Promise((r) => setTimeout(r, 300));
    expect(t.ran).not.toContain(jobId);
  });

  it("a DB made from tx refuses use after the transaction ended, instead of writing outside it", async () => {
    let escaped: DB | undefined;
    orm().transaction((tx) => {
      escaped = fromDrizzle(tx);
      expect(escaped.transaction).toBeUndefined();
    });
    expect(() => escaped!.execSync!("INSERT INTO orders (id, item) VALUES (9, 'x')")).toThrow(
      /transaction that has ended/,
    );
    await expect(t.queue.add(1, {}, { db: escaped! })).rejects.toThrow(/addSync/);
    expect(await t.orders(9)).toBe(0);
  });

  it("the root DB's async transaction() commits and rolls back on the same connection", async () => {
    await expect(
      t.shop.db.transaction!(async (tx) => {
        await t.queue.add(1, { n: 1 }, { db: tx });
        await tx.exec("INSERT INTO orders (id, item) VALUES (3, 'cup')");
        throw new Error("undo");
      }),
    ).rejects.toThrow("undo");
    expect(await t.orders(3)).toBe(0);
  });
});

const KINDS = ["mariadb", "postgres", "sqlite"] as const;
for (const kind of KINDS) {
  describe(`drizzle on ${kind}: normalisation`, () => {
    let shop: Awaited<ReturnType<typeof freshDrizzle>>;
    beforeAll(async () => {
      shop = await freshDrizzle(kind);
      await migrate(shop.db);
    });
    afterAll(() => shop?.close());
    afterEach(() => shop.db.exec("DELETE FROM async_job_tab"));
    const p = (n: number) => (kind === "postgres" ? `$${n}` : "?");

    it("takes the dialect family from Drizzle's own dialect", () => {
      expect(shop.db.dialect).toBe(kind === "mariadb" ? "mysql" : kind);
    });

    it("counts matched rows on UPDATE, also when no value changes", async () => {
      const insert = `INSERT INTO async_job_tab (params, job_type, job_status, start_time, create_time, update_time) VALUES ('{}', 5, 0, 0, 1, 1)`;
      await shop.db.exec(insert);
      await shop.db.exec(insert);
      const same = await shop.db.exec(
        `UPDATE async_job_tab SET job_status = ${p(1)} WHERE job_type = 5`,
        [0],
      );
      expect(same.affectedRows).toBe(2);
      expect(typeof same.affectedRows).toBe("number");
    });

    it("binds booleans as 1/0 and reads counts back as plain numbers where the driver gives bigints", async () => {
      await shop.db.exec(
        `INSERT INTO async_job_tab (params, job_type, job_status, start_time, create_time, update_time) VALUES ('{}', 6, ${p(1)}, 0, 1, 1)`,
        [true as never],
      );
      const rows = await shop.db.query(`SELECT job_status FROM async_job_tab WHERE job_type = 6`);
      expect(Number(rows[0]?.job_status)).toBe(1);
      if (kind === "sqlite") {
        // better-sqlite3 returns bigints with safeIntegers on: exact ones become numbers, others stay exact.
        (
          shop.orm as BetterSQLite3Database & { $client: BetterSqlite3.Database }
        ).$client.defaultSafeIntegers(true);
        try {
          const [row] = await shop.db.query(
            "SELECT COUNT(*) AS n, 9007199254740993 AS big FROM async_job_tab",
          );
          expect(row).toEqual({ n: 1, big: 9007199254740993n });
        } finally {
          (
            shop.orm as BetterSQLite3Database & { $client: BetterSqlite3.Database }
          ).$client.defaultSafeIntegers(false);
        }
      }
    });

    it("binds a Date the database can compare with its own times", async () => {
      const until = new Date(Date.now() + 60_000);
      await shop.db.exec(
        `INSERT INTO shedlock_tab (lock_name, lock_until, locked_at, locked_by) VALUES ('d', ${p(1)}, ${p(2)}, 'me')`,
        [until, new Date()],
      );
      const later =
        kind === "sqlite" ? "strftime('%Y-%m-%d %H:%M:%f', 'now')" : "CURRENT_TIMESTAMP";
      const [row] = await shop.db.query(
        `SELECT COUNT(*) AS n FROM shedlock_tab WHERE lock_name = 'd' AND lock_until > ${later}`,
      );
      expect(Number(row?.n)).toBe(1);
    });
  });
}

it("refuses what is not a Drizzle database, saying what it expected", () => {
  expect(() => fromDrizzle({ transaction() {} })).toThrow(
    /mysql2, node-postgres, postgres-js or better-sqlite3/,
  );
});
