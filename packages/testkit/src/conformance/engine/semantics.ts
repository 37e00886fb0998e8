import { JobStatus } from "@persistent-queue/core";
import { expect, it } from "vitest";
import { type AdapterUnderTest, SEED_INSERT, type TargetKind, x } from "../context.js";
import { useMigratedDatabase } from "../fixture.js";
import { finalRecord, makeQueue, type QueueHandle, waitFor } from "./helpers.js";

/** What a handler's result does to the row: the seed's status semantics, persisted. */
export function semanticsTests(adapter: AdapterUnderTest, kind: TargetKind): void {
  const fx = useMigratedDatabase(adapter, kind);

  const start = async <Q extends QueueHandle>(q: Q) => {
    fx.track(q);
    await q.start();
    return q;
  };

  it("runs a job added with add(): params arrive parsed, the row ends Success with one attempt", async () => {
    const seen: unknown[] = [];
    const q = await start(
      makeQueue(fx.db, [{ jobType: 101, handleJob: async (job) => void seen.push(job.params) }]),
    );
    const id = await q.add(101, { orderId: 42, note: "ü" });
    const row = await finalRecord(q, id);
    expect(row).toMatchObject({ status: JobStatus.Success, attempts: 1, jobType: 101 });
    expect(seen).toEqual([{ orderId: 42, note: "ü" }]);
  });

  it("picks up a row inserted by the seed's plain INSERT", async () => {
    const ran: number[] = [];
    const q = await start(
      makeQueue(fx.db, [{ jobType: 102, handleJob: async (job) => void ran.push(job.id) }]),
    );
    const now = Math.floor(Date.now() / 1000);
    await x(fx.db, SEED_INSERT, [JSON.stringify({ from: "plain sql" }), 102, 0, 0, now, now]);
    await waitFor("the plain row to run", () => ran.length === 1);
    expect((await finalRecord(q, ran[0]!)).status).toBe(JobStatus.Success);
  });

  it("Retry counts attempts and fails the job beyond maxRetries, keeping the last error", async () => {
    let runs = 0;
    const q = await start(
      makeQueue(fx.db, [
        {
          jobType: 103,
          needRetry: true,
          maxRetries: 2,
          waitTime: 10,
          handleJob: async () => {
            runs++;
            throw new Error(`boom ${runs}`);
          },
        },
      ]),
    );
    const row = await finalRecord(q, await q.add(103, {}));
    expect(row.status).toBe(JobStatus.Failed);
    expect(runs).toBe(3);
    expect(row.attempts).toBe(3);
    expect(row.lastError).toMatch(/gave up after 3 attempts: Error: boom 3/);
  });

  it("a throw without needRetry fails at once; throwing a string, undefined or null is recorded, not a crash", async () => {
    const thrown: Record<string, unknown> = { string: "plain string", undefined, null: null };
    const q = await start(
      makeQueue(fx.db, [
        {
          jobType: 104,
          handleJob: async (job) => {
            throw thrown[(job.params as { what: string }).what];
          },
        },
      ]),
    );
    const a = await finalRecord(q, await q.add(104, { what: "string" }));
    const b = await finalRecord(q, await q.add(104, { what: "undefined" }));
    const c = await finalRecord(q, await q.add(104, { what: "null" }));
    expect(a).toMatchObject({ status: JobStatus.Failed, attempts: 1, lastError: "plain string" });
    expect(b).toMatchObject({ status: JobStatus.Failed, lastError: "the handler threw undefined" });
    expect(c).toMatchObject({ status: JobStatus.Failed, lastError: "the handler threw null" });
  });

  it("Continue re-runs after waitTime without counting attempts", async () => {
    let runs = 0;
    const q = await start(
      makeQueue(fx.db, [
        {
          jobType: 105,
          waitTime: 20,
          handleJob: async () => (++runs < 4 ? JobStatus.Continue : JobStatus.Success),
        },
      ]),
    );
    const row = await finalRecord(q, await q.add(105, {}));
    expect(runs).toBe(4);
    expect(row).toMatchObject({ status: JobStatus.Success, attempts: 1 });
  });

  it("a returned value that is no status fails the job with a message saying so", async () => {
    const q = await start(
      makeQueue(fx.db, [{ jobType: 106, handleJob: async () => 42 as unknown as JobStatus }]),
    );
    const row = await finalRecord(q, await q.add(106, {}));
    expect(row.status).toBe(JobStatus.Failed);
    expect(row.lastError).toMatch(/returned 42, which is not a JobStatus/);
  });

  it("params that are not JSON (inserted by plain SQL) give a recorded failure and the queue keeps running", async () => {
    const ran: number[] = [];
    const q = await start(
      makeQueue(fx.db, [{ jobType: 107, handleJob: async (job) => void ran.push(job.id) }]),
    );
    await x(fx.db, SEED_INSERT, ["{not json", 107, 0, 0, 1, 1]);
    const good = await q.add(107, { ok: true });
    expect((await finalRecord(q, good)).status).toBe(JobStatus.Success);
    const bad = await waitFor("the bad row to fail", async () => {
      for (let id = good - 1; id > 0; id--) {
        const r = await q.getJob(id);
        if (r?.jobType === 107) return r.status === JobStatus.Failed ? r : undefined;
      }
      return undefined;
    });
    expect(bad.lastError).toMatch(/not valid JSON/);
    expect(ran).toEqual([good]);
  });

  it("leaves jobs of types it does not run untouched", async () => {
    const q = await start(makeQueue(fx.db, [{ jobType: 108, handleJob: async () => {} }]));
    const other = await q.add(9108 as 108, {});
    await finalRecord(q, await q.add(108, {}));
    expect(await q.getJob(other)).toMatchObject({
      status: JobStatus.Init,
      attempts: 0,
      workerId: null,
    });
  });

  it("a handler that outlives its timeout has its signal aborted and is retried", async () => {
    let aborted = 0;
    let runs = 0;
    const q = await start(
      makeQueue(fx.db, [
        {
          jobType: 109,
          needRetry: true,
          maxRetries: 1,
          waitTime: 10,
          timeout: 100,
          handleJob: async (_job, ctx) => {
            runs++;
            if (runs > 1) return JobStatus.Success;
            ctx.signal.addEventListener("abort", () => aborted++);
            await new Promise(() => {}); // never settles
          },
        },
      ]),
    );
    const row = await finalRecord(q, await q.add(109, {}));
    expect(row).toMatchObject({ status: JobStatus.Success, attempts: 2 });
    expect(aborted).toBe(1);
  });

  it("delays by the database's clock: a delayed job does not start before it is due", async () => {
    const started: number[] = [];
    const q = await start(
      makeQueue(fx.db, [{ jobType: 110, handleJob: async () => void started.push(Date.now()) }]),
    );
    const before = Date.now();
    const id = await q.add(110, {}, { delay: "400ms" });
    const atId = await q.add(110, {}, { startTime: new Date(Date.now() + 300) });
    await finalRecord(q, id);
    await finalRecord(q, atId);
    expect(started).toHaveLength(2);
    for (const t of started) expect(t - before).toBeGreaterThanOrEqual(290);
    expect((await q.getJob(id))!.runAt).toBeGreaterThan(0);
  });
}
