import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import {
  type DB,
  defineJob,
  type Job,
  type Logger,
  PersistentQueue,
  ScheduleError,
} from "@persistent-queue/core";
import { beforeEach, expect, it } from "vitest";
import { z } from "zod";
import { type AdapterUnderTest, q, type TargetKind, timingIt, x } from "../context.js";
import { useMigratedDatabase } from "../fixture.js";
import { makeQueue, waitFor } from "./helpers.js";

const SCHEDULER = fileURLToPath(new URL("../../../fixtures/scheduler.mjs", import.meta.url));

/** A logger that records the ticks of schedule `name` its queue enqueued (epoch ms), from the loop's debug line. */
function tickLogger(name: string, ticks: number[]): Logger {
  return {
    info() {},
    warn() {},
    error() {},
    debug: (fields: unknown, message: unknown) => {
      const f = fields as { schedule: string; tick: string };
      if (message === "schedule: tick enqueued" && f.schedule === name)
        ticks.push(Date.parse(f.tick));
    },
  };
}

/** The start_time (tick, unix seconds) of every job of `jobType`, ascending. */
async function tickSeconds(db: Parameters<typeof q>[0], jobType: number): Promise<number[]> {
  const rows = await q(
    db,
    "SELECT start_time FROM async_job_tab WHERE job_type = {} ORDER BY start_time, id",
    [jobType],
  );
  return rows.map((r) => Number(r.start_time));
}

/** Seconds from the first to the last, each once: what one job per tick looks like. */
function consecutive(seconds: readonly number[]): number[] {
  if (seconds.length === 0) return [];
  return Array.from({ length: seconds.at(-1)! - seconds[0]! + 1 }, (_, i) => seconds[0]! + i);
}

/** Cron schedules: ticks become jobs once in the cluster, unschedule, backfill, bad input. */
export function scheduleTests(adapter: AdapterUnderTest, kind: TargetKind): void {
  const fx = useMigratedDatabase(adapter, kind);
  // Each test starts with no schedules: one left by a failed test would enqueue into the next.
  beforeEach(() => x(fx.db, "DELETE FROM pq_schedules"));

  timingIt(adapter)(
    "each tick of a schedule (every second, Europe/Berlin) becomes one job whose startTime is the tick; listSchedules reports it",
    async () => {
      const ran: { startTime: number; params: unknown }[] = [];
      const queue = fx.track(
        new PersistentQueue({
          db: fx.db,
          serviceName: "conformance",
          pollInterval: 100,
          jobs: [
            {
              jobType: 451,
              name: "heartbeat",
              handleJob: async (job: Job<{ hello: number }>) =>
                void ran.push({ startTime: job.startTime, params: job.params }),
            },
          ],
          schedules: [
            {
              name: "every-second",
              cron: "* * * * * *",
              tz: "Europe/Berlin",
              jobType: "heartbeat",
              params: { hello: 1 },
            },
          ],
        }),
      );
      const before = Math.floor(Date.now() / 1000);
      await queue.start();
      await waitFor("three ticks to run", () => ran.length >= 3, 10_000);
      await queue.stop({ timeoutMs: 2000 });
      const seconds = await tickSeconds(fx.db, 451);
      expect(seconds).toEqual(consecutive(seconds));
      expect(seconds[0]).toBeGreaterThanOrEqual(before);
      expect(ran[0]!.params).toEqual({ hello: 1 });
      expect(ran.map((r) => r.startTime)).toEqual(seconds.slice(0, ran.length));
      const [info, ...others] = await queue.listSchedules();
      expect(others).toEqual([]);
      expect(info).toMatchObject({
        name: "every-second",
        cron: "* * * * * *",
        tz: "Europe/Berlin",
        jobType: 451,
        jobName: "heartbeat",
        params: { hello: 1 },
        priority: 0,
        backfillMs: 0,
        source: "config",
      });
      expect(info!.lastRun?.getTime()).toBe(seconds.at(-1)! * 1000);
      expect(info!.nextRun?.getTime()).toBe(seconds.at(-1)! * 1000 + 1000);
    },
  );

  timingIt(adapter)(
    "schedule() without start() only writes the row; a started queue runs it; unschedule() stops it in every process",
    async () => {
      const producer = new PersistentQueue({ db: fx.db, serviceName: "producer", jobs: [] });
      await producer.schedule({ name: "runtime-every-second", cron: "* * * * * *", jobType: 455 });
      const [row] = await producer.listSchedules();
      expect(row).toMatchObject({ name: "runtime-every-second", source: "runtime", tz: "UTC" });
      expect(row!.nextRun!.getTime()).toBeGreaterThan(Date.now() - 1500);
      // Nothing runs the schedule yet: no job, however long.
      await new Promise((r) => setTimeout(r, 1500));
      expect(await tickSeconds(fx.db, 455)).toEqual([]);
      const runner = fx.track(makeQueue(fx.db, []));
      await runner.start();
      await waitFor("two ticks", async () => (await tickSeconds(fx.db, 455)).length >= 2, 10_000);
      // Updating by name keeps the ticks (same pattern): no tick twice, none lost.
      await producer.schedule({
        name: "runtime-every-second",
        cron: "* * * * * *",
        jobType: 455,
        priority: 3,
      });
      await waitFor(
        "a tick with the new priority",
        async () =>
          (
            await q(
              fx.db,
              "SELECT id FROM async_job_tab WHERE job_type = {} AND priority = {}",
              [455, 3],
            )
          ).length > 0,
        10_000,
      );
      expect(await producer.unschedule("runtime-every-second")).toBe(true);
      const atUnschedule = await tickSeconds(fx.db, 455);
      await new Promise((r) => setTimeout(r, 2500));
      expect(await tickSeconds(fx.db, 455)).toEqual(atUnschedule);
      expect(atUnschedule).toEqual(consecutive(atUnschedule));
      expect(await producer.listSchedules()).toEqual([]);
      expect(await producer.unschedule("runtime-every-second")).toBe(false);
    },
  );

  timingIt(adapter, !adapter.openModule)(
    "two queues and a second process running one schedule enqueue exactly one job per tick",
    { timeout: 60_000 },
    async () => {
      const schedule = { name: "cluster", cron: "* * * * * *", jobType: 452 } as const;
      const child = spawn(
        process.execPath,
        [SCHEDULER, adapter.openModule!, JSON.stringify(fx.target), schedule.name, "452"],
        { stdio: ["ignore", "pipe", "inherit"] },
      );
      const childTicks: number[] = [];
      let ready = false;
      child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
        for (const line of chunk.split("\n")) {
          if (line === "ready") ready = true;
          const [word, tick] = line.split(" ");
          if (word === "tick") childTicks.push(Number(tick));
        }
      });
      const aTicks: number[] = [];
      const bTicks: number[] = [];
      const a = fx.track(
        makeQueue(fx.db, [], { schedules: [schedule], logger: tickLogger(schedule.name, aTicks) }),
      );
      const b = fx.track(
        makeQueue(fx.db, [], { schedules: [schedule], logger: tickLogger(schedule.name, bTicks) }),
      );
      try {
        await Promise.all([a.start(), b.start()]);
        await waitFor(
          "the child process to start",
          () => {
            if (child.exitCode !== null)
              throw new Error(`the scheduler process exited (code ${child.exitCode})`);
            return ready;
          },
          30_000,
        );
        const from = childTicks.length + aTicks.length + bTicks.length;
        await waitFor(
          "six ticks with all three running",
          () => childTicks.length + aTicks.length + bTicks.length >= from + 6,
          15_000,
        );
      } finally {
        child.kill("SIGTERM");
        await new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once("exit", r)));
        await Promise.all([a.stop({ timeoutMs: 2000 }), b.stop({ timeoutMs: 2000 })]);
      }
      const seconds = await tickSeconds(fx.db, 452);
      expect(seconds.length).toBeGreaterThanOrEqual(4);
      expect(seconds).toEqual(consecutive(seconds)); // no tick twice, no tick lost
      const all = [...childTicks, ...aTicks, ...bTicks].sort((m, n) => m - n);
      expect(all.map((ms) => ms / 1000)).toEqual(seconds); // each enqueued by exactly one of the three
      console.info(
        `[schedules ${adapter.adapter}/${kind}] ticks=${seconds.length} child=${childTicks.length} a=${aTicks.length} b=${bTicks.length}`,
      );
    },
  );

  it("a tick whose job INSERT fails after the compare-and-set is rolled back with it, and enqueued once by the next pass", async () => {
    let failedTick: number | undefined;
    // Fails the first INSERT of a job of type 458, inside the schedule loop's transaction.
    const fault = (text: string, params: Parameters<DB["exec"]>[1]) => {
      if (
        failedTick === undefined &&
        /INSERT INTO\s+["`]?async_job_tab/i.test(text) &&
        params?.includes(458)
      ) {
        failedTick = params.find((p): p is number => typeof p === "number" && p > 1e12);
        throw new Error("injected fault: connection lost during the INSERT");
      }
    };
    const faulty = (inner: DB): DB => ({
      dialect: inner.dialect,
      exec: async (text, params) => {
        fault(text, params);
        return inner.exec(text, params);
      },
      query: async (text, params) => {
        fault(text, params);
        return inner.query(text, params);
      },
      ping: () => inner.ping(),
      close: () => inner.close(),
    });
    const db = faulty(fx.db);
    db.transaction = (fn) => fx.db.transaction!((tx) => fn(faulty(tx)));
    const errors: string[] = [];
    const queue = fx.track(
      makeQueue(db, [], {
        schedules: [{ name: "flaky-insert", cron: "* * * * * *", jobType: 458 }],
      }),
    );
    queue.on("error", (e) => errors.push(e.during));
    await queue.start();
    await waitFor("three ticks after the failed one", async () => {
      const seconds = await tickSeconds(fx.db, 458);
      return failedTick !== undefined && seconds.length >= 3;
    });
    await queue.stop({ timeoutMs: 2000 });
    const seconds = await tickSeconds(fx.db, 458);
    expect(errors).toContain("schedules");
    expect(seconds[0]).toBe(failedTick! / 1000); // the failed tick was not lost…
    expect(seconds).toEqual(consecutive(seconds)); // …nor enqueued twice
  });

  timingIt(adapter)(
    "missed ticks are skipped, unless backfill asks for those within its window, each once",
    async () => {
      const producer = new PersistentQueue({ db: fx.db, serviceName: "producer", jobs: [] });
      const now = new Date();
      // Hourly at a minute half an hour from now's: the last tick was about 30 minutes ago,
      // far from both the one-minute grace and the window edges, so the counts are exact.
      const minute = (now.getUTCMinutes() + 30) % 60;
      await producer.schedule({
        name: "backfilled",
        cron: `${minute} * * * *`,
        jobType: 453,
        backfill: "3h",
      });
      await producer.schedule({ name: "skipped", cron: `${minute} * * * *`, jobType: 454 });
      // As if no process had run them for five hours: their next tick lies 5 h back.
      // The latest tick: the minute half an hour ago (its minute is `minute`).
      const last = Math.floor((now.getTime() - 30 * 60_000) / 60_000) * 60_000;
      await x(fx.db, "UPDATE pq_schedules SET next_tick_ms = {} WHERE name IN ({}, {})", [
        last - 5 * 3_600_000,
        "backfilled",
        "skipped",
      ]);
      const queue = fx.track(makeQueue(fx.db, []));
      await queue.start();
      await waitFor(
        "both schedules to move past now",
        async () =>
          (await queue.listSchedules()).every((s) => (s.nextRun?.getTime() ?? 0) > Date.now()),
        10_000,
      );
      // Backfill "3h": the ticks 30 min, 1.5 h and 2.5 h ago, oldest first; not the one 3.5 h ago.
      const hour = 3_600_000;
      expect((await tickSeconds(fx.db, 453)).map((s) => s * 1000)).toEqual([
        last - 2 * hour,
        last - hour,
        last,
      ]);
      expect(await tickSeconds(fx.db, 454)).toEqual([]);
      const byName = new Map((await queue.listSchedules()).map((s) => [s.name, s]));
      expect(byName.get("backfilled")?.lastRun?.getTime()).toBe(last);
      expect(byName.get("backfilled")?.nextRun?.getTime()).toBe(last + hour);
      expect(byName.get("skipped")?.lastRun).toBeUndefined();
      expect(byName.get("skipped")?.nextRun?.getTime()).toBe(last + hour);
      // Running on: nothing more until the next tick, half an hour away.
      await new Promise((r) => setTimeout(r, 1500));
      expect(await tickSeconds(fx.db, 453)).toHaveLength(3);
      await producer.unschedule("backfilled");
      await producer.unschedule("skipped");
    },
  );

  it("bad schedules throw ScheduleError naming the field, and write nothing", async () => {
    const report = defineJob<{ day: string }>()({
      jobType: 456,
      name: "report",
      schema: z.object({ day: z.string() }),
    });
    const queue = new PersistentQueue({ db: fx.db, serviceName: "bad-input", jobs: [report] });
    const rejects = async (input: unknown, field: string, message: RegExp) => {
      const error = await queue.schedule(input as never).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(error).toBeInstanceOf(ScheduleError);
      expect((error as ScheduleError).field).toBe(field);
      expect((error as Error).message).toMatch(message);
    };
    const ok = { name: "bad", cron: "0 3 * * *", jobType: "report", params: { day: "mon" } };
    await rejects({ ...ok, cron: "every day" }, "schedule.cron", /not a valid cron pattern/);
    await rejects({ ...ok, tz: "Europe/Atlantis" }, "schedule.tz", /IANA time zone/);
    await rejects({ ...ok, backfill: "a while" }, "schedule.backfill", /duration/);
    await rejects({ ...ok, name: "no spaces" }, "schedule.name", /1-64 characters/);
    await rejects({ ...ok, jobType: "nope" }, "schedule.jobType", /no job type is named "nope"/);
    await rejects({ ...ok, params: { day: 5 } }, "schedule.params", /schema of job type 456/);
    await rejects({ ...ok, params: { day: "x".repeat(5000) } }, "schedule.params", /4096/);
    await expect(queue.unschedule("no spaces" as string)).rejects.toBeInstanceOf(ScheduleError);
    expect(await queue.listSchedules()).toEqual([]);
    expect(
      () =>
        new PersistentQueue({
          db: fx.db,
          serviceName: "dup",
          jobs: [report],
          schedules: [ok, { ...ok, cron: "0 4 * * *" }] as never,
        }),
    ).toThrow(/schedules\[1\]\.name: "bad" names two schedules/);
    // A config schedule whose params fail its schema: start() says which, nothing is written.
    const badConfig = new PersistentQueue({
      db: fx.db,
      serviceName: "bad-config",
      jobs: [report],
      schedules: [{ ...ok, params: { day: 1 } }] as never,
    });
    await expect(badConfig.start()).rejects.toThrow(/schedules\[0\]\.params/);
    expect(await queue.listSchedules()).toEqual([]);
  });

  it("start() removes config schedules its config no longer lists, keeps runtime ones, and leaves all alone without a schedules option", async () => {
    const s = (name: string) => ({ name, cron: "0 0 1 1 *", jobType: 457 });
    const first = makeQueue(fx.db, [], { schedules: [s("cfg-a"), s("cfg-b")] });
    await first.start();
    await first.stop();
    await first.schedule(s("rt-c"));
    const names = async () => (await first.listSchedules()).map((i) => `${i.name}:${i.source}`);
    expect(await names()).toEqual(["cfg-a:config", "cfg-b:config", "rt-c:runtime"]);
    const noOption = makeQueue(fx.db, []);
    await noOption.start();
    await noOption.stop();
    expect(await names()).toEqual(["cfg-a:config", "cfg-b:config", "rt-c:runtime"]);
    const second = makeQueue(fx.db, [], { schedules: [s("cfg-b")] });
    await second.start();
    await second.stop();
    expect(await names()).toEqual(["cfg-b:config", "rt-c:runtime"]);
    const empty = makeQueue(fx.db, [], { schedules: [] });
    await empty.start();
    await empty.stop();
    expect(await names()).toEqual(["rt-c:runtime"]);
    await first.unschedule("rt-c");
  });
}
