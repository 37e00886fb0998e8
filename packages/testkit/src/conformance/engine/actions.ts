import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import {
  defineJob,
  JobActionError,
  JobCancelledError,
  JobInputError,
  JobNotFoundError,
  JobRunningError,
  JobStatus,
} from "@persistent-queue/core";
import { expect, it } from "vitest";
import { type AdapterUnderTest, SEED_INSERT, type TargetKind, timingIt, x } from "../context.js";
import { useMigratedDatabase } from "../fixture.js";
import { finalRecord, gate, makeQueue, waitFor } from "./helpers.js";

const CANCEL_WORKER = fileURLToPath(
  new URL("../../../fixtures/cancel-worker.mjs", import.meta.url),
);

/**
 * cancel, retry, promote, remove and listJobs: from a queue that was never
 * started (a producer), against workers in this process and in another.
 */
export function actionTests(adapter: AdapterUnderTest, kind: TargetKind): void {
  const fx = useMigratedDatabase(adapter, kind);
  /** A queue that lists no job types and is never started: a producer. */
  const producer = () => fx.track(makeQueue(fx.db, []));

  it("cancel() of a waiting job: it never runs, ends Cancelled with who cancelled it; again: false", async () => {
    const q = producer();
    const id = await q.add(701, { n: 1 }, { delay: 300 });
    const other = await q.add(701, { n: 2 }, { delay: 300 });
    expect(await q.cancel(id)).toBe(true);
    const ran: number[] = [];
    const worker = fx.track(
      makeQueue(fx.db, [{ jobType: 701, handleJob: async (job) => void ran.push(job.id) }]),
    );
    await worker.start();
    expect((await finalRecord(worker, other)).status).toBe(JobStatus.Success);
    const row = await q.getJob(id);
    expect(row).toMatchObject({ status: JobStatus.Cancelled, attempts: 0 });
    expect(row?.lastError).toMatch(/^cancelled by cancel\(\) from conformance-/);
    expect(ran).toEqual([other]);
    expect(await q.cancel(id)).toBe(false); // already final
    expect(await q.cancel(other)).toBe(false); // finished
  });

  it("cancel() of a running job from the same queue aborts ctx.signal at once with JobCancelledError; the late success changes nothing", async () => {
    const reasons: unknown[] = [];
    const lost: string[] = [];
    let started = false;
    const worker = fx.track(
      makeQueue(fx.db, [
        {
          jobType: 702,
          leaseTime: 30_000, // heartbeats every 10 s: the abort must not wait for one
          handleJob: async (_job, ctx) => {
            started = true;
            await new Promise((r) => ctx.signal.addEventListener("abort", r));
            reasons.push(ctx.signal.reason);
            return JobStatus.Success;
          },
        },
      ]),
    );
    worker.on("lost", ({ reason }) => lost.push(reason));
    await worker.start();
    const id = await worker.add(702, {});
    // The handler itself, not only the row: on MySQL a claim commits Running before its rows
    // are read back, and a job cancelled in that gap rightly never starts.
    await waitFor("the handler to start", () => started);
    expect((await worker.getJob(id))?.status).toBe(JobStatus.Running);
    const sent = Date.now();
    expect(await worker.cancel(id)).toBe(true);
    await waitFor("the signal to abort", () => reasons.length === 1, 2000);
    expect(Date.now() - sent).toBeLessThan(1000);
    expect(reasons[0]).toBeInstanceOf(JobCancelledError);
    expect(reasons[0]).toMatchObject({ code: "ERR_PQ_JOB_CANCELLED", jobId: id });
    await waitFor("the result to be discarded", () => lost.length === 1);
    expect(lost[0]).toMatch(/cancelled by cancel\(\)/);
    const row = await worker.getJob(id);
    expect(row).toMatchObject({ status: JobStatus.Cancelled, leaseUntil: 0, attempts: 1 });
    expect(row?.lastError).toMatch(/cancelled by cancel\(\)/);
    expect(worker.activeCount).toBe(0);
  });

  it("cancel() of a job claimed ahead (prefetch) and waiting for a slot: it never starts", async () => {
    const slot = gate();
    const ran: number[] = [];
    const worker = fx.track(
      makeQueue(fx.db, [
        {
          jobType: 712,
          workerPoolCapacity: 1,
          prefetch: 1,
          handleJob: async (job) => {
            ran.push(job.id);
            await slot.promise;
          },
        },
      ]),
    );
    await worker.start();
    const [first, ahead] = await worker.addMany([
      { jobType: 712, params: { n: 1 } },
      { jobType: 712, params: { n: 2 } },
    ]);
    await waitFor("both to be claimed, one running", async () => {
      const rows = await Promise.all([worker.getJob(first!), worker.getJob(ahead!)]);
      return ran.length === 1 && rows.every((r) => r?.status === JobStatus.Running);
    });
    expect(await worker.cancel(ahead!)).toBe(true);
    slot.open();
    expect((await finalRecord(worker, first!)).status).toBe(JobStatus.Success);
    await waitFor("the worker to let go of both", () => worker.activeCount === 0);
    expect(ran).toEqual([first]);
    expect((await worker.getJob(ahead!))?.status).toBe(JobStatus.Cancelled);
  });

  timingIt(adapter, !adapter.openModule)(
    "cancel() from this process of a job running in a second process: its signal aborts within a heartbeat, the row stays Cancelled",
    { timeout: 60_000 },
    async () => {
      const leaseMs = 900; // heartbeats every 300 ms
      const child = spawn(
        process.execPath,
        [CANCEL_WORKER, adapter.openModule!, JSON.stringify(fx.target), "703", String(leaseMs)],
        { stdio: ["ignore", "pipe", "inherit"] },
      );
      const lines: string[] = [];
      const seen = new Map<string, number>();
      child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
        for (const line of chunk.split("\n").filter(Boolean)) {
          lines.push(line);
          seen.set(line, Date.now());
        }
      });
      try {
        const has = (prefix: string) => lines.find((l) => l.startsWith(prefix));
        /** The line starting with `prefix`, once printed; throws if the process died first. */
        const line = (prefix: string) => {
          if (child.exitCode !== null)
            throw new Error(`the worker process exited (code ${child.exitCode})`);
          return has(prefix);
        };
        await waitFor("the worker process to start", () => line("ready"), 30_000);
        const q = producer();
        const id = await q.add(703, { slow: true });
        await waitFor("the job to start there", () => line(`started ${id}`), 15_000);
        const sent = Date.now();
        expect(await q.cancel(id)).toBe(true);
        const aborted = await waitFor(
          "the other process's signal to abort",
          () => line(`aborted ${id} `),
          10_000,
        );
        const tookMs = seen.get(aborted)! - sent;
        expect(aborted).toBe(`aborted ${id} JobCancelledError ERR_PQ_JOB_CANCELLED`);
        // One heartbeat is leaseMs / 3 = 300 ms; the statement and stdout add a little.
        expect(tookMs).toBeLessThan(leaseMs / 3 + 700);
        await waitFor("its late success to be discarded", () => has(`lost ${id}`), 10_000);
        const row = await q.getJob(id);
        expect(row).toMatchObject({ status: JobStatus.Cancelled, leaseUntil: 0 });
        expect(row?.lastError).toMatch(/^cancelled by cancel\(\) from conformance-/);
        console.info(
          `[cancel ${adapter.adapter}/${kind}] other process aborted after ${tookMs} ms`,
        );
      } finally {
        if (child.exitCode === null) child.kill("SIGKILL");
      }
    },
  );

  it("retry() runs a Failed job and a Cancelled job again, attempts from 0; a finished or waiting job: false", async () => {
    let fail = true;
    const worker = fx.track(
      makeQueue(fx.db, [
        {
          jobType: 704,
          handleJob: async () => (fail ? JobStatus.Failed : JobStatus.Success),
        },
      ]),
    );
    await worker.start();
    const failed = await worker.add(704, {});
    expect(await finalRecord(worker, failed)).toMatchObject({
      status: JobStatus.Failed,
      attempts: 1,
    });
    const q = producer();
    const cancelled = await q.add(704, {}, { delay: "1h" });
    expect(await q.cancel(cancelled)).toBe(true);
    fail = false;
    expect(await q.retry(failed)).toBe(true);
    const again = await finalRecord(worker, failed);
    expect(again).toMatchObject({ status: JobStatus.Success, attempts: 1 });
    expect(await q.retry(cancelled)).toBe(true); // due now, not in an hour
    expect(await finalRecord(worker, cancelled)).toMatchObject({
      status: JobStatus.Success,
      attempts: 1,
    });
    expect(await q.retry(failed)).toBe(false); // Success
    const waiting = await q.add(704, {}, { delay: "1h" });
    expect(await q.retry(waiting)).toBe(false);
    expect((await q.getJob(waiting))?.status).toBe(JobStatus.Init);
  });

  it("retry() that would give a unique key a second unfinished job is refused with a JobActionError", async () => {
    const now = Math.floor(Date.now() / 1000);
    const insert = `${SEED_INSERT.replace(", update_time)", ", update_time, unique_key)").replace("{})", "{}, {})")}`;
    await x(fx.db, insert, ["{}", 705, JobStatus.Failed, 0, now, now, "k-705"]);
    await x(fx.db, insert, ["{}", 705, JobStatus.Init, 2_000_000_000, now, now, "k-705"]);
    const q = producer();
    const page = await q.listJobs({ jobType: 705 });
    const failed = page.jobs.find((j) => j.status === JobStatus.Failed)!.id;
    const error = await q.retry(failed).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobActionError);
    expect(error).toMatchObject({ code: "ERR_PQ_JOB_CONFLICT", action: "retry", jobId: failed });
    expect((await q.getJob(failed))?.status).toBe(JobStatus.Failed);
  });

  it("promote() runs a delayed job now; a job already due or finished: false", async () => {
    const ran: number[] = [];
    const worker = fx.track(
      makeQueue(fx.db, [{ jobType: 706, handleJob: async (job) => void ran.push(job.id) }]),
    );
    const q = producer();
    const due = await q.add(706, {});
    expect(await q.promote(due)).toBe(false); // nothing to bring forward
    const delayed = await q.add(706, {}, { delay: "1h" });
    const later = await q.add(706, {}, { startTime: new Date(Date.now() + 3_600_000) });
    await worker.start();
    await finalRecord(worker, due);
    expect(await q.promote(delayed)).toBe(true);
    expect((await finalRecord(worker, delayed)).status).toBe(JobStatus.Success);
    expect(await q.promote(delayed)).toBe(false);
    expect((await q.getJob(later))?.status).toBe(JobStatus.Init); // not promoted: still waits
    expect(ran.sort()).toEqual([due, delayed].sort());
  });

  it("remove() deletes a waiting or finished job; a running one needs cancel() first (JobRunningError)", async () => {
    const q = producer();
    const waiting = await q.add(707, {}, { delay: "1h" });
    expect(await q.remove(waiting)).toBe(true);
    expect(await q.getJob(waiting)).toBeUndefined();
    const again = await q.remove(waiting).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(JobNotFoundError);
    const worker = fx.track(
      makeQueue(fx.db, [
        {
          jobType: 707,
          handleJob: async (_job, ctx) => {
            await new Promise((r) => ctx.signal.addEventListener("abort", r));
          },
        },
      ]),
    );
    await worker.start();
    const running = await worker.add(707, {});
    await waitFor(
      "the job to run",
      async () => (await q.getJob(running))?.status === JobStatus.Running,
    );
    const refused = await q.remove(running).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(JobRunningError);
    expect(refused).toMatchObject({ code: "ERR_PQ_JOB_RUNNING", workerId: worker.workerId });
    expect((refused as Error).message).toMatch(/cancel\(\d+\) first/);
    expect(await q.cancel(running)).toBe(true);
    expect(await q.remove(running)).toBe(true);
    expect(await q.getJob(running)).toBeUndefined();
  });

  it("unknown ids reject with JobNotFoundError, bad ids and listJobs input with JobInputError", async () => {
    const q = producer();
    const missing = 2_000_000_000;
    for (const action of ["cancel", "retry", "promote", "remove"] as const) {
      const error = await q[action](missing).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(JobNotFoundError);
      expect(error).toMatchObject({ code: "ERR_PQ_JOB_NOT_FOUND", action, jobId: missing });
      for (const bad of [0, -1, 1.5, "7", Number.NaN]) {
        await expect(q[action](bad as number)).rejects.toBeInstanceOf(JobInputError);
      }
    }
    const bad = [
      { limit: 0 },
      { limit: 501 },
      { limit: 2.5 },
      { status: 9 as JobStatus },
      { status: [] },
      { cursor: "abc" },
      { cursor: "0" },
      { jobType: "no-such-name" },
      { search: 42 as unknown as string },
      { scanLimit: 999 },
      { scanLimit: 1500.5 },
      { scanLimit: "100000" },
    ];
    for (const options of bad) {
      const error = await q.listJobs(options as never).catch((e: unknown) => e);
      expect(error, JSON.stringify(options)).toBeInstanceOf(JobInputError);
    }
    expect((await q.listJobs({ limit: 500 })).jobs).toBeInstanceOf(Array);
  });

  it("listJobs() filters by job type (integer, name, definition) and status, newest first", async () => {
    const report = defineJob({ jobType: 708, name: "report" });
    const q = fx.track(makeQueue(fx.db, [report]));
    const a = await q.add("report", { n: 1 });
    const other = producer(); // lists no types: any integer goes
    const b = await other.add(709, { n: 2 });
    const c = await q.add(708, { n: 3 }, { delay: "1h" });
    expect(await q.cancel(c)).toBe(true);
    const ids = async (options: Parameters<typeof q.listJobs>[0]) =>
      (await q.listJobs(options)).jobs.map((j) => j.id);
    expect(await ids({ jobType: 708 })).toEqual([c, a]);
    expect(await ids({ jobType: "report" })).toEqual([c, a]);
    expect(await ids({ jobType: report })).toEqual([c, a]);
    expect(await ids({ jobType: 708, status: JobStatus.Init })).toEqual([a]);
    expect(await ids({ jobType: 708, status: [JobStatus.Cancelled, JobStatus.Failed] })).toEqual([
      c,
    ]);
    const [first] = (await other.listJobs({ jobType: 709 })).jobs;
    expect(first).toMatchObject({ id: b, jobType: 709, status: JobStatus.Init, params: { n: 2 } });
    const [named] = (await q.listJobs({ jobType: 708, status: JobStatus.Init })).jobs;
    expect(named).toMatchObject({ id: a, name: "report", params: { n: 1 } });
  });

  it("listJobs() search: a case-insensitive substring of the params JSON, % _ and ! matching themselves", async () => {
    const q = producer();
    const pct = await q.add(710, { code: "50%_OFF" });
    const plain = await q.add(710, { code: "50ab_off" });
    const bang = await q.add(710, { code: "a!b" });
    await q.add(710, { code: "axb", note: "nothing here" });
    const order = await q.add(710, { ref: "Order-42" });
    const ids = async (search: string) =>
      (await q.listJobs({ jobType: 710, search })).jobs.map((j) => j.id);
    expect(await ids("50%_off")).toEqual([pct]);
    expect(await ids("_off")).toEqual([pct, plain].sort((x, y) => y - x));
    expect(await ids("%")).toEqual([pct]);
    expect(await ids("a!b")).toEqual([bang]);
    expect(await ids("order-42")).toEqual([order]);
    expect(await ids('"ref":"ORDER')).toEqual([order]);
    expect(await ids("no such text")).toEqual([]);
  });

  it("listJobs() pages by cursor without repeats or gaps while jobs are being added", async () => {
    const q = producer();
    const before = await q.addMany(
      Array.from({ length: 45 }, (_, i) => ({ jobType: 711 as const, params: { i } })),
    );
    const seen: number[] = [];
    const added: number[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await q.listJobs({ jobType: 711, limit: 7, ...(cursor ? { cursor } : {}) });
      expect(page.jobs.length).toBeLessThanOrEqual(7);
      seen.push(...page.jobs.map((j) => j.id));
      added.push(await q.add(711, { late: pages })); // newer than every page: never listed now
      cursor = page.nextCursor;
      pages++;
    } while (cursor !== undefined);
    expect(pages).toBe(7); // 45 = 6 × 7 + 3
    expect(seen).toEqual([...before].reverse());
    expect(new Set(seen).size).toBe(seen.length);
    const fresh = await q.listJobs({ jobType: 711, limit: 500 });
    expect(fresh.jobs.map((j) => j.id)).toEqual([...before, ...added].reverse());
    expect(fresh.nextCursor).toBeUndefined();
  });

  it("listJobs() with scanLimit: a search looks at that many ids per page and goes on from there; an index-served filter is not bounded", async () => {
    const q = producer();
    const needle = await q.add(713, { ref: "needle-7f3" });
    await q.addMany(
      Array.from({ length: 2500 }, (_, i) => ({ jobType: 714 as const, params: { i } })),
    );
    const top = (await q.listJobs({ limit: 1 })).jobs[0]!.id;
    const seen: number[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await q.listJobs({
        search: "needle-7f3",
        scanLimit: 1000,
        ...(cursor ? { cursor } : {}),
      });
      seen.push(...page.jobs.map((j) => j.id));
      if (page.scannedDownTo !== undefined) {
        // Each page looked at exactly the 1,000 ids below its cursor.
        expect(page.scannedDownTo).toBe((cursor ? Number(cursor) : top + 1) - 1000);
        expect(page.nextCursor).toBe(String(page.scannedDownTo));
      }
      cursor = page.nextCursor;
      pages++;
    } while (cursor !== undefined && pages < 100);
    expect(seen).toEqual([needle]);
    expect(pages).toBeGreaterThanOrEqual(3); // 2,501 ids and more: at least three scans
    // One type, one status: the claim index serves it; no bound, though the only match
    // lies 2,500 ids below the newest.
    const served = await q.listJobs({ jobType: 713, status: JobStatus.Init, scanLimit: 1000 });
    expect(served.jobs.map((j) => j.id)).toEqual([needle]);
    expect(served.scannedDownTo).toBeUndefined();
    expect(served.nextCursor).toBeUndefined();
  });
}
