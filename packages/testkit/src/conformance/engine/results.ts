import { spawn } from "node:child_process";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import {
  ConfigError,
  defineJob,
  type Job,
  JobNotFoundError,
  JobOutputError,
  JobStatus,
  PersistentQueue,
  WaitTimeoutError,
} from "@persistent-queue/core";
import { expect, expectTypeOf, it } from "vitest";
import { type AdapterUnderTest, q, skipInProcess, type TargetKind, x } from "../context.js";
import { useMigratedDatabase } from "../fixture.js";
import { gate, intercept, makeQueue, waitFor } from "./helpers.js";

const RESULTS_WORKER = fileURLToPath(
  new URL("../../../fixtures/results-worker.mjs", import.meta.url),
);

/** Handler results, ctx.progress() and waitFor(): stored, read back, throttled, fenced, awaited across processes. */
export function resultsTests(adapter: AdapterUnderTest, kind: TargetKind): void {
  const fx = useMigratedDatabase(adapter, kind);

  it("stores { result } with the outcome (batched successes included) and getJob() reads it back, typed; a bare status or nothing still work", async () => {
    const double = defineJob<{ n: number }, { doubled: number }>()({
      jobType: 601,
      name: "double",
    });
    const queue = fx.track(
      makeQueue(fx.db, [
        // Only even n return a result: a batch then mixes runs with and without one.
        double.handle(async (job) =>
          job.params.n % 2 === 0 ? { result: { doubled: job.params.n * 2 } } : undefined,
        ),
        { jobType: 602, handleJob: async () => JobStatus.Success },
        { jobType: 603, handleJob: async () => {} },
        {
          jobType: 604,
          handleJob: async () => ({ status: JobStatus.Failed, result: { partial: "ü✓" } }),
        },
        {
          jobType: 605,
          handleJob: async () => ({ status: JobStatus.Success, result: null }),
        },
      ]),
    );
    await queue.start();
    const ids = await queue.addMany(
      Array.from({ length: 60 }, (_, n) => ({ jobType: 601 as const, params: { n } })),
    );
    const bare = await queue.add(602, {});
    const nothing = await queue.add(603, {});
    const failed = await queue.add(604, {});
    const nul = await queue.add(605, {});
    for (const id of ids) await queue.waitFor(id, { timeout: "20s" });
    for (const [i, id] of ids.entries()) {
      const rec = await queue.getJob(id, "double");
      expectTypeOf(rec!.result).toEqualTypeOf<{ doubled: number } | undefined>();
      expect(rec).toMatchObject({ status: JobStatus.Success });
      expect(rec!.result).toEqual(i % 2 === 0 ? { doubled: i * 2 } : undefined);
    }
    expect(await queue.waitFor(bare)).toEqual({
      status: JobStatus.Success,
      result: undefined,
      error: null,
    });
    expect((await queue.waitFor(nothing)).status).toBe(JobStatus.Success);
    expect(await queue.waitFor(failed)).toEqual({
      status: JobStatus.Failed,
      result: { partial: "ü✓" },
      error: "Error: the handler returned Failed",
    });
    expect((await queue.getJob(failed))?.result).toEqual({ partial: "ü✓" });
    expect((await queue.waitFor(nul)).result).toBeNull();
    const [raw] = await q(fx.db, "SELECT result FROM async_job_tab WHERE id = {}", [ids[4]!]);
    expect(JSON.parse(String(raw?.result))).toEqual({ doubled: 8 });
  });

  it("a result over maxResultBytes, or not JSON, fails the job (final, no retry) with a JobOutputError on the error event; the queue keeps running", async () => {
    const errors: { error: unknown; during: string; jobType?: number | undefined }[] = [];
    const queue = fx.track(
      makeQueue(fx.db, [
        {
          jobType: 611,
          needRetry: true,
          maxResultBytes: 100,
          handleJob: async (job: Job<{ kind: string }>) => {
            if (job.params.kind === "big") return { result: "é".repeat(60) }; // 122 bytes of JSON
            if (job.params.kind === "bigint") return { result: { n: 10n } };
            if (job.params.kind === "object") return { url: "/x" } as never; // not { status?, result? }
            return { result: "ok" };
          },
        },
      ]),
    );
    queue.on("error", (e) => errors.push(e));
    await queue.start();
    const big = await queue.add(611, { kind: "big" });
    const bigint = await queue.add(611, { kind: "bigint" });
    const object = await queue.add(611, { kind: "object" });
    const fine = await queue.add(611, { kind: "fine" });
    expect(await queue.waitFor(fine)).toMatchObject({ status: JobStatus.Success, result: "ok" });
    const bigEnd = await queue.waitFor(big);
    expect(bigEnd.status).toBe(JobStatus.Failed);
    expect(bigEnd.result).toBeUndefined();
    expect(bigEnd.error).toMatch(
      /^JobOutputError: the job's result is 122 bytes of JSON, over the job type's limit of 100 \(maxResultBytes\)/,
    );
    expect((await queue.waitFor(bigint)).error).toMatch(
      /^JobOutputError: the job's result is not JSON-serialisable/,
    );
    expect((await queue.waitFor(object)).error).toMatch(/returned an object with the key\(s\) url/);
    for (const id of [big, bigint, object]) {
      const rec = await queue.getJob(id);
      expect(rec).toMatchObject({ status: JobStatus.Failed, attempts: 1, result: undefined });
    }
    await waitFor("two error events", () => errors.length >= 2);
    const outputErrors = errors.filter((e) => e.error instanceof JobOutputError);
    expect(outputErrors).toHaveLength(2);
    expect(outputErrors.every((e) => e.during === "result" && e.jobType === 611)).toBe(true);
    const tooLarge = outputErrors.map((e) => e.error as JobOutputError).find((e) => e.bytes);
    expect(tooLarge).toMatchObject({
      code: "ERR_PQ_OUTPUT_TOO_LARGE",
      field: "result",
      bytes: 122,
      limit: 100,
    });
    // Still running: a later job runs.
    const after = await queue.add(611, { kind: "fine" });
    expect((await queue.waitFor(after)).status).toBe(JobStatus.Success);
  });

  it("ctx.progress() writes the latest value at most once per progressInterval, rejects bad values, and writes the last value before the outcome", async () => {
    let progressWrites = 0;
    const order: string[] = [];
    const db = intercept(fx.db, (sql) => {
      if (/SET progress =/.test(sql)) {
        progressWrites++;
        order.push("progress");
      } else if (/SET job_status = \S+, lease_until = 0/.test(sql)) order.push("outcome");
      return undefined;
    });
    const reported = gate();
    const proceed = gate();
    const rejections: unknown[] = [];
    const queue = fx.track(
      makeQueue(db, [
        {
          jobType: 621,
          progressInterval: "300ms",
          maxProgressBytes: 40,
          handleJob: async (_job, ctx) => {
            for (let i = 1; i <= 50; i++) void ctx.progress({ i });
            await ctx.progress({ i: 51 }); // resolves once written: the throttled write carries it
            for (const bad of [10n, "x".repeat(50)])
              await ctx.progress(bad).catch((e: unknown) => void rejections.push(e));
            reported.open();
            await proceed.promise;
            void ctx.progress("last"); // not awaited: still written before the outcome
            return { result: 1 };
          },
        },
      ]),
    );
    await queue.start();
    const id = await queue.add(621, {});
    await reported.promise;
    const mid = await queue.getJob(id);
    expect(mid).toMatchObject({ status: JobStatus.Running, progress: { i: 51 } });
    // The first call wrote at once; the other 50 waited out the interval and became one write.
    expect(progressWrites).toBe(2);
    expect(rejections).toHaveLength(2);
    expect(rejections[0]).toBeInstanceOf(JobOutputError);
    expect(rejections[0]).toMatchObject({ code: "ERR_PQ_OUTPUT_NOT_JSON", field: "progress" });
    expect(rejections[1]).toMatchObject({
      code: "ERR_PQ_OUTPUT_TOO_LARGE",
      field: "progress",
      bytes: 52,
      limit: 40,
    });
    proceed.open();
    await queue.waitFor(id);
    expect(await queue.getJob(id)).toMatchObject({
      status: JobStatus.Success,
      progress: "last",
      result: 1,
    });
    expect(progressWrites).toBe(3);
    expect(order.slice(-2)).toEqual(["progress", "outcome"]);
  });

  it("ctx.progress() is fenced by the lease token: a run whose lease was taken over writes nothing", async () => {
    const lost: number[] = [];
    let settled: unknown = "pending";
    const queue = fx.track(
      makeQueue(fx.db, [
        {
          jobType: 631,
          progressInterval: 0,
          handleJob: async (job, ctx) => {
            await ctx.progress("mine");
            // Another worker's claim replaced this run's token (as after an expired lease).
            await x(fx.db, "UPDATE async_job_tab SET lease_token = {} WHERE id = {}", [
              "another-worker-token",
              job.id,
            ]);
            settled = await ctx.progress("stale").then(() => "resolved");
            return { result: "stale" };
          },
        },
      ]),
    );
    queue.on("lost", (e) => lost.push(e.jobId));
    await queue.start();
    const id = await queue.add(631, {});
    await waitFor("the stale run's outcome to be discarded", () => lost.includes(id));
    expect(settled).toBe("resolved");
    expect(await queue.getJob(id)).toMatchObject({
      status: JobStatus.Running,
      progress: "mine",
      result: undefined,
    });
  });

  it("one batch of successes from two claims fences each run by its own claim's token: a run whose lease was taken over is lost, the others complete", async () => {
    const release = gate();
    const started = new Set<number>();
    const completed: number[] = [];
    const lost: number[] = [];
    const completions: string[] = [];
    const db = intercept(fx.db, (sql) => {
      if (/SET job_status = \S+, lease_until = 0/.test(sql)) completions.push(sql);
      return undefined;
    });
    const queue = fx.track(
      makeQueue(db, [
        {
          jobType: 632,
          workerPoolCapacity: 4,
          prefetch: 0,
          handleJob: async (job) => {
            started.add(job.id);
            await release.promise;
            return { result: job.id };
          },
        },
      ]),
    );
    queue.on("completed", (e) => completed.push(e.job.id));
    queue.on("lost", (e) => lost.push(e.jobId));
    await queue.start();
    // Two claims (addMany: never handed off in-process), so two lease tokens among the four runs.
    const first = await queue.addMany([
      { jobType: 632, params: {} },
      { jobType: 632, params: {} },
    ]);
    await waitFor("the first claim's jobs to start", () => first.every((id) => started.has(id)));
    const second = await queue.addMany([
      { jobType: 632, params: {} },
      { jobType: 632, params: {} },
    ]);
    await waitFor("the second claim's jobs to start", () => second.every((id) => started.has(id)));
    const tokens = await q<{ id: unknown; lease_token: unknown }>(
      fx.db,
      "SELECT id, lease_token FROM async_job_tab WHERE job_type = {} ORDER BY id",
      [632],
    );
    expect(new Set(tokens.map((r) => r.lease_token)).size).toBe(2);
    // Another worker took one job of the second claim over (as after an expired lease).
    const stolen = second[0] as number;
    await x(fx.db, "UPDATE async_job_tab SET lease_token = {} WHERE id = {}", [
      "another-worker-token",
      stolen,
    ]);
    const before = completions.length;
    release.open(); // all four finish in one turn: one batch
    await waitFor("every run to settle", () => completed.length + lost.length === 4);
    expect(completions.length - before).toBe(1);
    expect(lost).toEqual([stolen]);
    expect(completed.sort((a, b) => a - b)).toEqual([...first, second[1]]);
    const rows = await q<{ id: unknown; job_status: unknown; lease_token: unknown }>(
      fx.db,
      "SELECT id, job_status, lease_token FROM async_job_tab WHERE job_type = {} ORDER BY id",
      [632],
    );
    expect(rows.map((r) => [Number(r.id), Number(r.job_status)])).toEqual([
      [first[0], JobStatus.Success],
      [first[1], JobStatus.Success],
      [stolen, JobStatus.Running],
      [second[1], JobStatus.Success],
    ]);
    expect(rows[2]?.lease_token).toBe("another-worker-token");
  });

  it("waitFor() resolves success and failure on the running queue and on a queue that was never started; sees a status nobody announced; rejects a timeout, an unknown id and a bad timeout with typed errors", async () => {
    const worker = fx.track(
      makeQueue(fx.db, [
        {
          jobType: 641,
          handleJob: async (job: Job<{ fail?: boolean }>) => {
            await new Promise((r) => setTimeout(r, 200));
            if (job.params.fail) throw new Error("boom");
            return { result: { ok: true } };
          },
        },
      ]),
    );
    await worker.start();
    const producer = new PersistentQueue({ db: fx.db, serviceName: "producer", jobs: [] });
    const ok = await producer.add(641, {});
    const bad = await producer.add(641, { fail: true });
    const [a, b, c] = await Promise.all([
      worker.waitFor(ok),
      producer.waitFor(ok, { timeout: "10s" }),
      producer.waitFor(bad, { timeout: 10_000, jobType: 641 }),
    ]);
    expect(a).toEqual({ status: JobStatus.Success, result: { ok: true }, error: null });
    expect(b).toEqual(a);
    expect(c).toEqual({ status: JobStatus.Failed, result: undefined, error: "Error: boom" });

    const nobodyRuns = await producer.add(649, {});
    const t0 = performance.now();
    const timeout = await producer.waitFor(nobodyRuns, { timeout: "300ms" }).catch((e) => e);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(290);
    expect(timeout).toBeInstanceOf(WaitTimeoutError);
    expect(timeout).toMatchObject({
      code: "ERR_PQ_WAIT_TIMEOUT",
      jobId: nobodyRuns,
      lastStatus: JobStatus.Init,
      timeoutMs: 300,
    });
    expect((timeout as Error).message).toContain(`job ${nobodyRuns} did not finish within 300 ms`);
    // A final status nobody announces (plain SQL here; a rescue, a Go service) is read in time.
    const cancelled = producer.waitFor(nobodyRuns, { timeout: "10s" });
    await new Promise((r) => setTimeout(r, 100));
    await x(fx.db, "UPDATE async_job_tab SET job_status = {}, last_error = {} WHERE id = {}", [
      JobStatus.Cancelled,
      "cancelled by an operator",
      nobodyRuns,
    ]);
    expect(await cancelled).toEqual({
      status: JobStatus.Cancelled,
      result: undefined,
      error: "cancelled by an operator",
    });
    // cancel() wakes the waiters of the job it cancels.
    const toCancel = await producer.add(649, {});
    const waiting = producer.waitFor(toCancel, { timeout: "10s" });
    await new Promise((r) => setTimeout(r, 50));
    expect(await producer.cancel(toCancel)).toBe(true);
    expect((await waiting).status).toBe(JobStatus.Cancelled);
    const unknown = await producer.waitFor(nobodyRuns + 1_000_000).catch((e) => e);
    expect(unknown).toBeInstanceOf(JobNotFoundError);
    expect(unknown).toMatchObject({ code: "ERR_PQ_JOB_NOT_FOUND", jobId: nobodyRuns + 1_000_000 });
    const otherType = await producer.waitFor(ok, { jobType: 642 }).catch((e) => e);
    expect(otherType).toBeInstanceOf(JobNotFoundError);
    await expect(producer.waitFor(ok, { timeout: "soon" })).rejects.toBeInstanceOf(ConfigError);
    await expect(producer.waitFor(1.5)).rejects.toThrow(/integer job id/);
  });

  // Without openModule: skipped, with the reason when the database lives in the test process.
  it.skipIf(!adapter.openModule && adapter.inProcessOnly === undefined)(
    "waitFor() resolves for jobs another process runs (woken by NOTIFY on PostgreSQL, polling elsewhere)",
    { timeout: 60_000 },
    async (ctx) => {
      skipInProcess(ctx, adapter);
      const child = spawn(
        process.execPath,
        [RESULTS_WORKER, adapter.openModule!, JSON.stringify(fx.target), "651"],
        { stdio: ["ignore", "pipe", "inherit"] },
      );
      let ready = false;
      child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
        if (chunk.includes("ready")) ready = true;
      });
      let reads = 0;
      const db = intercept(fx.db, (sql) => {
        if (/^SELECT job_type, job_status, result, last_error/.test(sql)) reads++;
        return undefined;
      });
      const producer = new PersistentQueue({ db, serviceName: "waiter", jobs: [] });
      try {
        await waitFor(
          "the worker process to start",
          () => {
            if (child.exitCode !== null)
              throw new Error(`the worker process exited (code ${child.exitCode})`);
            return ready;
          },
          30_000,
        );
        const ok = await producer.add(651, { n: 7, ms: 1500 });
        const bad = await producer.add(651, { fail: true, ms: 1500 });
        const [done, failed] = await Promise.all([
          producer.waitFor(ok, { timeout: "20s" }),
          producer.waitFor(bad, { timeout: "20s" }),
        ]);
        expect(done).toEqual({
          status: JobStatus.Success,
          result: { pid: child.pid, n: 7 },
          error: null,
        });
        expect(failed).toEqual({
          status: JobStatus.Failed,
          result: { pid: child.pid },
          error: "Error: the handler returned Failed",
        });
        // With LISTEN a waiter reads at the start, after 1 s, and when the NOTIFY comes
        // (about 1.5 s; on a slow machine one more read each 2-5 s). Polling reads at
        // 0 and then 10 ms doubling: 8 reads each before a job of 1.5 s can have ended.
        console.info(`[waitFor ${adapter.adapter}/${kind}] outcome reads for 2 waiters: ${reads}`);
        if (kind === "postgres" && fx.db.listen) expect(reads).toBeLessThanOrEqual(10);
        else expect(reads).toBeGreaterThanOrEqual(16);
      } finally {
        if (child.exitCode === null) {
          child.kill("SIGTERM");
          await new Promise((r) => {
            const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
            child.once("exit", () => r(clearTimeout(timer)));
          });
        }
        await producer.stop({ timeoutMs: 1000 });
      }
    },
  );
}
