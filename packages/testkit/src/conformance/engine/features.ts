import { performance } from "node:perf_hooks";
import {
  type DB,
  init,
  JobStatus,
  migrate,
  PersistentQueue,
  UnsupportedError,
} from "@persistent-queue/core";
import { resolveDialect } from "@persistent-queue/core/adapter";
import { expect, it, vi } from "vitest";
import { z } from "zod";
import {
  type AdapterUnderTest,
  q,
  SEED_INSERT,
  skipInProcess,
  type TargetKind,
  timingIt,
  x,
} from "../context.js";
import { openFresh } from "../db/open-target.js";
import { SEED_MYSQL_DDL } from "../db/schema.js";
import { useMigratedDatabase } from "../fixture.js";
import { finalRecord, makeQueue, type QueueHandle, waitFor } from "./helpers.js";

/** firstPullDay, schemas, events, init(), the Go library's tables, clock skew, and cross-process wake-ups where the adapter can listen. */
export function featureTests(adapter: AdapterUnderTest, kind: TargetKind): void {
  const fx = useMigratedDatabase(adapter, kind);

  timingIt(adapter)(
    "firstPullDay: jobs due for longer than the window are left alone and reported; delayed jobs due since always run; -1 takes only jobs due after start-up",
    async () => {
      const now = Math.floor(Date.now() / 1000);
      const days = (n: number) => now - n * 86400;
      // Inserted oldest first, so ids follow creation as they would in production.
      await x(fx.db, SEED_INSERT, ["{}", 501, 0, 0, days(10), days(10)]); // due 10 days ago: stale
      await x(fx.db, SEED_INSERT, ['{"delayed":8}', 501, 0, now - 60, days(8), days(8)]); // enqueued 8 days ago, due a minute ago
      await x(fx.db, SEED_INSERT, ['{"delayed":10}', 501, 0, now + 2, days(10), days(10)]); // due in 2 s
      await x(fx.db, SEED_INSERT, ["{}", 501, 0, 0, days(1), days(1)]); // due a day ago: within the window
      await x(fx.db, SEED_INSERT, ["{}", 502, 0, 0, now - 5, now - 5]); // due before start-up
      const ran: number[] = [];
      const warnings: unknown[][] = [];
      const skipped: unknown[] = [];
      const logger = {
        info() {},
        error() {},
        warn: (...args: unknown[]) => void warnings.push(args),
      };
      const queue = makeQueue(
        fx.db,
        [
          { jobType: 501, firstPullDay: 7, handleJob: async (job) => void ran.push(job.id) },
          { jobType: 502, firstPullDay: -1, handleJob: async (job) => void ran.push(job.id) },
        ],
        { logger },
      );
      queue.on("skipped", (e) => skipped.push(e));
      fx.track(queue);
      await queue.start();
      const fresh = await queue.add(502, {});
      await finalRecord(queue, fresh);
      // Its completion is written just after the handler returns: wait for the rows, not the handler.
      const rows = await waitFor(
        "four jobs to run",
        async () => {
          const all = await q(
            fx.db,
            "SELECT id, job_type, job_status, params FROM async_job_tab WHERE job_type IN (501, 502) ORDER BY id",
          );
          return all.filter((r) => Number(r.job_status) === JobStatus.Success).length === 4
            ? all
            : undefined;
        },
        10_000,
      );
      expect(rows.map((r) => [Number(r.job_type), String(r.params), Number(r.job_status)])).toEqual(
        [
          [501, "{}", JobStatus.Init], // due for 10 days: left alone
          [501, '{"delayed":8}', JobStatus.Success],
          [501, '{"delayed":10}', JobStatus.Success],
          [501, "{}", JobStatus.Success],
          [502, "{}", JobStatus.Init], // due before start-up, with firstPullDay -1
          [502, "{}", JobStatus.Success],
        ],
      );
      expect(ran).toHaveLength(4);
      const counts = [
        { jobType: 501, count: 1, firstPullDay: 7 },
        { jobType: 502, count: 1, firstPullDay: -1 },
      ];
      expect(skipped).toEqual(expect.arrayContaining(counts));
      expect(warnings.map((w) => w[0])).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ jobType: 501, skipped: 1 }),
          expect.objectContaining({ jobType: 502, skipped: 1 }),
        ]),
      );
    },
  );

  it("a Standard Schema validator (zod) checks params at add() and before the handler", async () => {
    const seen: unknown[] = [];
    const queue = makeQueue(fx.db, [
      {
        jobType: 503,
        schema: z.object({ orderId: z.number().int(), note: z.string().default("none") }),
        handleJob: async (job) => void seen.push(job.params),
      },
    ]);
    fx.track(queue);
    await queue.start();
    await expect(queue.add(503, { orderId: "42" } as never)).rejects.toMatchObject({
      code: "ERR_PQ_INPUT",
      field: "params",
    });
    const good = await queue.add(503, { orderId: 42 } as never);
    await x(fx.db, SEED_INSERT, [JSON.stringify({ orderId: "not a number" }), 503, 0, 0, 1, 1]);
    expect((await finalRecord(queue, good)).status).toBe(JobStatus.Success);
    const bad = await waitFor("the invalid row to fail", async () => {
      const [row] = await q(
        fx.db,
        "SELECT id, job_status, last_error FROM async_job_tab WHERE job_type = 503 AND id <> {}",
        [good],
      );
      return row && Number(row.job_status) === JobStatus.Failed ? row : undefined;
    });
    expect(String(bad.last_error)).toMatch(/do not match the job type's schema/);
    expect(seen).toEqual([{ orderId: 42, note: "none" }]);
  });

  it("DB.dialect may carry a dialect object instead of a family name: the queue runs on it the same way", async () => {
    const dialect = await resolveDialect(fx.db);
    const db: DB = {
      dialect,
      exec: (sql, params) => fx.db.exec(sql, params),
      query: ((sql: string, params?: Parameters<DB["query"]>[1]) =>
        fx.db.query(sql, params)) as DB["query"],
      ping: () => fx.db.ping(),
      close: async () => undefined,
    };
    expect(await resolveDialect(db)).toBe(dialect); // used as given: no second probe
    const ran: number[] = [];
    const queue = makeQueue(db, [
      { jobType: 520, handleJob: async (job) => void ran.push(job.id) },
    ]);
    fx.track(queue);
    await queue.start();
    const ids = await queue.addMany([
      { jobType: 520, params: {} },
      { jobType: 520, params: {}, delay: 50 },
    ]);
    for (const id of ids) expect((await finalRecord(queue, id)).status).toBe(JobStatus.Success);
    expect(ran.sort((a, b) => a - b)).toEqual(ids);
    const unknown: DB = { ...db, dialect: "oracle" as unknown as DB["dialect"] };
    await expect(resolveDialect(unknown)).rejects.toBeInstanceOf(UnsupportedError);
  });

  it("emits typed events: completed, retrying, failed", async () => {
    const events: string[] = [];
    const queue = makeQueue(fx.db, [
      {
        jobType: 504,
        needRetry: true,
        maxRetries: 1,
        waitTime: 10,
        handleJob: async (job) =>
          (job.params as { ok: boolean }).ok ? undefined : JobStatus.Retry,
      },
    ]);
    queue.on("completed", ({ job }) => events.push(`completed ${job.id}`));
    queue.on("retrying", ({ job, delayMs }) => events.push(`retrying ${job.id} ${delayMs}`));
    queue.on("failed", ({ job }) => events.push(`failed ${job.id}`));
    fx.track(queue);
    await queue.start();
    const ok = await queue.add(504, { ok: true });
    const bad = await queue.add(504, { ok: false });
    await finalRecord(queue, ok);
    await finalRecord(queue, bad);
    // Events follow the completion write; the row may be visible on another connection first.
    await waitFor("all three events", () => events.length === 3);
    expect(events.sort()).toEqual(
      [`completed ${ok}`, `failed ${bad}`, `retrying ${bad} 10`].sort(),
    );
  });

  it("init(configs, logger) starts a queue per service like the seed's Init", async () => {
    const ran: number[] = [];
    const [queue, ...rest] = await init([
      {
        db: fx.db,
        serviceName: "seed-style",
        jobType: 505,
        handleJob: async (job) => void ran.push(job.id),
      },
    ]);
    expect(rest).toEqual([]);
    fx.track(queue!);
    const id = await queue!.add(505, {});
    await finalRecord(queue!, id);
    expect(ran).toEqual([id]);
  });

  it.skipIf(kind !== "postgres")(
    "wakes a worker in another process at once through NOTIFY, not at its next poll",
    { timeout: 30_000 },
    async () => {
      const other = await adapter.open(fx.target);
      let consumerQueue: QueueHandle | undefined;
      try {
        if (!other.db.listen) throw new Error(`${adapter.adapter} on postgres offers no listen()`);
        let ranAt = 0;
        const consumer = makeQueue(
          other.db,
          [
            {
              jobType: 506,
              handleJob: async () => {
                ranAt = Date.now();
              },
            },
          ],
          { pollInterval: "1h" },
        );
        consumerQueue = consumer;
        await consumer.start();
        // Idle polling doubles from 10 ms: by 3 s the consumer sleeps until about 5.1 s.
        await new Promise((r) => setTimeout(r, 3000));
        const producer = new PersistentQueue({ db: fx.db, serviceName: "producer", jobs: [] });
        const addedAt = Date.now();
        await producer.add(506, {});
        await waitFor("the notified consumer to run the job", () => ranAt > 0, 10_000);
        expect(ranAt - addedAt).toBeLessThan(1000);
      } finally {
        await consumerQueue?.stop({ timeoutMs: 1000 }); // releases its LISTEN connection first
        await other.close().catch(() => undefined);
      }
    },
  );

  it.skipIf(kind !== "postgres")(
    "re-subscribes when its LISTEN connection is killed, and NOTIFY wakes it again",
    { timeout: 30_000 },
    async (ctx) => {
      skipInProcess(ctx, adapter);
      const other = await adapter.open(fx.target);
      let consumerQueue: QueueHandle | undefined;
      try {
        let ranAt = 0;
        const consumer = makeQueue(
          other.db,
          [
            {
              jobType: 507,
              handleJob: async () => {
                ranAt = Date.now();
              },
            },
          ],
          { pollInterval: "1h" },
        );
        consumerQueue = consumer;
        await consumer.start();
        // ILIKE: node-postgres adapters send `LISTEN "…"`, postgres.js `listen "…"`.
        const killed = await q(
          fx.db,
          "SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE datname = current_database() AND query ILIKE {}",
          ['LISTEN "pq_%'],
        );
        expect(killed.length).toBeGreaterThan(0);
        // Re-subscribed after 500 ms; by 3.5 s idle polling sleeps until about 5.1 s.
        await new Promise((r) => setTimeout(r, 3500));
        const producer = new PersistentQueue({ db: fx.db, serviceName: "producer", jobs: [] });
        const addedAt = Date.now();
        await producer.add(507, {});
        await waitFor("the re-subscribed consumer to run the job", () => ranAt > 0, 10_000);
        expect(ranAt - addedAt).toBeLessThan(1000);
      } finally {
        await consumerQueue?.stop({ timeoutMs: 1000 });
        await other.close().catch(() => undefined);
      }
    },
  );

  it("runs jobs inserted by the seed's plain INSERT into a table the Go library created, after migrate()", async () => {
    const fresh = await openFresh(adapter, kind);
    const queue = makeQueue(fresh.db, [{ jobType: 508, handleJob: async () => {} }]);
    try {
      if ((await resolveDialect(fresh.db)).family === "mysql") {
        for (const ddl of SEED_MYSQL_DDL) await x(fresh.db, ddl);
      } else {
        await migrate(fresh.db, { targetVersion: 1 }); // no Go-library DDL exists for these databases
      }
      const now = Math.floor(Date.now() / 1000);
      await x(fresh.db, SEED_INSERT, [JSON.stringify({ before: "migrate" }), 508, 0, 0, now, now]);
      await migrate(fresh.db);
      await x(fresh.db, SEED_INSERT, [JSON.stringify({ after: "migrate" }), 508, 0, 0, now, now]);
      await queue.start();
      await waitFor("both seed rows to succeed", async () => {
        const [row] = await q(
          fresh.db,
          "SELECT COUNT(*) AS n FROM async_job_tab WHERE job_type = 508 AND job_status = 1",
        );
        return Number(row?.n) === 2;
      });
    } finally {
      await queue.stop({ timeoutMs: 1000 });
      await fresh.close();
    }
  });

  it("a worker whose own clock runs 10 minutes ahead still waits for the database's due time", async (ctx) => {
    // In-process (PGlite), the database reads the process's clock: faking Date stops both.
    skipInProcess(ctx, adapter);
    const started: number[] = [];
    const queue = fx.track(
      makeQueue(fx.db, [
        { jobType: 509, handleJob: async () => void started.push(performance.now()) },
      ]),
    );
    await queue.start();
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() + 10 * 60_000 }); // only Date: timers stay real
    try {
      const t0 = performance.now();
      const id = await queue.add(509, {}, { delay: 500 });
      await finalRecord(queue, id);
      expect(started[0]! - t0).toBeGreaterThanOrEqual(490);
      expect((await queue.getJob(id))?.attempts).toBe(1);
    } finally {
      vi.useRealTimers();
    }
  });
}
