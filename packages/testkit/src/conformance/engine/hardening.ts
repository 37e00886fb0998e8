import {
  DatabaseUnavailableError,
  type DB,
  init,
  JobStatus,
  migrate,
  QueueStateError,
  type Row,
  SchemaVersionError,
  type SqlValue,
} from "@persistent-queue/core";
import { expect, it } from "vitest";
import { type AdapterUnderTest, q, SEED_INSERT, type TargetKind, timingIt, x } from "../context.js";
import { openFresh } from "../db/open-target.js";
import { useMigratedDatabase } from "../fixture.js";
import { finalRecord, gate, intercept, makeQueue, waitFor } from "./helpers.js";

/** The engine's claim statement on every dialect (it alone carries the pre-claim status). */
const CLAIM = /prev_status/;
/** A completion (batched success or single outcome). */
const COMPLETION = /SET job_status = (\?|\$\d+), lease_until = 0/;
/** A heartbeat. */
const HEARTBEAT = /SET lease_until = /;

/**
 * Issue 10's hardening, each a promise a user relies on: stop() bounded and
 * final, re-claims, throwing listeners and validators, lost replies, short
 * outages, typed setup errors, redacted errors.
 */
export function hardeningTests(adapter: AdapterUnderTest, kind: TargetKind): void {
  const fx = useMigratedDatabase(adapter, kind);

  timingIt(adapter)(
    "stop() with the database gone and hundreds of jobs claimed ahead returns within its timeout",
    {
      timeout: 60_000,
    },
    async () => {
      let down = false;
      const db = intercept(fx.db, () => (down ? { fail: "before" } : undefined));
      const hold = gate();
      const queue = fx.track(
        makeQueue(db, [
          {
            jobType: 601,
            workerPoolCapacity: 2,
            prefetch: 300,
            handleJob: async () => hold.promise,
          },
        ]),
      );
      await queue.start();
      await queue.addMany(Array.from({ length: 302 }, (_, i) => ({ jobType: 601, params: { i } })));
      await waitFor("302 jobs held", () => queue.activeCount === 302, 30_000);
      down = true;
      const began = Date.now();
      await queue.stop({ timeoutMs: 1500 });
      const took = Date.now() - began;
      hold.open();
      expect(took).toBeLessThan(2500); // one-by-one hand-backs with retries took minutes
    },
  );

  timingIt(adapter)(
    "after stop() resolves, the queue starts no statement and none of its statements is in flight",
    {
      timeout: 30_000,
    },
    async () => {
      // Heartbeats run slow, so one is in flight when stop() is called.
      const db = intercept(fx.db, (sql) => (HEARTBEAT.test(sql) ? { delayMs: 300 } : undefined));
      const hold = gate();
      const queue = fx.track(
        makeQueue(db, [{ jobType: 602, leaseTime: 300, handleJob: async () => hold.promise }]),
      );
      await queue.start();
      await queue.add(602, {});
      await waitFor("the job to run", () => queue.activeCount === 1);
      await waitFor("a heartbeat in flight", () => db.inFlight() > 0);
      hold.open();
      await queue.stop({ timeoutMs: 2000 });
      expect(db.inFlight()).toBe(0);
      const after = db.started();
      await new Promise((r) => setTimeout(r, 1000)); // several heartbeat and rescue intervals
      expect(db.started()).toBe(after);
    },
  );

  it.skipIf(kind !== "postgres")(
    "stop() called while start() waits for LISTEN wins: the queue stays stopped",
    async () => {
      const listening = gate();
      const proceed = gate();
      const db = intercept(fx.db, () => undefined, {
        beforeListen: async () => {
          listening.open();
          await proceed.promise;
        },
      });
      const queue = makeQueue(db, [{ jobType: 603, handleJob: async () => {} }]);
      const started = queue.start();
      await listening.promise;
      const stopped = queue.stop({ timeoutMs: 1000 });
      proceed.open();
      await Promise.all([started, stopped]);
      await expect(queue.add(603, {})).rejects.toBeInstanceOf(QueueStateError);
      await x(fx.db, SEED_INSERT, ["{}", 603, 0, 0, 0, 0]);
      await new Promise((r) => setTimeout(r, 500));
      const rows = await q(fx.db, "SELECT job_status FROM async_job_tab WHERE job_type = 603");
      expect(rows.map((r) => Number(r.job_status))).toEqual([JobStatus.Init]); // nothing claims it
    },
  );

  timingIt(adapter)("init() that fails midway stops the queues it had started", async () => {
    const broken = intercept(fx.db, (sql) =>
      /CREATE TABLE|information_schema|pragma_|sqlite_master|pg_indexes/i.test(sql)
        ? { fail: "before" }
        : undefined,
    );
    const ran: number[] = [];
    await expect(
      init([
        {
          db: fx.db,
          serviceName: "init-ok",
          jobType: 604,
          handleJob: async (j) => void ran.push(j.id),
        },
        { db: broken, serviceName: "init-broken", jobType: 605, handleJob: async () => {} },
      ]),
    ).rejects.toThrow();
    await x(fx.db, SEED_INSERT, ["{}", 604, 0, 0, 0, 0]);
    await new Promise((r) => setTimeout(r, 800)); // the first queue's poll interval is 500 ms
    expect(ran).toEqual([]);
  });

  it("a throwing event listener changes no outcome and no other job's events", async () => {
    const release = gate();
    const queue = fx.track(
      makeQueue(fx.db, [
        { jobType: 607, workerPoolCapacity: 2, handleJob: async () => release.promise },
      ]),
    );
    const seen: number[] = [];
    queue.on("completed", () => {
      throw new Error("a listener's bug");
    });
    queue.on("completed", (e) => seen.push(e.job.id));
    await queue.start();
    const ids = await queue.addMany([
      { jobType: 607, params: {} },
      { jobType: 607, params: {} },
    ]);
    await waitFor("both running", () => queue.activeCount === 2);
    release.open(); // both finish in one turn: one completion batch
    for (const id of ids) expect((await finalRecord(queue, id)).status).toBe(JobStatus.Success);
    await waitFor("both completed events", () => seen.length === 2);
    expect(seen.sort()).toEqual([...ids].sort());
  });

  it("a schema validator that throws fails the job with its message", async () => {
    let calls = 0;
    const schema = {
      "~standard": {
        version: 1 as const,
        vendor: "test",
        validate: (value: unknown) => {
          calls++;
          throw new Error("validator exploded");
          // biome-ignore lint/correctness/noUnreachable: the type of a validator's result
          return { value };
        },
      },
    };
    const queue = fx.track(makeQueue(fx.db, [{ jobType: 608, schema, handleJob: async () => {} }]));
    await queue.start();
    await x(fx.db, SEED_INSERT, ['{"a":1}', 608, 0, 0, 0, 0]); // by plain SQL: no add()-time check
    const [row] = await q(fx.db, "SELECT MAX(id) AS id FROM async_job_tab WHERE job_type = 608");
    const done = await finalRecord(queue, Number(row?.id), 10_000); // the lease is 30 s
    expect(done.status).toBe(JobStatus.Failed);
    expect(done.lastError).toContain("validator exploded");
    expect(calls).toBeGreaterThan(0);
  });

  it("a claim whose reply was lost is adopted at once: the job runs once, with one attempt", {
    timeout: 30_000,
  }, async () => {
    let lose = 1;
    const db = intercept(fx.db, (sql) => {
      // The first claim that takes the job commits on the server; its reply is never seen.
      if (CLAIM.test(sql) && lose > 0) return { fail: "after-if-rows" };
      return undefined;
    });
    const runs: number[] = [];
    const queue = fx.track(
      makeQueue(db, [{ jobType: 609, handleJob: async (job) => void runs.push(job.id) }]),
    );
    const errors: string[] = [];
    queue.on("error", (e) => {
      if (e.during === "claim") {
        lose = 0;
        errors.push(String(e.error));
      }
    });
    await queue.start();
    // addMany() is never handed straight to a free slot: the job goes through a claim.
    const [id] = await queue.addMany([{ jobType: 609, params: {} }]);
    const done = await finalRecord(queue, id!, 10_000); // the lost claim's lease is 30 s
    expect(done).toMatchObject({ status: JobStatus.Success, attempts: 1 });
    expect(runs).toEqual([id]);
    expect(errors).toHaveLength(1); // the reply was lost once
  });

  it("after a failed claim, a job this worker claimed itself and completed meanwhile is not adopted: one run, one completion", {
    timeout: 30_000,
  }, async () => {
    // The interleaving seen on Galera (claims fail with 1213 there): a claim fails, so the
    // worker reads the rows it holds by the database's account to adopt a lost claim's jobs.
    // That read sees job A still running; A's completion commits and is reported before
    // the read's reply is handled; A, no longer held, looked like a lost claim's job, and
    // ran (and was reported completed) a second time under its own token.
    let failClaim = false;
    let holdOwnRead = false;
    const ownReadDone = gate();
    const aCompleted = gate();
    const inner = intercept(fx.db, (sql) => {
      if (failClaim && CLAIM.test(sql)) {
        failClaim = false;
        return { fail: "before" };
      }
      return undefined;
    });
    const db: DB = {
      ...inner,
      query: async <T extends Row = Row>(sql: string, params?: readonly SqlValue[]) => {
        const rows = await inner.query<T>(sql, params);
        if (holdOwnRead && /lease_left/.test(sql)) {
          holdOwnRead = false;
          ownReadDone.open(); // read: A is running in it
          await aCompleted.promise; // its reply comes after A's completion was reported
          await new Promise((r) => setTimeout(r, 50));
        }
        return rows;
      },
    };
    const runs: number[] = [];
    let first: number | undefined;
    const queue = fx.track(
      makeQueue(db, [
        {
          jobType: 611,
          handleJob: async (job) => {
            runs.push(job.id);
            if (first !== undefined) return;
            first = job.id;
            failClaim = true; // the claim that takes the second job fails
            holdOwnRead = true;
            // addMany(): never handed off, so a claim takes it (and fails).
            await queue.addMany([{ jobType: 611, params: { second: true } }]);
            await ownReadDone.promise;
          },
        },
      ]),
    );
    const completed: number[] = [];
    queue.on("completed", ({ job }) => {
      completed.push(job.id);
      if (job.id === first) aCompleted.open();
    });
    await queue.start();
    const [a] = await queue.addMany([{ jobType: 611, params: {} }]);
    await finalRecord(queue, a!, 10_000);
    await waitFor("both jobs completed", () => completed.length >= 2, 10_000);
    await new Promise((r) => setTimeout(r, 500)); // a second run of A would be done by now
    expect(runs.filter((id) => id === a)).toHaveLength(1);
    expect(completed.filter((id) => id === a)).toHaveLength(1);
    expect(completed).toHaveLength(2);
  });

  timingIt(adapter)(
    "completions keep retrying through a 4 s outage while the lease lasts: no re-run",
    {
      timeout: 30_000,
    },
    async () => {
      let downUntil = 0;
      const db = intercept(fx.db, (sql) =>
        Date.now() < downUntil && (COMPLETION.test(sql) || HEARTBEAT.test(sql))
          ? { fail: "before" }
          : undefined,
      );
      const runs: number[] = [];
      const queue = fx.track(
        makeQueue(db, [
          {
            jobType: 610,
            leaseTime: 8000,
            handleJob: async (job) => {
              runs.push(job.id);
              downUntil = Date.now() + 4000; // the database goes away as the handler returns
            },
          },
        ]),
      );
      await queue.start();
      const id = await queue.add(610, {});
      const done = await finalRecord(queue, id, 15_000);
      expect(done).toMatchObject({ status: JobStatus.Success, attempts: 1 });
      await new Promise((r) => setTimeout(r, 300));
      expect(runs).toEqual([id]);
    },
  );

  it("errors the engine emits and logs carry neither statement text nor bound values", async () => {
    let corrupt = true;
    // The real driver rejects the claim: its error is whatever the driver attaches.
    const db = intercept(fx.db, () => undefined);
    const broken: typeof db = {
      ...db,
      exec: (sql, params) => db.exec(corrupt && CLAIM.test(sql) ? `nonsense ${sql}` : sql, params),
      query: (sql, params) =>
        db.query(corrupt && CLAIM.test(sql) ? `nonsense ${sql}` : sql, params),
    };
    const logged: string[] = [];
    const logger = {
      info() {},
      warn: (...a: unknown[]) => void logged.push(JSON.stringify(a)),
      error: (...a: unknown[]) => void logged.push(JSON.stringify(a)),
    };
    const queue = fx.track(
      makeQueue(broken, [{ jobType: 611, handleJob: async () => {} }], { logger }),
    );
    const errors: unknown[] = [];
    queue.on("error", (e) => errors.push(e.error));
    await queue.add(611, {}); // a due job: MySQL sends its claim only when a level is due
    await queue.start();
    await waitFor("a claim error", () => errors.length > 0);
    corrupt = false;
    const texts: string[] = [];
    const walk = (v: unknown, depth: number): void => {
      if (depth > 6 || v === null || v === undefined) return;
      if (typeof v === "string") texts.push(v);
      else if (Array.isArray(v)) for (const e of v) walk(e, depth + 1);
      else if (typeof v === "object")
        for (const key of Object.getOwnPropertyNames(v))
          walk((v as Record<string, unknown>)[key], depth + 1);
    };
    walk(errors, 0);
    const everything = [...texts, ...logged].join("\n");
    expect(everything).not.toContain(queue.workerId); // a bound value of the claim
    expect(everything).not.toMatch(/lease_until\s*=/); // the statement's text
  });

  it("add(), start() and getJob() on tables not migrated fail with one typed error that says to run migrate()", async () => {
    const fresh = await openFresh(adapter, kind);
    try {
      const queue = makeQueue(fresh.db, [{ jobType: 612, handleJob: async () => {} }]);
      for (const call of [() => queue.add(612, {}), () => queue.getJob(1), () => queue.start()]) {
        const error = await call().then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(SchemaVersionError);
        expect(error).toMatchObject({ code: "ERR_PQ_SCHEMA_VERSION", found: 0 });
        expect(String((error as Error).message)).toContain("migrate()");
      }
      await migrate(fresh.db, { targetVersion: 1 }); // the Go library's tables only
      await expect(queue.add(612, {})).rejects.toMatchObject({
        code: "ERR_PQ_SCHEMA_VERSION",
        found: 1,
      });
      await queue.migrate();
      await queue.start();
      const id = await queue.add(612, {});
      expect((await finalRecord(queue, id)).status).toBe(JobStatus.Success);
      await queue.stop({ timeoutMs: 1000 });
    } finally {
      await fresh.close();
    }
  });

  it.runIf(kind === "postgres")(
    "start() gathers the job table's planner statistics where it never had any (PostgreSQL)",
    async () => {
      // Without them the planner guessed one row per status and sorted every waiting row
      // in each claim; a fresh table filled before the workers start is the case.
      const fresh = await openFresh(adapter, kind);
      try {
        const queue = makeQueue(fresh.db, [{ jobType: 613, handleJob: async () => {} }]);
        await queue.migrate();
        const reltuples = async () =>
          Number(
            (
              await q<{ n: unknown }>(
                fresh.db,
                "SELECT reltuples AS n FROM pg_class WHERE oid = to_regclass('async_job_tab')",
              )
            )[0]?.n,
          );
        await queue.addMany(Array.from({ length: 300 }, () => ({ jobType: 613, params: {} })));
        expect(await reltuples()).toBeLessThanOrEqual(0); // never analyzed
        await queue.start();
        expect(await reltuples()).toBeGreaterThan(0);
        await queue.stop({ timeoutMs: 1000 });
      } finally {
        await fresh.close();
      }
    },
  );

  it("start() against an unreachable database names the step and keeps the driver's error as cause", async () => {
    const refused = intercept(fx.db, () => ({ fail: "before" }));
    const queue = makeQueue(refused, [{ jobType: 613, handleJob: async () => {} }]);
    const error = await queue.start().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DatabaseUnavailableError);
    expect(error).toMatchObject({ code: "ERR_PQ_DATABASE_UNAVAILABLE" });
    expect((error as Error).message).toMatch(/^start\(\): /);
    expect(((error as Error).cause as { code?: string }).code).toBe("ECONNREFUSED");
  });
}

/**
 * Statements that bind a list, at a scale past every database's parameter
 * limit. Heavy (tens of thousands of jobs held), so it runs once per database
 * through the raw drivers, not in every ORM cell: the chunking is core's, the
 * adapters pass statements through.
 */
export function statementLimitTests(adapter: AdapterUnderTest, kind: TargetKind): void {
  const fx = useMigratedDatabase(adapter, kind);

  it("a heartbeat covers more held jobs than one statement can bind", {
    timeout: 120_000,
  }, async () => {
    // Over PostgreSQL's 65,535 and SQLite's 32,766 parameters in one list statement, and
    // whole claims of loadLimit (10,000): with claimed jobs waiting, a worker claims again
    // only when half its claim-ahead (at most half a loadLimit) is free, and none of
    // these jobs ever finishes to free more.
    const count = kind === "postgres" ? 70_000 : 40_000;
    const hold = gate();
    const errors: string[] = [];
    const queue = fx.track(
      makeQueue(fx.db, [
        {
          jobType: 606,
          workerPoolCapacity: 1,
          prefetch: count,
          queueMaxSize: count + 1,
          leaseTime: 3000,
          handleJob: async () => hold.promise,
        },
      ]),
    );
    queue.on("error", (e) => errors.push(`${e.during}: ${String(e.error)}`));
    for (let i = 0; i < count; i += 10_000)
      await queue.addMany(
        Array.from({ length: Math.min(10_000, count - i) }, () => ({ jobType: 606, params: null })),
      );
    await queue.start();
    await waitFor(`${count} jobs held`, () => queue.activeCount === count, 90_000);
    const [before] = await q(
      fx.db,
      "SELECT MIN(lease_until) AS m FROM async_job_tab WHERE job_type = 606 AND job_status = 5",
    );
    await waitFor(
      "every lease extended by a heartbeat",
      async () => {
        const [now] = await q(
          fx.db,
          "SELECT MIN(lease_until) AS m FROM async_job_tab WHERE job_type = 606 AND job_status = 5",
        );
        return Number(now?.m) > Number(before?.m);
      },
      10_000,
    );
    expect(errors.filter((e) => e.startsWith("heartbeat"))).toEqual([]);
    hold.open();
    await queue.stop({ timeoutMs: 5000 });
    await x(fx.db, "UPDATE async_job_tab SET job_status = 1 WHERE job_type = 606");
  });
}
