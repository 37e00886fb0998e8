// Enqueueing inside TypeORM's own transactions: the job exists exactly when the business write commits.
import { type DB, JobStatus, migrate, PersistentQueue } from "@persistent-queue/core";
import type { TargetKind } from "@persistent-queue/testkit";
import type { DataSource, EntityManager } from "typeorm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { freshDataSource, KINDS } from "../test/fresh.js";
import { fromTypeORM } from "./index.js";

const ph = (kind: TargetKind, n: number) => (kind === "postgres" ? `$${n}` : "?");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const kind of KINDS) {
  describe(`fromTypeORM on ${kind}: transactional enqueue`, () => {
    let fresh: Awaited<ReturnType<typeof freshDataSource>>;
    let dataSource: DataSource;
    let db: DB;
    const ran: number[] = [];
    const jobs = [
      { jobType: 1, handleJob: async (job: { id: number }) => void ran.push(job.id) },
    ] as const;
    let queue: PersistentQueue<typeof jobs>;

    beforeAll(async () => {
      fresh = await freshDataSource(kind);
      dataSource = fresh.dataSource;
      db = fromTypeORM(dataSource);
      await migrate(db);
      await dataSource.query("CREATE TABLE orders (id INTEGER PRIMARY KEY, note VARCHAR(50))");
      queue = new PersistentQueue({
        db,
        serviceName: "typeorm-tx",
        pollInterval: 50,
        jobs,
      });
      await queue.start();
    });
    afterEach(() => void ran.splice(0));
    afterAll(async () => {
      await queue?.stop({ timeoutMs: 1000 });
      await fresh?.close();
    });

    const insertOrder = (m: EntityManager, id: number) =>
      m.query(`INSERT INTO orders (id, note) VALUES (${ph(kind, 1)}, ${ph(kind, 2)})`, [
        id,
        "paid",
      ]);
    const orders = async (id: number) =>
      Number(
        (await db.query(`SELECT COUNT(*) AS n FROM orders WHERE id = ${ph(kind, 1)}`, [id]))[0]?.n,
      );
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

    it("dataSource.transaction(m => queue.add(…, { db: fromTypeORM(m) })): committed, the order and the job exist and it runs once", async () => {
      const id = await dataSource.transaction(async (m) => {
        await insertOrder(m, 1);
        return queue.add(1, { orderId: 1 }, { db: fromTypeORM(m) });
      });
      await finished(id);
      expect(await orders(1)).toBe(1);
      expect((await jobsFor(1)).map((r) => Number(r.id))).toEqual([id]);
      await sleep(200);
      expect(ran).toEqual([id]);
    });

    it("rolled back, neither the order nor the job exists, and nothing runs", async () => {
      let inside = 0;
      await expect(
        dataSource.transaction(async (m) => {
          await insertOrder(m, 2);
          inside = await queue.add(1, { orderId: 2 }, { db: fromTypeORM(m) });
          throw new Error("payment declined");
        }),
      ).rejects.toThrow("payment declined");
      expect(inside).toBeGreaterThan(0);
      await sleep(300);
      expect(await orders(2)).toBe(0);
      expect(await jobsFor(2)).toEqual([]);
      expect(ran).toEqual([]);
    });

    it("a QueryRunner's own startTransaction/rollbackTransaction/commitTransaction bound the job too", async () => {
      const runner = dataSource.createQueryRunner();
      await runner.startTransaction();
      await queue.add(1, { orderId: 3 }, { db: fromTypeORM(runner) });
      await runner.rollbackTransaction();
      await runner.startTransaction();
      const id = await queue.add(1, { orderId: 4 }, { db: fromTypeORM(runner.manager) });
      await runner.commitTransaction();
      await runner.release();
      await finished(id);
      expect(await jobsFor(3)).toEqual([]);
      expect((await jobsFor(4)).map((r) => Number(r.id))).toEqual([id]);
    });

    it("a DB made from a transaction's manager offers no transaction() and its close() leaves the transaction alone", async () => {
      await dataSource.transaction(async (m) => {
        const tx = fromTypeORM(m);
        expect(tx.dialect).toBe(db.dialect);
        expect(tx.transaction).toBeUndefined();
        expect(tx.listen).toBeUndefined();
        await tx.close();
        await insertOrder(m, 5);
      });
      expect(await orders(5)).toBe(1);
    });

    it("the engine's statements stay out of a user's open transaction: a rollback does not take them along", async () => {
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      let outside: Promise<number> | undefined;
      const tx = dataSource.transaction(async (m) => {
        await insertOrder(m, 6);
        // Issued on the DataSource while the transaction is open, as the engine does.
        outside = queue.add(1, { orderId: 7 });
        await sleep(100);
        release();
        throw new Error("rolled back");
      });
      await gate;
      await expect(tx).rejects.toThrow("rolled back");
      const id = await outside!;
      await finished(id);
      expect(await orders(6)).toBe(0);
      expect((await jobsFor(7)).map((r) => Number(r.id))).toEqual([id]);
    });

    it("db.transaction(fn) uses TypeORM's transaction: a write through tx and a TypeORM entity manager commit or roll back together", async () => {
      await expect(
        db.transaction!(async (tx) => {
          await tx.exec(`INSERT INTO orders (id, note) VALUES (${ph(kind, 1)}, ${ph(kind, 2)})`, [
            8,
            "x",
          ]);
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
