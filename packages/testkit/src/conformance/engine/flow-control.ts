import { type ChildProcessByStdio, spawn } from "node:child_process";
import type { Readable, Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import {
  ConfigError,
  JobInputError,
  JobStatus,
  migrate,
  RateLimitedError,
} from "@persistent-queue/core";
import { expect, it } from "vitest";
import { type AdapterUnderTest, q, type TargetKind, timingIt, x } from "../context.js";
import { openFresh } from "../db/open-target.js";
import { useMigratedDatabase } from "../fixture.js";
import { finalRecord, makeQueue, waitFor } from "./helpers.js";

const FLOW_WORKER = fileURLToPath(new URL("../../../fixtures/flow-worker.mjs", import.meta.url));

/** One handler run: when it started and ended (epoch ms), its job's group, and which process ran it. */
interface Run {
  readonly id: number;
  readonly group: string;
  readonly start: number;
  end?: number;
  readonly where: string;
}

/**
 * The most runs in progress at one instant. An end and a start in the same
 * millisecond count as not overlapping: a handler's end is recorded before its
 * completion is written, and a start after the claim that followed it.
 */
export function maxOverlap(runs: readonly Run[]): number {
  const events = runs.flatMap((r) => [
    { t: r.start, d: 1 },
    { t: r.end ?? Number.POSITIVE_INFINITY, d: -1 },
  ]);
  events.sort((a, b) => a.t - b.t || a.d - b.d);
  let now = 0;
  let max = 0;
  for (const e of events) {
    now += e.d;
    max = Math.max(max, now);
  }
  return max;
}

/**
 * True when no window of `perMs` holds more than `max` of the starts, allowing
 * `slackMs` for the time between a claim (what the database counts) and its
 * handler's start (what the runs record).
 */
export function withinRate(starts: readonly number[], max: number, perMs: number, slackMs = 60) {
  const sorted = [...starts].sort((a, b) => a - b);
  for (let i = 0; i + max < sorted.length; i++) {
    if (sorted[i + max]! - sorted[i]! < perMs - slackMs) return false;
  }
  return true;
}

/** Runs recorded by handlers in this process. */
function recorder(where: string) {
  const runs: Run[] = [];
  return {
    runs,
    handleJob: async (job: { id: number; params: unknown }) => {
      const p = job.params as { ms: number; g?: string };
      const run: Run = { id: job.id, group: p.g ?? "-", start: Date.now(), where };
      runs.push(run);
      await new Promise((r) => setTimeout(r, p.ms));
      run.end = Date.now();
    },
  };
}

/** Flow control in one process: pause and resume, cluster-wide limits, groups, typed errors. */
export function flowControlTests(adapter: AdapterUnderTest, kind: TargetKind): void {
  const fx = useMigratedDatabase(adapter, kind);

  it("pause() stops claims of a type in every queue on the table until resume(); add() goes on; isPaused() and pausedTypes() say so", async () => {
    const ran: number[] = [];
    const worker = fx.track(
      makeQueue(fx.db, [
        { jobType: 1201, name: "mail", handleJob: async (job) => void ran.push(job.id) },
      ]),
    );
    // Another queue (another process, as far as the database can tell) pauses by integer.
    const operator = makeQueue(fx.db, []);
    expect(await operator.isPaused(1201)).toBe(false);
    await operator.pause(1201);
    await operator.pause(1201); // twice: still paused, no error
    expect(await worker.isPaused("mail")).toBe(true);
    expect(await operator.pausedTypes()).toContain(1201);
    await worker.start();
    const id = await worker.add("mail", { n: 1 });
    await new Promise((r) => setTimeout(r, 400)); // several claims and polls
    expect(ran).toEqual([]);
    expect((await worker.getJob(id))?.status).toBe(JobStatus.Init);
    await worker.resume("mail");
    expect(await operator.isPaused(1201)).toBe(false);
    expect((await finalRecord(worker, id, 5_000)).status).toBe(JobStatus.Success);
    expect(ran).toEqual([id]);
  });

  it("a job type paused while its jobs run: the running ones finish, no new one starts", async () => {
    const started: number[] = [];
    let release: () => void = () => {};
    const held = new Promise<void>((r) => {
      release = r;
    });
    const queue = fx.track(
      makeQueue(fx.db, [
        {
          jobType: 1202,
          workerPoolCapacity: 1,
          prefetch: 0,
          handleJob: async (job) => {
            started.push(job.id);
            await held;
          },
        },
      ]),
    );
    const [first, second] = await queue.addMany([
      { jobType: 1202, params: {} },
      { jobType: 1202, params: {} },
    ]);
    await queue.start();
    await waitFor("the first job to start", () => started.length === 1);
    await queue.pause(1202);
    release();
    expect((await finalRecord(queue, first!, 5_000)).status).toBe(JobStatus.Success);
    await new Promise((r) => setTimeout(r, 300));
    expect(started).toEqual([first]);
    expect((await queue.getJob(second!))?.status).toBe(JobStatus.Init);
    await queue.resume(1202);
    expect((await finalRecord(queue, second!, 5_000)).status).toBe(JobStatus.Success);
  });

  it("globalConcurrency caps the type's running jobs below the process's capacity", async () => {
    const r = recorder("here");
    const queue = fx.track(
      makeQueue(fx.db, [
        { jobType: 1203, workerPoolCapacity: 10, globalConcurrency: 2, handleJob: r.handleJob },
      ]),
    );
    const ids = await queue.addMany(
      Array.from({ length: 12 }, () => ({ jobType: 1203 as const, params: { ms: 30 } })),
    );
    await queue.start();
    for (const id of ids) expect((await finalRecord(queue, id)).status).toBe(JobStatus.Success);
    expect(r.runs).toHaveLength(12);
    expect(maxOverlap(r.runs)).toBe(2);
  });

  timingIt(adapter)(
    "a crashed worker's running jobs hold room in globalConcurrency until their lease expires, then no more",
    async () => {
      const r = recorder("here");
      const queue = fx.track(
        makeQueue(fx.db, [
          { jobType: 1204, globalConcurrency: 1, leaseTime: 5000, handleJob: r.handleJob },
        ]),
      );
      const [orphan, next] = await queue.addMany([
        { jobType: 1204, params: { ms: 1 } },
        { jobType: 1204, params: { ms: 1 } },
      ]);
      // A worker that died holding `orphan`: Running, its lease 700 ms from now.
      const until = Date.now() + 700;
      await x(
        fx.db,
        "UPDATE async_job_tab SET job_status = 5, attempts = 1, lease_token = 'dead', worker_id = 'crashed', lease_until = {} WHERE id = {}",
        [until, orphan!],
      );
      await queue.start();
      await waitFor("the next job to run", () => r.runs.some((run) => run.id === next), 10_000);
      const ran = r.runs.find((run) => run.id === next)!;
      // The database's clock and this one agree within a few ms on loopback.
      expect(ran.start).toBeGreaterThanOrEqual(until - 50);
      expect((await finalRecord(queue, next!)).status).toBe(JobStatus.Success);
    },
  );

  it("groupConcurrency: each group at most n at once while other groups go on; add() stores the group", async () => {
    const r = recorder("here");
    const queue = fx.track(
      makeQueue(fx.db, [
        { jobType: 1205, workerPoolCapacity: 6, groupConcurrency: 1, handleJob: r.handleJob },
      ]),
    );
    const jobs = [
      ...Array.from({ length: 8 }, () => ({ g: "busy" })),
      ...Array.from({ length: 3 }, () => ({ g: "b" })),
      ...Array.from({ length: 3 }, () => ({ g: "c" })),
    ];
    const ids = await queue.addMany(
      jobs.map((p) => ({ jobType: 1205 as const, params: { ms: 40, g: p.g }, group: p.g })),
    );
    // One job without a group: not limited by groupConcurrency.
    const loose = await queue.add(1205, { ms: 40 });
    expect((await queue.getJob(ids[0]!))?.group).toBe("busy");
    expect((await queue.getJob(loose))?.group).toBeNull();
    await queue.start();
    for (const id of [...ids, loose]) await finalRecord(queue, id);
    for (const g of ["busy", "b", "c"]) {
      expect(maxOverlap(r.runs.filter((run) => run.group === g))).toBe(1);
    }
    // The busy group, added first, held back neither b nor c: both were done long before it.
    const lastEnd = (g: string) =>
      Math.max(...r.runs.filter((x) => x.group === g).map((x) => x.end!));
    const busyEnds = r.runs
      .filter((run) => run.group === "busy")
      .map((run) => run.end!)
      .sort((a, b) => a - b);
    expect(lastEnd("b")).toBeLessThan(busyEnds[5]!);
    expect(lastEnd("c")).toBeLessThan(busyEnds[5]!);
    expect(maxOverlap(r.runs)).toBeGreaterThanOrEqual(3);
  });

  it("a limited type claims ahead only for short jobs: slow jobs are not held (as running) while they wait for a slot", async () => {
    // Claimed-ahead jobs count as running in the cluster's limits while they wait here, so
    // without an explicit prefetch a limited type claims ahead only what its handlers
    // finish within ~10 ms. These 120 ms jobs: never more held than the 2 slots. Held: the
    // type's Running rows less those whose handler ended (their outcome is being written,
    // and the worker's next claim already names them as done).
    const r = recorder("here");
    const queue = fx.track(
      makeQueue(fx.db, [
        { jobType: 1214, workerPoolCapacity: 2, groupConcurrency: 1, handleJob: r.handleJob },
      ]),
    );
    const ids = await queue.addMany(
      Array.from({ length: 6 }, (_, i) => ({
        jobType: 1214 as const,
        params: { ms: 120, g: `t${i}` },
        group: `t${i}`,
      })),
    );
    await queue.start();
    let most = 0;
    while (r.runs.filter((run) => run.end !== undefined).length < ids.length) {
      const rows = await q<{ id: unknown }>(
        fx.db,
        "SELECT id FROM async_job_tab WHERE job_type = 1214 AND job_status = 5",
      );
      const ended = new Set(r.runs.filter((run) => run.end !== undefined).map((run) => run.id));
      most = Math.max(most, rows.filter((row) => !ended.has(Number(row.id))).length);
      await new Promise((res) => setTimeout(res, 10));
    }
    for (const id of ids) expect((await finalRecord(queue, id)).status).toBe(JobStatus.Success);
    expect(most).toBeGreaterThanOrEqual(1); // the sampling saw the jobs run
    expect(most).toBeLessThanOrEqual(2);
    expect(maxOverlap(r.runs)).toBe(2);
  });

  timingIt(adapter)(
    "rateLimit: at most max starts in any window, the rest wait and run later, no attempt used",
    async () => {
      const r = recorder("here");
      const queue = fx.track(
        makeQueue(fx.db, [
          {
            jobType: 1208,
            workerPoolCapacity: 10,
            rateLimit: { max: 3, per: 500 },
            handleJob: r.handleJob,
          },
        ]),
      );
      const ids = await queue.addMany(
        Array.from({ length: 8 }, () => ({ jobType: 1208 as const, params: { ms: 1 } })),
      );
      await queue.start();
      for (const id of ids) {
        const record = await finalRecord(queue, id);
        expect(record.status).toBe(JobStatus.Success);
        expect(record.attempts).toBe(1);
      }
      const starts = r.runs.map((run) => run.start);
      expect(withinRate(starts, 3, 500)).toBe(true);
      // 8 starts at 3 per 500 ms: the last is at least two windows after the first.
      expect(Math.max(...starts) - Math.min(...starts)).toBeGreaterThanOrEqual(1000 - 60);
    },
  );

  timingIt(adapter)(
    "globalConcurrency and rateLimit together: each holds, the tighter one at each moment",
    async () => {
      const r = recorder("here");
      const queue = fx.track(
        makeQueue(fx.db, [
          {
            jobType: 1213,
            workerPoolCapacity: 10,
            globalConcurrency: 2,
            rateLimit: { max: 3, per: 500 },
            handleJob: r.handleJob,
          },
        ]),
      );
      const ids = await queue.addMany(
        Array.from({ length: 8 }, () => ({ jobType: 1213 as const, params: { ms: 100 } })),
      );
      await queue.start();
      for (const id of ids) expect((await finalRecord(queue, id)).status).toBe(JobStatus.Success);
      expect(r.runs).toHaveLength(8);
      expect(maxOverlap(r.runs)).toBe(2);
      const starts = r.runs.map((run) => run.start);
      expect(withinRate(starts, 3, 500)).toBe(true);
    },
  );

  timingIt(adapter)(
    "groupRateLimit limits each group's starts while another group goes on",
    async () => {
      const r = recorder("here");
      const queue = fx.track(
        makeQueue(fx.db, [
          {
            jobType: 1209,
            workerPoolCapacity: 10,
            groupRateLimit: { max: 2, per: "500ms" },
            handleJob: r.handleJob,
          },
        ]),
      );
      const groups = ["a", "a", "a", "a", "a", "b", "b"];
      const ids = await queue.addMany(
        groups.map((g) => ({ jobType: 1209 as const, params: { ms: 1, g }, group: g })),
      );
      await queue.start();
      for (const id of ids) await finalRecord(queue, id);
      const startsOf = (g: string) =>
        r.runs.filter((run) => run.group === g).map((run) => run.start);
      expect(withinRate(startsOf("a"), 2, 500)).toBe(true);
      expect(withinRate(startsOf("b"), 2, 500)).toBe(true);
      // b (added after a's five) started within a's first window.
      expect(Math.max(...startsOf("b"))).toBeLessThan(Math.min(...startsOf("a")) + 400);
    },
  );

  it("a handler's RateLimitedError backs the type off cluster-wide and continues the job later without using an attempt", async () => {
    const runs: { id: number; at: number }[] = [];
    let thrown = 0;
    const queue = fx.track(
      makeQueue(fx.db, [
        {
          jobType: 1210,
          workerPoolCapacity: 1,
          prefetch: 0,
          handleJob: async (job) => {
            runs.push({ id: job.id, at: Date.now() });
            if ((job.params as { limited?: boolean }).limited && thrown++ === 0)
              throw new RateLimitedError({ retryAfter: 600 });
          },
        },
      ]),
    );
    const limited = await queue.add(1210, { limited: true }, { priority: 0 });
    const other = await queue.add(1210, {}, { priority: 1 });
    await queue.start();
    expect((await finalRecord(queue, limited, 10_000)).status).toBe(JobStatus.Success);
    expect((await finalRecord(queue, other, 10_000)).status).toBe(JobStatus.Success);
    const first = runs[0]!;
    expect(first.id).toBe(limited);
    // Nothing of the type started during the back-off, in any order.
    for (const run of runs.slice(1)) expect(run.at).toBeGreaterThanOrEqual(first.at + 540);
    expect((await queue.getJob(limited))?.attempts).toBe(1);
    const [row] = await q(
      fx.db,
      "SELECT backoff_until FROM pq_job_types WHERE scope = {} AND job_type = {}",
      ["async_job_tab", 1210],
    );
    expect(Number(row?.backoff_until)).toBeGreaterThan(0);
  });

  it("ctx.backOff({ scope: 'group' }) holds that group off while other groups run; without a group it is a typed error", async () => {
    const runs: { id: number; group: string | null; at: number }[] = [];
    const errors: unknown[] = [];
    const queue = fx.track(
      makeQueue(fx.db, [
        {
          jobType: 1211,
          workerPoolCapacity: 1,
          groupConcurrency: 5,
          handleJob: async (job, ctx) => {
            runs.push({ id: job.id, group: job.group, at: Date.now() });
            if ((job.params as { hold?: boolean }).hold)
              await ctx.backOff("600ms", { scope: "group" });
            if (job.group === null)
              await ctx.backOff(600, { scope: "group" }).catch((e) => errors.push(e));
          },
        },
      ]),
    );
    const [holder, sameGroup, otherGroup, noGroup] = await queue.addMany([
      { jobType: 1211, params: { hold: true }, group: "a" },
      { jobType: 1211, params: {}, group: "a" },
      { jobType: 1211, params: {}, group: "b" },
      { jobType: 1211, params: {} },
    ]);
    await queue.start();
    for (const id of [holder!, sameGroup!, otherGroup!, noGroup!]) await finalRecord(queue, id);
    const at = (id: number) => runs.find((run) => run.id === id)!.at;
    expect(at(otherGroup!)).toBeLessThan(at(sameGroup!));
    expect(at(noGroup!)).toBeLessThan(at(sameGroup!));
    expect(at(sameGroup!)).toBeGreaterThanOrEqual(at(holder!) + 540);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(JobInputError);
    expect((errors[0] as Error).message).toMatch(/no group/);
  });

  it("a limited type whose row in pq_job_types was deleted still claims (the row is put back where claims need it)", async () => {
    const r = recorder("here");
    const queue = fx.track(
      makeQueue(fx.db, [{ jobType: 1212, globalConcurrency: 2, handleJob: r.handleJob }]),
    );
    await queue.start(); // start() made the row
    await x(fx.db, "DELETE FROM pq_job_types WHERE job_type = {}", [1212]);
    // PostgreSQL and MySQL claim through the row (put back within a second); SQLite's single
    // writer needs none.
    const id = await queue.add(1212, { ms: 1 });
    expect((await finalRecord(queue, id, 10_000)).status).toBe(JobStatus.Success);
  });

  it("invalid limits and groups are typed errors naming the field", () => {
    const bad = (value: unknown, field: "globalConcurrency" | "groupConcurrency") => {
      try {
        makeQueue(fx.db, [{ jobType: 1206, [field]: value, handleJob: async () => {} } as never]);
      } catch (error) {
        return error;
      }
      return undefined;
    };
    for (const value of [0, -1, 1.5, "3", 100_001]) {
      for (const field of ["globalConcurrency", "groupConcurrency"] as const) {
        const error = bad(value, field);
        expect(error).toBeInstanceOf(ConfigError);
        expect((error as ConfigError).message).toContain(`jobs[0].${field}`);
      }
    }
    const badRate = (value: unknown) => {
      try {
        makeQueue(fx.db, [{ jobType: 1206, rateLimit: value, handleJob: async () => {} } as never]);
      } catch (error) {
        return error as ConfigError;
      }
      return undefined;
    };
    expect(badRate({ max: 0, per: "1s" })?.field).toBe("jobs[0].rateLimit.max");
    expect(badRate({ max: 2.5, per: "1s" })?.field).toBe("jobs[0].rateLimit.max");
    expect(badRate({ max: 3 })?.field).toBe("jobs[0].rateLimit");
    expect(badRate({ max: 3, per: 0 })?.field).toBe("jobs[0].rateLimit.per");
    expect(badRate({ max: 3, per: "soon" })?.field).toBe("jobs[0].rateLimit.per");
    expect(badRate("100/min")?.field).toBe("jobs[0].rateLimit");
    expect(() => new RateLimitedError({ retryAfter: "never" })).toThrow(ConfigError);
  });

  it("add() rejects a group that is not a string of 1 to 255 characters, and pause() an unknown name", async () => {
    const queue = makeQueue(fx.db, [{ jobType: 1207, name: "known", handleJob: async () => {} }]);
    for (const group of ["", "x".repeat(256), 7]) {
      await expect(queue.add(1207, {}, { group } as never)).rejects.toThrow(JobInputError);
    }
    await expect(queue.add(1207, {}, { group: "" })).rejects.toThrow(/group/);
    await expect(queue.pause("unknown" as never)).rejects.toThrow(JobInputError);
    const rows = await q(fx.db, "SELECT COUNT(*) AS n FROM async_job_tab WHERE job_type = 1207");
    expect(Number(rows[0]?.n)).toBe(0);
  });
}

/** A worker process running the flow fixture, with its runs collected. */
function startFlowWorker(
  openModule: string,
  target: unknown,
  config: Record<string, unknown>,
): {
  child: ChildProcessByStdio<Writable, Readable, null>;
  runs: Run[];
  ready: Promise<void>;
} {
  const child = spawn(
    process.execPath,
    [FLOW_WORKER, openModule, JSON.stringify(target), JSON.stringify(config)],
    { stdio: ["pipe", "pipe", "inherit"] },
  );
  const runs = new Map<number, Run>();
  let isReady: () => void = () => {};
  const ready = new Promise<void>((resolve, reject) => {
    isReady = resolve;
    child.once("exit", (code) => reject(new Error(`the flow worker exited early (code ${code})`)));
  });
  let buffer = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    buffer += chunk;
    const lines = buffer.split("\n");
    buffer = lines.pop() ?? "";
    for (const line of lines) {
      const [word, a, b, c] = line.split(" ");
      if (word === "ready") isReady();
      if (word === "start")
        runs.set(Number(a), { id: Number(a), group: b!, start: Number(c), where: "child" });
      if (word === "end") {
        const run = runs.get(Number(a));
        if (run) run.end = Number(b);
      }
    }
  });
  return {
    child,
    ready,
    get runs() {
      return [...runs.values()];
    },
  };
}

async function stopFlowWorker(child: ChildProcessByStdio<Writable, Readable, null>) {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.stdin.end();
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
}

/**
 * Runs `jobs` of one job type (`config`) in this process and in a second one,
 * both recording every handler's start and end; resolves the runs of both,
 * once every job is final and the other process has reported each run.
 * `childFirst`: this process starts only after the other started a job.
 */
async function runInTwoProcesses(
  adapter: AdapterUnderTest,
  kind: TargetKind,
  config: { jobType: number } & Record<string, unknown>,
  jobs: readonly { params: { ms: number; g?: string }; group?: string }[],
  childFirst = false,
): Promise<{ here: Run[]; other: Run[]; all: Run[] }> {
  const main = await openFresh(adapter, kind);
  await migrate(main.db);
  const other = startFlowWorker(adapter.openModule!, main.target, config);
  const r = recorder("here");
  const queue = makeQueue(main.db, [{ ...config, handleJob: r.handleJob }]);
  try {
    await other.ready;
    const ids = await queue.addMany(jobs.map((j) => ({ ...j, jobType: config.jobType as never })));
    if (childFirst) await waitFor("the other process to start a job", () => other.runs.length > 0);
    await queue.start();
    for (const id of ids) await finalRecord(queue, id, 30_000);
    // The child's lines may arrive after its last completion is in the table.
    await waitFor(
      "every run's start and end",
      () =>
        other.runs.length + r.runs.length === jobs.length &&
        other.runs.every((run) => run.end !== undefined),
    );
    return { here: r.runs, other: other.runs, all: [...r.runs, ...other.runs] };
  } finally {
    await queue.stop({ timeoutMs: 2000 });
    await stopFlowWorker(other.child);
    await main.close();
  }
}

/** Limits across two processes, with start and end times from both (raw-driver cells: each spawns a process). */
export function flowControlProcessTests(adapter: AdapterUnderTest, kind: TargetKind): void {
  it.skipIf(!adapter.openModule)(
    "globalConcurrency holds across two processes: never more running at once than the limit",
    { timeout: 60_000 },
    async () => {
      // Capacity 2 each under a limit of 3: both processes must run some.
      const config = { jobType: 1220, workerPoolCapacity: 2, globalConcurrency: 3 };
      const runs = await runInTwoProcesses(adapter, kind, config, jobsOf(40, 25));
      expect(runs.all).toHaveLength(40);
      expect(runs.here.length).toBeGreaterThan(0);
      expect(runs.other.length).toBeGreaterThan(0);
      expect(maxOverlap(runs.all)).toBe(3);
    },
  );

  it.skipIf(!adapter.openModule)(
    "rateLimit holds across two processes: no window has more starts than the limit",
    { timeout: 60_000 },
    async () => {
      // The child takes the first window; from then on both claim at every window. (Which
      // one wins a window is a race: on SQLite the loser also waits in its busy handler.)
      const config = { jobType: 1222, workerPoolCapacity: 4, rateLimit: { max: 4, per: 500 } };
      const runs = await runInTwoProcesses(adapter, kind, config, jobsOf(14, 1), true);
      expect(runs.all).toHaveLength(14);
      expect(
        withinRate(
          runs.all.map((run) => run.start),
          4,
          500,
        ),
      ).toBe(true);
    },
  );

  it.skipIf(!adapter.openModule)(
    "groupConcurrency holds across two processes, and a busy group starves no other",
    { timeout: 60_000 },
    async () => {
      const config = { jobType: 1221, workerPoolCapacity: 3, groupConcurrency: 1 };
      const groups = [...Array(12).fill("busy"), ...Array(4).fill("b"), ...Array(4).fill("c")];
      const jobs = groups.map((g: string) => ({ params: { ms: 30, g }, group: g }));
      const { all } = await runInTwoProcesses(adapter, kind, config, jobs);
      expect(all).toHaveLength(20);
      for (const g of ["busy", "b", "c"])
        expect(maxOverlap(all.filter((run) => run.group === g))).toBe(1);
      const ends = (g: string) =>
        all
          .filter((run) => run.group === g)
          .map((run) => run.end!)
          .sort((a, b) => a - b);
      // b and c finished while the busy group (added first) still had most of its jobs to run.
      expect(Math.max(...ends("b"), ...ends("c"))).toBeLessThan(ends("busy")[7]!);
    },
  );
}

/** `n` jobs whose handlers sleep `ms`. */
const jobsOf = (n: number, ms: number) => Array.from({ length: n }, () => ({ params: { ms } }));
