// Enqueueing inside MikroORM's own transactions: the job exists exactly when the entities commit.
import { defineEntity, type EntityManager, p } from "@mikro-orm/core";
import { type DB, JobStatus, migrate, PersistentQueue } from "@persistent-queue/core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { freshOrm, KINDS } from "../test/fresh.js";
import { missing } from "../test/open.mjs";
import { fromMikroORM } from "./index.js";

const Order = defineEntity({
  name: "Order",
  tableName: "orders",
  properties: {
    id: p.integer().primary().autoincrement(false),
    note: p.string().length(50),
  },
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const kind of KINDS) {
  describe.skipIf(missing !== undefined)(`fromMikroORM on ${kind}: transactional enqueue`, () => {
    let fresh: Awaited<ReturnType<typeof freshOrm>>;
    let db: DB;
    const ran: number[] = [];
    const jobs = [
      { jobType: 1, handleJob: async (job: { id: number }) => void ran.push(job.id) },
    ] as const;
    let queue: PersistentQueue<typeof jobs>;

    beforeAll(async () => {
      fresh = await freshOrm(kind, { entities: [Order] });
      await fresh.orm.schema.create();
      db = fromMikroORM(fresh.orm.em.fork());
      await migrate(db);
      queue = new PersistentQueue({ db, serviceName: "mikro-orm-tx", pollInterval: 50, jobs });
      await queue.start();
    });
    afterEach(() => void ran.splice(0));
    afterAll(async () => {
      await queue?.stop({ timeoutMs: 1000 });
      await fresh?.close();
    });

    const orders = async (id: number) => fresh.orm.em.fork().count(Order, { id });
    const jobsFor = async (orderId: number) =>
      (await db.query("SELECT id, params, job_status FROM async_job_tab")).filter(
        (r) => JSON.parse(String(r.params)).orderId === orderId,
      );
    const finished = async (id: number) => {
      for (let i = 0; i < 300; i++) {
        if ((await queue.getJob(id))?.status === JobStatus.Success) return;
        await sleep(20);
      }
      throw new Error(`job ${id} did not finish`);
    };
    const placeOrder = async (em: EntityManager, id: number) => {
      em.create(Order, { id, note: "paid" });
      await em.flush(); // the INSERT runs now, inside the transaction
      return queue.add(1, { orderId: id }, { db: fromMikroORM(em) });
    };

    it("em.transactional(em => queue.add(…, { db: fromMikroORM(em) })): committed, the order and the job exist and it runs once", async () => {
      const id = await fresh.orm.em.fork().transactional((em) => placeOrder(em, 1));
      await finished(id);
      expect(await orders(1)).toBe(1);
      expect((await jobsFor(1)).map((r) => Number(r.id))).toEqual([id]);
      await sleep(200);
      expect(ran).toEqual([id]);
    });

    it("rolled back on a throw: neither the order nor the job exists, and nothing runs", async () => {
      let inside = 0;
      await expect(
        fresh.orm.em.fork().transactional(async (em) => {
          inside = await placeOrder(em, 2);
          // Visible inside the transaction, through MikroORM and through the queue's DB alike.
          expect(await em.count(Order, { id: 2 })).toBe(1);
          const seen = await fromMikroORM(em).query("SELECT id FROM async_job_tab");
          expect(seen.map((r) => Number(r.id))).toContain(inside);
          throw new Error("payment declined");
        }),
      ).rejects.toThrow("payment declined");
      expect(inside).toBeGreaterThan(0);
      await sleep(300);
      expect(await orders(2)).toBe(0);
      expect(await jobsFor(2)).toEqual([]);
      expect(ran).toEqual([]);
    });

    it("the global orm.em inside em.transactional() is the transaction (MikroORM's context): a DB made from it joins too", async () => {
      const { em } = fresh.orm;
      await expect(
        em.transactional(async () => {
          await queue.add(1, { orderId: 3 }, { db: fromMikroORM(em) });
          throw new Error("no");
        }),
      ).rejects.toThrow("no");
      expect(await jobsFor(3)).toEqual([]);
      const id = await em.transactional(() =>
        queue.add(1, { orderId: 4 }, { db: fromMikroORM(em) }),
      );
      await finished(id);
    });

    it("a DB made from a transaction's em offers no transaction() and its close() leaves the transaction alone", async () => {
      await fresh.orm.em.fork().transactional(async (em) => {
        const tx = fromMikroORM(em);
        expect(tx.dialect).toBe(db.dialect);
        expect(tx.transaction).toBeUndefined();
        expect(tx.listen).toBeUndefined();
        await tx.close();
        em.create(Order, { id: 5, note: "x" });
      });
      expect(await orders(5)).toBe(1);
    });

    it("a DB made from a transaction's em refuses statements after the transaction ended, instead of running them outside it", async () => {
      const tx = await fresh.orm.em.fork().transactional(async (em) => fromMikroORM(em));
      await expect(tx.query("SELECT 1 AS one")).rejects.toThrow(/committed/i);
    });

    it("a forked em's statements stay out of a user's open transaction: its rollback does not take them along", async () => {
      let outside: Promise<number> | undefined;
      const tx = fresh.orm.em.fork().transactional(async (em) => {
        await em.flush();
        em.create(Order, { id: 6, note: "x" });
        await em.flush();
        // Issued on the queue's own DB (a fork) while the transaction is open, as the engine does.
        // SQLite has one connection: that statement waits for the transaction's end.
        outside = queue.add(1, { orderId: 7 });
        await sleep(100);
        throw new Error("rolled back");
      });
      await expect(tx).rejects.toThrow("rolled back");
      const id = await outside!;
      await finished(id);
      expect(await orders(6)).toBe(0);
      expect((await jobsFor(7)).map((r) => Number(r.id))).toEqual([id]);
    });

    it("db.transaction(fn) uses em.transactional(): a write through tx and the job commit or roll back together", async () => {
      await expect(
        db.transaction!(async (tx) => {
          await tx.exec(
            `INSERT INTO orders (id, note) VALUES (${kind === "postgres" ? "$1, $2" : "?, ?"})`,
            [8, "x"],
          );
          await queue.add(1, { orderId: 8 }, { db: tx });
          throw new Error("no");
        }),
      ).rejects.toThrow("no");
      expect(await orders(8)).toBe(0);
      expect(await jobsFor(8)).toEqual([]);
      const id = await db.transaction!(async (tx) => queue.add(1, { orderId: 9 }, { db: tx }));
      await finished(id);
    });
  });
}
