// Enqueue inside Kysely's own transactions (commit and rollback, on each database), the
// root DB's transaction(), nested calls, and what a DB on a trx may do.
import {
  type DB,
  JobStatus,
  migrate,
  PersistentQueue,
  TransactionMisuseError,
} from "@persistent-queue/core";
import type { TargetKind } from "@persistent-queue/testkit";
import { CamelCasePlugin, type Generated, type Kysely } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshKysely, KINDS } from "../test/fresh.js";
import { fromKysely, type QueueTables } from "./index.js";

interface Shop {
  orders: { id: Generated<number>; item: string };
}

/** One fresh database per kind, migrated, with an orders table and a queue that records what ran. */
function useShop(kind: TargetKind) {
  let shop: Awaited<ReturnType<typeof freshKysely<Shop>>>;
  const ran: number[] = [];
  const logged: string[] = [];
  const makeQueue = (db: DB) =>
    new PersistentQueue({
      db,
      serviceName: "kysely-test",
      pollInterval: 50,
      jobs: [{ jobType: 1, handleJob: async (job: { id: number }) => void ran.push(job.id) }],
    });
  let queue: ReturnType<typeof makeQueue>;
  beforeAll(async () => {
    shop = await freshKysely<Shop>(kind, {
      log: (event) => void logged.push(event.query.sql.toLowerCase()),
    });
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
    get kysely() {
      return shop.kysely;
    },
    get db() {
      return shop.db;
    },
    get queue() {
      return queue;
    },
    ran,
    logged,
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

for (const kind of KINDS) {
  describe(`kysely on ${kind}: enqueue in db.transaction().execute(async (trx) => …)`, () => {
    const t = useShop(kind);

    it("committed: the order and its job exist together, and the job runs once", async () => {
      let jobId = 0;
      let seenOutside = -1;
      await t.kysely.transaction().execute(async (trx) => {
        await trx.insertInto("orders").values({ id: 1, item: "book" }).execute();
        jobId = await t.queue.add(1, { orderId: 1 }, { db: fromKysely(trx) });
        // Another connection must not see it yet (SQLite has one connection: it would wait).
        if (kind !== "sqlite") seenOutside = await t.jobs(jobId);
      });
      if (kind !== "sqlite") expect(seenOutside).toBe(0);
      expect(await t.orders(1)).toBe(1);
      expect(await t.jobs(jobId)).toBe(1);
      await t.settled(jobId);
      expect(t.ran.filter((id) => id === jobId)).toEqual([jobId]);
    });

    it("rolled back: neither the order nor the job exists, and nothing runs", async () => {
      let jobId = 0;
      await expect(
        t.kysely.transaction().execute(async (trx) => {
          await trx.insertInto("orders").values({ id: 2, item: "pen" }).execute();
          jobId = await t.queue.add(1, { orderId: 2 }, { db: fromKysely(trx) });
          throw new Error("payment declined");
        }),
      ).rejects.toThrow("payment declined");
      expect(jobId).toBeGreaterThan(0);
      expect(await t.orders(2)).toBe(0);
      expect(await t.jobs(jobId)).toBe(0);
      await new Promise((r) => setTimeout(r, 300));
      expect(t.ran).not.toContain(jobId);
    });

    it("a controlled transaction (db.startTransaction()) too", async () => {
      const trx = await t.kysely.startTransaction().execute();
      await trx.insertInto("orders").values({ id: 4, item: "mug" }).execute();
      const jobId = await t.queue.add(1, { orderId: 4 }, { db: fromKysely(trx) });
      await trx.rollback().execute();
      expect(await t.orders(4)).toBe(0);
      expect(await t.jobs(jobId)).toBe(0);
    });

    it("a DB made from trx: no nested transaction, no listen, and close() leaves the transaction alone", async () => {
      await t.kysely.transaction().execute(async (trx) => {
        const db = fromKysely(trx);
        expect(db.transaction).toBeUndefined();
        expect(db.listen).toBeUndefined();
        await db.close();
        expect(await db.query("SELECT 1 AS one")).toEqual([{ one: 1 }]);
        await trx.insertInto("orders").values({ id: 5, item: "cap" }).execute();
      });
      expect(await t.orders(5)).toBe(1);
    });

    it("a DB made from trx refuses use after the transaction ended, instead of writing outside it", async () => {
      let escaped: DB | undefined;
      await t.kysely.transaction().execute(async (trx) => {
        escaped = fromKysely(trx);
      });
      await expect(escaped!.exec("INSERT INTO orders (id, item) VALUES (10, 'x')")).rejects.toThrow(
        /Transaction is already committed/,
      );
      expect(await t.orders(10)).toBe(0);
    });

    it("the root DB's transaction() is Kysely's: committed with fn, rolled back when fn throws", async () => {
      t.logged.length = 0;
      const jobId = await t.db.transaction!(async (tx) => {
        await tx.exec("INSERT INTO orders (id, item) VALUES (6, 'lamp')");
        return t.queue.add(1, { orderId: 6 }, { db: tx });
      });
      expect(await t.orders(6)).toBe(1);
      expect(await t.jobs(jobId)).toBe(1);
      // Kysely logged the statements of its transaction, ours among them.
      const begin = kind === "sqlite" ? "begin immediate" : "begin";
      expect(t.logged).toContain(begin);
      expect(t.logged.indexOf(begin)).toBeLessThan(t.logged.indexOf("commit"));
      await expect(
        t.db.transaction!(async (tx) => {
          await tx.exec("INSERT INTO orders (id, item) VALUES (7, 'desk')");
          throw new Error("undo");
        }),
      ).rejects.toThrow("undo");
      expect(t.logged).toContain("rollback");
      expect(await t.orders(7)).toBe(0);
    });

    it("nested: a transaction() from inside one", async () => {
      if (kind === "sqlite") {
        // One connection: SQLite transactions do not nest.
        const nested = await t.db.transaction!(async () =>
          t.db.transaction!(async () => 0).catch((e: unknown) => e),
        );
        expect(nested).toBeInstanceOf(TransactionMisuseError);
        expect(nested).toMatchObject({ code: "ERR_PQ_TRANSACTION", message: /do not nest/ });
        return;
      }
      // Another pooled connection: an independent transaction, committed on its own.
      await expect(
        t.db.transaction!(async (outer) => {
          await outer.exec("INSERT INTO orders (id, item) VALUES (8, 'sofa')");
          await t.db.transaction!((inner) =>
            inner.exec("INSERT INTO orders (id, item) VALUES (9, 'rug')"),
          );
          throw new Error("undo the outer one");
        }),
      ).rejects.toThrow("undo the outer one");
      expect(await t.orders(8)).toBe(0);
      expect(await t.orders(9)).toBe(1);
    });

    it("a Kysely with plugins: the DB reads columns as the database names them", async () => {
      const camel = fromKysely(t.kysely.withPlugin(new CamelCasePlugin()));
      const [row] = await camel.query("SELECT job_status FROM async_job_tab LIMIT 1");
      expect(Object.keys(row!)).toEqual(["job_status"]);
      // The query builder itself still sees the queue's tables through the table types.
      const typed = t.kysely as unknown as Kysely<QueueTables<"mysql">>;
      const jobs = await typed.selectFrom("async_job_tab").select("job_type").execute();
      expect(jobs.length).toBeGreaterThan(0);
    });
  });
}

describe("kysely on sqlite: one connection", () => {
  const t = useShop("sqlite");

  it("a root call from inside the root DB's transaction() runs in it (no wait for itself)", async () => {
    await expect(
      t.db.transaction!(async () => {
        await t.db.exec("INSERT INTO orders (id, item) VALUES (11, 'vase')");
        expect(await t.orders(11)).toBe(1);
        throw new Error("undo");
      }),
    ).rejects.toThrow("undo");
    expect(await t.orders(11)).toBe(0);
  });

  it("the queue waits for a Kysely transaction to end, then sees what it committed", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let written!: () => void;
    const inside = new Promise<void>((r) => (written = r));
    const tx = t.kysely.transaction().execute(async (trx) => {
      await trx.insertInto("orders").values({ id: 12, item: "clock" }).execute();
      written();
      await gate;
    });
    await inside;
    let committed = false;
    let answeredBeforeCommit = false;
    const seen = t.db.query("SELECT COUNT(*) AS n FROM orders WHERE id = 12").then((rows) => {
      answeredBeforeCommit = !committed;
      return rows;
    });
    await new Promise((r) => setTimeout(r, 200));
    committed = true;
    release();
    await tx;
    expect(answeredBeforeCommit).toBe(false);
    expect((await seen)[0]?.n).toBe(1);
  });
});

describe("close()", () => {
  it("on a root DB destroys the Kysely instance, as the other ORM adapters end theirs", async () => {
    const shop = await freshKysely<Shop>("sqlite");
    try {
      await shop.db.ping();
      await shop.db.close();
      await expect(shop.kysely.selectFrom("orders").selectAll().execute()).rejects.toThrow(
        /destroyed/,
      );
    } finally {
      await shop.close();
    }
  });
});
