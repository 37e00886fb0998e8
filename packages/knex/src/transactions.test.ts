// Enqueue inside Knex's own transactions: the user's row and the job commit
// together or neither exists; DB.transaction(fn) on the instance.
import { type DB, JobStatus, migrate, PersistentQueue } from "@persistent-queue/core";
import {
  createDatabase,
  createSqliteFile,
  type Target,
  type TargetKind,
} from "@persistent-queue/testkit";
import type { Knex } from "knex";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import { openKnex } from "../test/open.mjs";
import { fromKnex } from "./index.js";

const waitFor = async (what: string, check: () => Promise<boolean>, ms = 10_000) => {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

for (const kind of ["mariadb", "postgres", "sqlite"] as TargetKind[]) {
  describe(`fromKnex on ${kind}: transactions`, () => {
    let cleanup: () => Promise<void>;
    let knex: Knex;
    let db: DB;
    const ran: number[] = [];
    let queue: PersistentQueue;
    const jobCount = async () =>
      Number((await knex("async_job_tab").count({ n: "*" }))[0]?.n ?? Number.NaN);

    beforeAll(async () => {
      let target: Target;
      if (kind === "sqlite") {
        const file = await createSqliteFile();
        target = { kind, path: file.path };
        cleanup = file.cleanup;
      } else {
        const url = kind === "mariadb" ? inject("pqMysqlUrl") : inject("pqPgUrl");
        const database = await createDatabase({ kind, url });
        target = { kind, url: database.url } as Target;
        cleanup = database.drop;
      }
      knex = openKnex(target);
      db = fromKnex(knex);
      await migrate(db);
      await knex.schema.createTable("orders", (t) => {
        t.integer("id").primary();
        t.string("item", 64).notNullable();
      });
      queue = new PersistentQueue({
        db,
        serviceName: "knex-test",
        pollInterval: 50,
        jobs: [{ jobType: 1, handleJob: async (job: { id: number }) => void ran.push(job.id) }],
      });
      await queue.start();
    });
    afterEach(() => {
      ran.length = 0;
    });
    afterAll(async () => {
      await queue?.stop({ timeoutMs: 1000 });
      await knex?.destroy();
      await cleanup?.();
    });

    it("knex.transaction(fn) committed: the order and its job exist, and the job runs once", async () => {
      const id = await knex.transaction(async (trx) => {
        await trx("orders").insert({ id: 1, item: "teapot" });
        return queue.add(1, { orderId: 1 }, { db: fromKnex(trx) });
      });
      expect(await knex("orders").where({ id: 1 })).toHaveLength(1);
      await waitFor(
        "the job to succeed",
        async () => (await queue.getJob(id))?.status === JobStatus.Success,
      );
      await new Promise((r) => setTimeout(r, 200));
      expect(ran).toEqual([id]);
    });

    it("knex.transaction(fn) rolled back: neither the order nor the job exists; nothing runs", async () => {
      const before = await jobCount();
      let jobId = 0;
      await expect(
        knex.transaction(async (trx) => {
          await trx("orders").insert({ id: 2, item: "kettle" });
          jobId = await queue.add(1, { orderId: 2 }, { db: fromKnex(trx) });
          // Inside the transaction the job is there.
          expect(await trx("async_job_tab").where({ id: jobId })).toHaveLength(1);
          throw new Error("payment declined");
        }),
      ).rejects.toThrow("payment declined");
      expect(jobId).toBeGreaterThan(0);
      expect(await knex("orders").where({ id: 2 })).toHaveLength(0);
      expect(await jobCount()).toBe(before);
      await new Promise((r) => setTimeout(r, 300));
      expect(ran).toEqual([]);
    });

    it("a trx you commit yourself (knex.transaction() without a handler), then the DB refuses use after the end", async () => {
      const trx = await knex.transaction();
      const txDb = fromKnex(trx);
      expect(txDb.transaction).toBeUndefined();
      expect(txDb.listen).toBeUndefined();
      await trx("orders").insert({ id: 3, item: "cup" });
      const id = await queue.add(1, { orderId: 3 }, { db: txDb });
      await trx.rollback();
      expect(await queue.getJob(id)).toBeUndefined();
      await expect(txDb.query("SELECT 1 AS one")).rejects.toMatchObject({
        code: "ERR_PQ_TRANSACTION",
        message: /already ended/,
      });
      await txDb.close(); // does nothing: the instance stays usable
      expect(await db.query("SELECT 1 AS one")).toEqual([{ one: 1 }]);
    });

    it("DB.transaction(fn) on the instance commits, and rolls back when fn throws; calls through the instance's DB from inside fn join it", async () => {
      const insert = (d: DB, id: number) =>
        d.exec(
          kind === "postgres"
            ? "INSERT INTO orders (id, item) VALUES ($1, 'x')"
            : "INSERT INTO orders (id, item) VALUES (?, 'x')",
          [id],
        );
      await db.transaction!(async (tx) => {
        await insert(tx, 10);
        // SQLite: Knex's pool has one connection, which this transaction holds.
        if (kind === "sqlite") await insert(db, 11);
      });
      await expect(
        db.transaction!(async (tx) => {
          await insert(tx, 12);
          throw new Error("no");
        }),
      ).rejects.toThrow("no");
      const ids = (await knex("orders").whereIn("id", [10, 11, 12]).orderBy("id")).map((r) => r.id);
      expect(ids).toEqual(kind === "sqlite" ? [10, 11] : [10]);
    });
  });
}
