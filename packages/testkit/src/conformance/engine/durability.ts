import { type JobRecord, JobStatus, migrate } from "@persistent-queue/core";
import { expect, it } from "vitest";
import { type AdapterUnderTest, q, skipInProcess, type TargetKind } from "../context.js";
import { openFresh } from "../db/open-target.js";
import { useMigratedDatabase } from "../fixture.js";
import { finalRecord, gate, intercept, makeQueue, waitFor } from "./helpers.js";

/** Retries survive restarts; enqueue joins the caller's transaction. */
export function durabilityTests(adapter: AdapterUnderTest, kind: TargetKind): void {
  const fx = useMigratedDatabase(adapter, kind);

  it("a retry scheduled before a restart keeps its attempt count and next run time after it", async () => {
    const first = makeQueue(fx.db, [
      {
        jobType: 301,
        needRetry: true,
        maxRetries: 3,
        waitTime: 300,
        handleJob: async () => {
          throw new Error("downstream unavailable");
        },
      },
    ]);
    fx.track(first);
    await first.start();
    const id = await first.add(301, {});
    const pending = await waitFor("the first failure to be recorded", async () => {
      const r = await first.getJob(id);
      return r?.status === JobStatus.Retry ? r : undefined;
    });
    await first.stop();
    expect(pending).toMatchObject({ attempts: 1, lastError: "Error: downstream unavailable" });
    expect(pending.runAt).toBeGreaterThan(0);

    const attemptsSeen: number[] = [];
    const second = makeQueue(fx.db, [
      {
        jobType: 301,
        needRetry: true,
        maxRetries: 3,
        waitTime: 300,
        handleJob: async (job) => void attemptsSeen.push(job.attempts),
      },
    ]);
    fx.track(second);
    await second.start();
    const done = await finalRecord(second, id);
    expect(done).toMatchObject({ status: JobStatus.Success, attempts: 2 });
    expect(attemptsSeen).toEqual([2]);
  });

  it("add() inside a transaction: rolled back, the job never exists; committed, it runs once", async () => {
    if (!fx.db.transaction) throw new Error(`${adapter.adapter} offers no transaction()`);
    const ran: number[] = [];
    const queue = makeQueue(fx.db, [
      { jobType: 302, handleJob: async (job) => void ran.push(job.id) },
    ]);
    fx.track(queue);
    await queue.start();
    let rolledBackId = 0;
    await expect(
      fx.db.transaction(async (tx) => {
        rolledBackId = await queue.add(302, { n: 1 }, { db: tx });
        throw new Error("the business write failed");
      }),
    ).rejects.toThrow("the business write failed");
    const committedId = await fx.db.transaction(async (tx) => queue.add(302, { n: 2 }, { db: tx }));
    await finalRecord(queue, committedId);
    expect(rolledBackId).toBeGreaterThan(0); // it had an id inside the transaction (SQLite may reuse it)
    const rows = await q(fx.db, "SELECT id, params FROM async_job_tab WHERE job_type = 302");
    expect(rows.map((r) => [Number(r.id), JSON.parse(String(r.params))])).toEqual([
      [committedId, { n: 2 }],
    ]);
    await new Promise((r) => setTimeout(r, 200));
    expect(ran).toEqual([committedId]);
  });

  // Not on SQLite: it has one writer, so an open write transaction holds up every other write, by
  // design. Nor in-process (PGlite): one connection, which the open transaction holds.
  it.skipIf(kind === "sqlite")(
    "a transaction left open after add(…, { db: tx }) holds up no claim of other jobs (small table)",
    async (ctx) => {
      skipInProcess(ctx, adapter);
      const opened = await openFresh(adapter, kind);
      const { db } = opened;
      try {
        if (!db.transaction) throw new Error(`${adapter.adapter} offers no transaction()`);
        await migrate(db);
        const queue = makeQueue(db, [{ jobType: 306, handleJob: async () => {} }], {
          pollInterval: 50,
        });
        await queue.start();
        try {
          const commit = gate();
          const added = gate();
          let openId = 0;
          const tx = db.transaction(async (t) => {
            openId = await queue.add(306, { open: true }, { db: t });
            added.open();
            await commit.promise; // the application is still busy in its transaction
          });
          await added.promise;
          try {
            // A few rows only: the case where MariaDB once scanned (and locked) the whole table.
            const other = await queue.add(306, { open: false });
            expect((await finalRecord(queue, other, 5_000)).status).toBe(JobStatus.Success);
          } finally {
            commit.open();
            await tx;
          }
          expect((await finalRecord(queue, openId)).status).toBe(JobStatus.Success);
        } finally {
          await queue.stop({ timeoutMs: 1000 });
        }
      } finally {
        await opened.close();
      }
    },
  );

  it("addMany() inserts a batch with one id per job, in order", async () => {
    const queue = makeQueue(fx.db, [{ jobType: 303, handleJob: async () => {} }]);
    fx.track(queue);
    const ids = await queue.addMany(
      Array.from({ length: 1500 }, (_, i) => ({ jobType: 303 as const, params: { i } })),
    );
    expect(ids).toHaveLength(1500);
    expect(new Set(ids).size).toBe(1500);
    const sample = await queue.getJob(ids[1234]!);
    expect(JSON.parse(sample!.rawParams)).toEqual({ i: 1234 });
  });

  it("add() calls made together are written by one INSERT, each resolving its own job; a failed one rejects each call and loses nothing else", async () => {
    const INSERT = /^INSERT INTO \S+ \(params/;
    let inserts = 0;
    let failNext = false;
    const db = intercept(fx.db, (sql) => {
      if (!INSERT.test(sql)) return undefined;
      inserts++;
      if (!failNext) return undefined;
      failNext = false;
      return { fail: "before" };
    });
    // A producer: no workers, so nothing is handed off or claimed.
    const queue = fx.track(makeQueue(db, [], { serviceName: "producer" }));
    await queue.add(3041, { warm: true }); // the schema check and the dialect, once
    inserts = 0;
    const ids = await Promise.all(
      Array.from({ length: 20 }, (_, n) => queue.add(3041, { n }, n % 2 ? { priority: 1 } : {})),
    );
    expect(inserts).toBe(1);
    expect(new Set(ids).size).toBe(20);
    for (const [n, id] of ids.entries()) {
      const job = await queue.getJob(id);
      expect(JSON.parse(job!.rawParams)).toEqual({ n });
      expect(job!.priority).toBe(n % 2 ? 1 : 0);
    }
    // The statement is refused: every call in it rejects, none of its jobs exists.
    failNext = true;
    const failed = await Promise.allSettled(
      Array.from({ length: 5 }, (_, n) => queue.add(3041, { lost: n })),
    );
    expect(failed.map((r) => r.status)).toEqual(Array(5).fill("rejected"));
    const lost = await q(
      fx.db,
      "SELECT COUNT(*) AS n FROM async_job_tab WHERE job_type = {} AND params LIKE {}",
      [3041, '%"lost"%'],
    );
    expect(Number(lost[0]?.n)).toBe(0);
    // And the next add() goes through.
    const after = await queue.add(3041, { after: true });
    expect((await queue.getJob(after))?.status).toBe(JobStatus.Init);
  });

  it("addMany() with every due-time form in one batch stores each row's own start_time and run_at", async () => {
    const queue = makeQueue(fx.db, [{ jobType: 305, handleJob: async () => {} }]);
    fx.track(queue); // never started: the rows stay as inserted
    const at = new Date(Date.now() + 3_600_000 + 123);
    const unix = Math.floor(Date.now() / 1000) + 7200;
    const t0 = Date.now();
    const ids = await queue.addMany([
      { jobType: 305, params: { form: "now", text: 'naïve ☃ "quoted" \\ back' } },
      { jobType: 305, params: { form: "delay" }, delay: "1m" },
      { jobType: 305, params: { form: "date" }, startTime: at },
      { jobType: 305, params: { form: "unix" }, startTime: unix },
      { jobType: 305, params: { form: "zero delay" }, delay: 0 },
    ]);
    const rows = await Promise.all(ids.map((id) => queue.getJob(id)));
    expect(rows.map((r) => (JSON.parse(r!.rawParams) as { form: string }).form)).toEqual([
      "now",
      "delay",
      "date",
      "unix",
      "zero delay",
    ]);
    const [now, delayed, date, seconds, zero] = rows.map((r) => {
      if (!r) throw new Error("a row of the batch is missing");
      return r;
    }) as [JobRecord, JobRecord, JobRecord, JobRecord, JobRecord];
    expect(JSON.parse(now.rawParams).text).toBe('naïve ☃ "quoted" \\ back');
    expect(now).toMatchObject({ startTime: 0, runAt: 0, status: JobStatus.Init });
    expect(zero).toMatchObject({ startTime: 0, runAt: 0 });
    // The delay is counted from the database's clock; the test's clock is close to it here.
    expect(delayed.runAt).toBeGreaterThanOrEqual(t0 + 60_000 - 5_000);
    expect(delayed.runAt).toBeLessThanOrEqual(Date.now() + 60_000 + 5_000);
    expect(delayed.startTime).toBe(Math.floor(delayed.runAt / 1000));
    expect(date).toMatchObject({ startTime: Math.floor(at.getTime() / 1000), runAt: at.getTime() });
    expect(seconds).toMatchObject({ startTime: unix, runAt: unix * 1000 });
  });

  it("rejects bad input at add() with a typed error, and inserts nothing", async () => {
    const queue = makeQueue(fx.db, [{ jobType: 304, handleJob: async () => {} }]);
    fx.track(queue);
    const count = async () =>
      Number(
        (await q(fx.db, "SELECT COUNT(*) AS n FROM async_job_tab WHERE job_type = 304"))[0]?.n,
      );
    await expect(queue.add(304, { blob: "x".repeat(5000) })).rejects.toMatchObject({
      code: "ERR_PQ_INPUT",
      name: "PayloadTooLargeError",
    });
    await expect(queue.add(304, undefined)).rejects.toMatchObject({
      code: "ERR_PQ_INPUT",
      field: "params",
    });
    await expect(queue.add(304, {}, { delay: -5 })).rejects.toMatchObject({
      code: "ERR_PQ_INPUT",
      field: "delay",
    });
    await expect(queue.add(304, {}, { delay: "soon" })).rejects.toMatchObject({
      code: "ERR_PQ_INPUT",
    });
    await expect(queue.add(304, {}, { startTime: new Date(Number.NaN) })).rejects.toMatchObject({
      field: "startTime",
    });
    await expect(queue.add(1.5 as 304, {})).rejects.toMatchObject({ field: "jobType" });
    expect(await count()).toBe(0);
  });
}
