// Transactional enqueue through Prisma's own interactive transaction API:
// the order and its job commit together or not at all, on every database.
import { JobStatus, migrate, PersistentQueue } from "@persistent-queue/core";
import { fromPrisma } from "@persistent-queue/prisma";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CREATE_ORDERS, type Fresh, fresh, KINDS } from "../test/fresh.js";

const waitFor = async <T>(what: string, check: () => Promise<T | undefined>): Promise<T> => {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
};

const makeQueue = (fx: Fresh, ran: number[]) =>
  new PersistentQueue({
    db: fx.db,
    serviceName: "prisma-tx-test",
    pollInterval: 50,
    jobs: [
      {
        jobType: 7,
        handleJob: async (job: { id: number }) => {
          ran.push(job.id);
        },
      },
    ] as const,
  });

for (const kind of KINDS) {
  describe(`prisma on ${kind}: enqueue inside prisma.$transaction`, () => {
    let fx: Fresh;
    let queue: ReturnType<typeof makeQueue>;
    const ran: number[] = [];
    beforeAll(async () => {
      fx = await fresh(kind);
      await migrate(fx.db);
      await fx.prisma.$executeRawUnsafe(CREATE_ORDERS);
      queue = makeQueue(fx, ran);
      await queue.start();
    });
    afterAll(async () => {
      await queue?.stop({ timeoutMs: 1000 });
      await fx?.close();
    });

    it("committed: the order and its job both exist, and the job runs once", async () => {
      const id = await fx.prisma.$transaction(async (tx: never) => {
        const t = tx as Fresh["prisma"];
        await t.order.create({ data: { id: "o-commit", item: "book" } });
        return queue.add(7, { orderId: "o-commit" }, { db: fromPrisma(t) });
      });
      const done = await waitFor("the job to succeed", async () => {
        const job = await queue.getJob(id);
        return job?.status === JobStatus.Success ? job : undefined;
      });
      expect(JSON.parse(done.rawParams)).toEqual({ orderId: "o-commit" });
      expect(await fx.prisma.order.findUnique({ where: { id: "o-commit" } })).toMatchObject({
        item: "book",
      });
      await new Promise((r) => setTimeout(r, 200));
      expect(ran.filter((x) => x === id)).toEqual([id]);
    });

    it("rolled back: neither the order nor the job exists, and nothing runs", async () => {
      const before = ran.length;
      let jobId = 0;
      await expect(
        fx.prisma.$transaction(async (tx: Fresh["prisma"]) => {
          await tx.order.create({ data: { id: "o-rollback", item: "lamp" } });
          jobId = await queue.add(7, { orderId: "o-rollback" }, { db: fromPrisma(tx) });
          throw new Error("payment declined");
        }),
      ).rejects.toThrow("payment declined");
      expect(jobId).toBeGreaterThan(0); // the insert happened, inside the transaction
      expect(await fx.prisma.order.findUnique({ where: { id: "o-rollback" } })).toBeNull();
      const rows = await fx.prisma.asyncJob.findMany({
        where: { params: { contains: "o-rollback" } },
      });
      expect(rows).toEqual([]);
      await new Promise((r) => setTimeout(r, 300));
      expect(ran.length).toBe(before);
    });

    it("a DB on a transaction client has no transaction() and its close() leaves the client open", async () => {
      await fx.prisma.$transaction(async (tx: Fresh["prisma"]) => {
        const db = fromPrisma(tx);
        expect(db.transaction).toBeUndefined();
        expect(db.dialect).toBe(fx.db.dialect);
        await db.close();
        await tx.order.create({ data: { id: "o-after-close", item: "pen" } });
      });
      expect(await fx.prisma.order.count({ where: { id: "o-after-close" } })).toBe(1);
    });

    it("the engine never runs inside an open user transaction (it waits or uses another connection)", async () => {
      // On SQLite, PrismaBetterSqlite3 runs plain calls on the one connection even while a
      // $transaction is open; the adapter queues its calls behind it instead.
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      let written!: () => void;
      const inside = new Promise<void>((r) => (written = r));
      const tx = fx.prisma.$transaction(
        async (t: Fresh["prisma"]) => {
          await t.order.create({ data: { id: "o-pending", item: "cup" } });
          written();
          await gate;
        },
        { timeout: 10_000 },
      );
      await inside;
      let answeredBeforeCommit = false;
      let committed = false;
      const seen = fx.db
        .query("SELECT COUNT(*) AS n FROM orders WHERE id = 'o-pending'")
        .then((rows) => {
          answeredBeforeCommit = !committed;
          return rows;
        });
      await new Promise((r) => setTimeout(r, 200));
      committed = true;
      release();
      await tx;
      const [row] = await seen;
      if (kind === "sqlite") {
        // One connection: the engine's read waited for the commit, then saw the committed row.
        expect(answeredBeforeCommit).toBe(false);
        expect(row?.n).toBe(1);
      } else {
        // Another pooled connection: answered at once, without the uncommitted row.
        expect(answeredBeforeCommit).toBe(true);
        expect(row?.n).toBe(0);
      }
    });
  });
}
