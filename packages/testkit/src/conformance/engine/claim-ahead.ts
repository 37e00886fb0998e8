import { performance } from "node:perf_hooks";
import { type DB, JobStatus, type Row, type SqlValue } from "@persistent-queue/core";
import { expect, it } from "vitest";
import { type AdapterUnderTest, q, type TargetKind } from "../context.js";
import { useMigratedDatabase } from "../fixture.js";
import { makeQueue, waitFor } from "./helpers.js";

/** A claim's UPDATE (every dialect counts the attempt this way); the hand-off's INSERT does not match. */
const CLAIM = /attempts[`"]? = CASE WHEN/;
/** The batched write of successes. */
const SUCCESSES = /SET job_status = \S+, lease_until = 0/;

/**
 * The real database, with `before(sql)` called as each statement is sent and
 * `after(sql)` as its reply arrives, inside transactions too (MySQL claims in one).
 */
function observed(db: DB, before: (sql: string) => unknown, after: (sql: string) => unknown): DB {
  const wrapped: DB = {
    dialect: db.dialect,
    exec: async (sql, params) => {
      before(sql);
      const r = await db.exec(sql, params);
      after(sql);
      return r;
    },
    query: async <T extends Row = Row>(sql: string, params?: readonly SqlValue[]) => {
      before(sql);
      const r = await db.query<T>(sql, params);
      after(sql);
      return r;
    },
    ping: () => db.ping(),
    close: () => db.close(),
  };
  if (db.transaction) {
    const tx = db.transaction.bind(db);
    wrapped.transaction = (fn) => tx((t) => fn(observed(t, before, after)));
  }
  if (db.listen) wrapped.listen = db.listen.bind(db);
  return wrapped;
}

/** The real database, counting the claim statements sent through it. */
function countingClaims(db: DB): { db: DB; claims: () => number } {
  let claims = 0;
  const counted = observed(
    db,
    (sql) => {
      if (CLAIM.test(sql)) claims++;
    },
    () => undefined,
  );
  return { db: counted, claims: () => claims };
}

/**
 * How far claims run ahead of the handlers, and how they overlap the writes of
 * outcomes: without an explicit `prefetch` short jobs are claimed hundreds at a
 * time, and successes being written do not hold the next claim back (up to one
 * window of capacity plus claim-ahead).
 */
export function claimAheadTests(adapter: AdapterUnderTest, kind: TargetKind): void {
  const fx = useMigratedDatabase(adapter, kind);

  it("successes being written do not hold the next claim back, and one window more at most waits on them", async () => {
    const DELAY_MS = 1500;
    const started = new Map<number, number>();
    let firstReply = Number.POSITIVE_INFINITY;
    let writes = 0;
    const db = observed(
      fx.db,
      (sql) => {
        if (SUCCESSES.test(sql)) writes++;
      },
      (sql) => {
        if (SUCCESSES.test(sql)) firstReply = Math.min(firstReply, performance.now());
      },
    );
    // Every write of successes is slow: it replies after DELAY_MS.
    const slow: DB = {
      ...db,
      exec: async (sql, params) => {
        if (SUCCESSES.test(sql)) await new Promise((r) => setTimeout(r, DELAY_MS));
        return db.exec(sql, params);
      },
      query: async <T extends Row = Row>(sql: string, params?: readonly SqlValue[]) => {
        if (SUCCESSES.test(sql)) await new Promise((r) => setTimeout(r, DELAY_MS));
        return db.query<T>(sql, params);
      },
    };
    const queue = fx.track(
      makeQueue(slow, [
        {
          jobType: 1401,
          workerPoolCapacity: 2,
          prefetch: 0, // a window of 2
          handleJob: async (job) => {
            started.set((job.params as { n: number }).n, performance.now());
          },
        },
      ]),
    );
    await queue.addMany([1, 2, 3, 4, 5, 6].map((n) => ({ jobType: 1401, params: { n } })));
    await queue.start();
    await waitFor("all six jobs to run", () => started.size === 6, 20_000);
    // Jobs 1 and 2 (or 1 alone) succeeded; their write was sent and is slow. Jobs 3 and 4
    // were claimed and started meanwhile; 5 and 6 waited: held successes beyond one window
    // (2 jobs) count, so the worker held at most 4 until the first write replied.
    expect(writes).toBeGreaterThanOrEqual(1);
    const at = (n: number) => started.get(n) as number;
    expect(at(3)).toBeLessThan(firstReply);
    expect(at(4)).toBeLessThan(firstReply);
    expect(at(5)).toBeGreaterThanOrEqual(firstReply);
    expect(at(6)).toBeGreaterThanOrEqual(firstReply);
    await waitFor(
      "every outcome to be written",
      async () =>
        (
          await q(
            fx.db,
            "SELECT COUNT(*) AS n FROM async_job_tab WHERE job_type = {} AND job_status = {}",
            [1401, JobStatus.Success],
          )
        ).every((r) => Number(r.n) === 6),
      20_000,
    );
  });

  it("without an explicit prefetch, short jobs are claimed far more than a capacity at a time", async () => {
    let ran = 0;
    const { db, claims } = countingClaims(fx.db);
    const queue = fx.track(
      makeQueue(db, [{ jobType: 1402, workerPoolCapacity: 4, handleJob: async () => void ran++ }]),
    );
    const jobs = 600;
    await queue.addMany(Array.from({ length: jobs }, (_, n) => ({ jobType: 1402, params: { n } })));
    await queue.start();
    await waitFor("every job to run", () => ran === jobs, 30_000);
    // A capacity ahead (4, the default before: a window of 8 jobs) took at least 75 claims.
    // Claims now take what the handlers finish within about 10 ms: a no-op job takes well
    // under a millisecond, so claims of 40 and more (up to 516) after the first.
    expect(ran).toBe(jobs);
    expect(claims()).toBeLessThanOrEqual(40);
    const rows = await q(
      fx.db,
      "SELECT COUNT(*) AS n FROM async_job_tab WHERE job_type = {} AND attempts = 1",
      [1402],
    );
    expect(Number(rows[0]?.n)).toBe(jobs);
  });

  it("a large claim-ahead is refilled in large claims, not a capacity at a time", async () => {
    let ran = 0;
    const { db, claims } = countingClaims(fx.db);
    const queue = fx.track(
      makeQueue(db, [
        { jobType: 1403, workerPoolCapacity: 16, prefetch: 500, handleJob: async () => void ran++ },
      ]),
    );
    const jobs = 5000;
    await queue.addMany(Array.from({ length: jobs }, (_, n) => ({ jobType: 1403, params: { n } })));
    await queue.start();
    await waitFor("every job to run", () => ran === jobs, 30_000);
    // Refilled as slots free (16 at a time) it took a few hundred claims: with claimed
    // jobs waiting, the next claim waits for half the claim-ahead (250) to be free.
    expect(claims()).toBeLessThanOrEqual(60);
  });
}
