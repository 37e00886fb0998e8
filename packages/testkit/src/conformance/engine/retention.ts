import { createHash } from "node:crypto";
import {
  ConfigError,
  type DB,
  JobStatus,
  PersistentQueue,
  PruneInputError,
  ShedLock,
} from "@persistent-queue/core";
import { expect, it } from "vitest";
import { type AdapterUnderTest, q, type TargetKind, timingIt, x } from "../context.js";
import { useMigratedDatabase } from "../fixture.js";
import { makeQueue, waitFor } from "./helpers.js";

const DAY = 86_400;

/** Writes finished (or other) rows as another program would, `ageSec` old by create_time and update_time. */
async function seed(
  db: DB,
  rows: readonly { jobType: number; status: JobStatus; ageSec: number; n: number }[],
): Promise<void> {
  const now = Math.floor(Date.now() / 1000);
  const values: (string | number)[][] = [];
  for (const r of rows)
    for (let i = 0; i < r.n; i++)
      values.push(["{}", r.jobType, r.status, 0, now - r.ageSec, now - r.ageSec]);
  for (let i = 0; i < values.length; i += 200) {
    const chunk = values.slice(i, i + 200);
    await x(
      db,
      `INSERT INTO async_job_tab (params, job_type, job_status, start_time, create_time, update_time) VALUES ${chunk.map(() => "({}, {}, {}, {}, {}, {})").join(", ")}`,
      chunk.flat(),
    );
  }
}

/** Rows per status among `jobTypes`. */
async function counts(db: DB, jobTypes: readonly number[]): Promise<Record<number, number>> {
  const rows = await q(
    db,
    `SELECT job_status, COUNT(*) AS n FROM async_job_tab WHERE job_type IN (${jobTypes.join(", ")}) GROUP BY job_status`,
  );
  return Object.fromEntries(rows.map((r) => [Number(r.job_status), Number(r.n)]));
}

/** The cleaner's ShedLock name for the default job table (see engine/cleaner.ts). */
const RETENTION_LOCK = `pq-retention-${createHash("md5").update("async_job_tab").digest("hex").slice(0, 16)}`;

/** `retention` and `prune()`: finished jobs deleted by age, in batches, by one cleaner at a time. */
export function retentionTests(adapter: AdapterUnderTest, kind: TargetKind): void {
  const fx = useMigratedDatabase(adapter, kind);

  it("prune deletes finished jobs older than olderThan, resolves the count, and leaves unfinished and newer ones", async () => {
    const t = 1201;
    // The newer rows first: ids do not follow create_time here, and prune() is exact anyway.
    await seed(fx.db, [
      { jobType: t, status: JobStatus.Success, ageSec: 3600, n: 3 },
      { jobType: t, status: JobStatus.Success, ageSec: 10 * DAY, n: 1205 }, // more than one batch
      { jobType: t + 1, status: JobStatus.Success, ageSec: 10 * DAY, n: 2 },
      { jobType: t, status: JobStatus.Failed, ageSec: 10 * DAY, n: 4 },
      { jobType: t, status: JobStatus.Cancelled, ageSec: 10 * DAY, n: 2 },
      { jobType: t, status: JobStatus.Init, ageSec: 10 * DAY, n: 2 },
      { jobType: t, status: JobStatus.Retry, ageSec: 10 * DAY, n: 1 },
      { jobType: t, status: JobStatus.Running, ageSec: 10 * DAY, n: 1 },
      { jobType: t, status: JobStatus.Continue, ageSec: 10 * DAY, n: 1 },
    ]);
    const queue = makeQueue(fx.db, []);
    expect(await queue.prune({ status: JobStatus.Success, olderThan: "7d" })).toBe(1207);
    expect(await queue.prune({ status: JobStatus.Success, olderThan: "7d" })).toBe(0);
    expect(
      await queue.prune({ status: [JobStatus.Failed, JobStatus.Cancelled], olderThan: "7d" }),
    ).toBe(6);
    expect(await counts(fx.db, [t, t + 1])).toEqual({
      [JobStatus.Init]: 2,
      [JobStatus.Success]: 3,
      [JobStatus.Continue]: 1,
      [JobStatus.Retry]: 1,
      [JobStatus.Running]: 1,
    });
    expect(await queue.prune({ status: JobStatus.Success, olderThan: "2h" })).toBe(0);
    expect(await queue.prune({ status: JobStatus.Success, olderThan: 0 })).toBe(3);
    expect(await counts(fx.db, [t, t + 1])).toEqual({
      [JobStatus.Init]: 2,
      [JobStatus.Continue]: 1,
      [JobStatus.Retry]: 1,
      [JobStatus.Running]: 1,
    });
  });

  it("prune: an unfinished status or a bad age is a PruneInputError, nothing deleted; bad retention is a ConfigError", async () => {
    await seed(fx.db, [{ jobType: 1203, status: JobStatus.Success, ageSec: 10 * DAY, n: 2 }]);
    const queue = makeQueue(fx.db, []);
    const bad: [unknown, string][] = [
      [{ status: JobStatus.Init, olderThan: "1d" }, "status"],
      [{ status: JobStatus.Running, olderThan: "1d" }, "status"],
      [{ status: [JobStatus.Success, JobStatus.Retry], olderThan: "1d" }, "status"],
      [{ status: [], olderThan: "1d" }, "status"],
      [{ status: 42, olderThan: "1d" }, "status"],
      [{ status: JobStatus.Success, olderThan: "a week" }, "olderThan"],
      [{ status: JobStatus.Success, olderThan: -1 }, "olderThan"],
      [{ status: JobStatus.Success }, "olderThan"],
    ];
    for (const [options, field] of bad) {
      const err = await queue.prune(options as never).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PruneInputError);
      expect((err as PruneInputError).field).toBe(field);
    }
    expect(await counts(fx.db, [1203])).toEqual({ [JobStatus.Success]: 2 });
    for (const retention of [{ success: "7 days" }, { keep: "1d" }, { success: "1d", interval: 0 }])
      expect(
        () => new PersistentQueue({ db: fx.db, serviceName: "r", jobs: [], retention } as never),
      ).toThrow(ConfigError);
  });

  timingIt(adapter)(
    "the cleaner deletes old finished jobs in batches while jobs keep being claimed and run",
    {
      timeout: 60_000,
    },
    async () => {
      const old = 1204;
      const live = 1205;
      // The cleaner reads ids below the first job created after the cut-off (ids and
      // create_time grow together, as they do when jobs are added): start from an empty
      // table and write the rows oldest first.
      await x(fx.db, "DELETE FROM async_job_tab");
      await seed(fx.db, [
        { jobType: old, status: JobStatus.Success, ageSec: 10 * DAY, n: 2500 },
        { jobType: old, status: JobStatus.Failed, ageSec: 10 * DAY, n: 30 },
        { jobType: old, status: JobStatus.Init, ageSec: 10 * DAY, n: 3 }, // unfinished: kept
        { jobType: old, status: JobStatus.Failed, ageSec: 3600, n: 5 }, // newer than 1d: kept
      ]);
      let ran = 0;
      const queue = fx.track(
        makeQueue(
          fx.db,
          [{ jobType: live, workerPoolCapacity: 4, handleJob: async () => void ran++ }],
          { retention: { success: "1d", failed: "1d", interval: "300ms" } },
        ),
      );
      await queue.start();
      const ids: number[] = [];
      const adding = (async () => {
        for (let i = 0; i < 20; i++) {
          ids.push(
            ...(await queue.addMany(
              Array.from({ length: 5 }, () => ({ jobType: live, params: {} })),
            )),
          );
          await new Promise((r) => setTimeout(r, 50));
        }
      })();
      await waitFor(
        "the old finished jobs to be deleted",
        async () => {
          const c = await counts(fx.db, [old]);
          return c[JobStatus.Success] === undefined && c[JobStatus.Failed] === 5;
        },
        30_000,
      );
      await adding;
      // Finished a moment ago, well inside the retention: all there (completions are written in batches).
      await waitFor(
        "every new job to be recorded as succeeded",
        async () => (await counts(fx.db, [live]))[JobStatus.Success] === ids.length,
        30_000,
      );
      expect(ran).toBe(ids.length);
      expect(await counts(fx.db, [old])).toEqual({ [JobStatus.Failed]: 5, [JobStatus.Init]: 3 });
      expect(await counts(fx.db, [live])).toEqual({ [JobStatus.Success]: ids.length });
    },
  );

  timingIt(adapter)(
    "one cleaner at a time: a holder of the retention lock holds every queue off; two queues never delete at once",
    {
      timeout: 60_000,
    },
    async () => {
      const t = 1206;
      await x(fx.db, "DELETE FROM async_job_tab"); // see above: oldest first
      await seed(fx.db, [{ jobType: t, status: JobStatus.Success, ageSec: 10 * DAY, n: 50 }]);
      const outside = new ShedLock({ db: fx.db, serviceName: "outside" });
      // (The previous test's cleaner may keep it for its lockAtLeastFor.)
      expect(
        await outside.lock(RETENTION_LOCK, { lockAtMostFor: "30s", timeoutMs: 5000, pollMs: 50 }),
      ).toBe(true);
      const retention = { success: "1d", failed: "1d", interval: "200ms" } as const;
      const first = fx.track(makeQueue(fx.db, [], { retention }));
      await first.start();
      await new Promise((r) => setTimeout(r, 2000));
      expect(await counts(fx.db, [t])).toEqual({ [JobStatus.Success]: 50 }); // held off
      await outside.unlock(RETENTION_LOCK);
      await waitFor("the rows to go once the lock is free", async () => {
        return (await counts(fx.db, [t]))[JobStatus.Success] === undefined;
      });
      await first.stop();

      // Two queues, each on its own connection, whose DELETEs are slow: if both cleaned at
      // once their DELETEs would overlap in time.
      const other = await adapter.open(fx.target);
      try {
        const spans: { who: string; from: number; to: number }[] = [];
        const slow = (db: DB, who: string): DB => ({
          dialect: db.dialect,
          query: (sql, params) => db.query(sql, params),
          ping: () => db.ping(),
          close: () => db.close(),
          exec: async (sql, params) => {
            if (!/^\s*DELETE/i.test(sql)) return db.exec(sql, params);
            const from = performance.now();
            await new Promise((r) => setTimeout(r, 80));
            const result = await db.exec(sql, params);
            spans.push({ who, from, to: performance.now() });
            return result;
          },
        });
        const a = fx.track(makeQueue(slow(fx.db, "a"), [], { retention }));
        const b = fx.track(makeQueue(slow(other.db, "b"), [], { retention }));
        await Promise.all([a.start(), b.start()]);
        // Old rows keep arriving in several job types: every round has DELETEs to run.
        const until = Date.now() + 5000;
        while (Date.now() < until) {
          await seed(fx.db, [
            { jobType: t + 1, status: JobStatus.Success, ageSec: 10 * DAY, n: 5 },
            { jobType: t + 2, status: JobStatus.Success, ageSec: 10 * DAY, n: 5 },
            { jobType: t + 3, status: JobStatus.Failed, ageSec: 10 * DAY, n: 5 },
          ]);
          await new Promise((r) => setTimeout(r, 100));
        }
        await Promise.all([a.stop(), b.stop()]);
        expect(spans.length).toBeGreaterThanOrEqual(3);
        for (const s of spans.filter((s) => s.who === "a"))
          for (const o of spans.filter((o) => o.who === "b"))
            expect(
              s.to <= o.from || o.to <= s.from,
              `a ${s.from}-${s.to} / b ${o.from}-${o.to}`,
            ).toBe(true);
        console.info(
          `[retention ${adapter.adapter}/${kind}] deletes: a=${spans.filter((s) => s.who === "a").length} b=${spans.filter((s) => s.who === "b").length}`,
        );
      } finally {
        await other.close();
      }
    },
  );
}
