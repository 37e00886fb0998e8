// The finished-job counters (schema version 7) on every adapter: each queue process adds its
// finished jobs per type, status and minute at stop and every few seconds, two processes add
// to the same rows, and finishedJobs() reads them as the job table's rows say.
import { countJobs, finishedJobs, JobStatus } from "@persistent-queue/core";
import { expect, it } from "vitest";
import { type AdapterUnderTest, q, type TargetKind, x } from "../context.js";
import { useMigratedDatabase } from "../fixture.js";
import { makeQueue } from "./helpers.js";

/** Job types of this cell: distinct per database, so that one cell's rows never look like another's. */
const BASE: Record<TargetKind, number> = { mariadb: 9400, postgres: 9500, sqlite: 9600 };

export function overviewTests(adapter: AdapterUnderTest, kind: TargetKind): void {
  const fx = useMigratedDatabase(adapter, kind);

  it("two processes count their finished jobs into the same per-minute rows; finishedJobs() reads the counters and the job table alike", async () => {
    const ok = BASE[kind] + 1;
    const bad = BASE[kind] + 2;
    const jobs = [
      { jobType: ok, name: "ok", handleJob: async () => JobStatus.Success },
      {
        jobType: bad,
        name: "bad",
        maxRetries: 0,
        handleJob: async () => {
          throw new Error("no");
        },
      },
    ] as const;
    const a = fx.track(makeQueue(fx.db, jobs, { serviceName: "stats-a" }));
    const b = fx.track(makeQueue(fx.db, jobs, { serviceName: "stats-b" }));
    const ids = await a.addMany([
      ...Array.from({ length: 12 }, () => ({ jobType: ok, params: {} })),
      ...Array.from({ length: 5 }, () => ({ jobType: bad, params: {} })),
    ]);
    await Promise.all([a.start(), b.start()]);
    for (const id of ids) await a.waitFor(id, { timeout: "20s" });
    // Both write at stop, at the same moment: the second insert of a row meets the first.
    await Promise.all([a.stop(), b.stop()]);

    const byProcess = await q(
      fx.db,
      "SELECT job_type, job_status, SUM(finished) AS n FROM pq_job_stats WHERE scope = {} AND job_type IN ({}, {}) GROUP BY job_type, job_status ORDER BY job_type",
      ["async_job_tab", ok, bad],
    );
    expect(byProcess.map((r) => [Number(r.job_type), Number(r.job_status), Number(r.n)])).toEqual([
      [ok, JobStatus.Success, 12],
      [bad, JobStatus.Failed, 5],
    ]);

    const sums = async (options: Parameters<typeof finishedJobs>[1]) => {
      const out = new Map<string, number>();
      for (const b of await finishedJobs(fx.db, options)) {
        if (b.jobType !== ok && b.jobType !== bad) continue;
        expect(b.bucket % options.bucketSeconds).toBe(0);
        const key = `${b.jobType}/${b.status}`;
        out.set(key, (out.get(key) ?? 0) + b.count);
      }
      return Object.fromEntries(out);
    };
    const expected = { [`${ok}/${JobStatus.Success}`]: 12, [`${bad}/${JobStatus.Failed}`]: 5 };
    expect(await sums({ bucketSeconds: 60, windowSeconds: 3600 })).toEqual(expected);
    expect(await sums({ bucketSeconds: 3600, windowSeconds: 86_400 })).toEqual(expected);
    expect(await sums({ bucketSeconds: 60, windowSeconds: 3600, source: "jobs" })).toEqual(
      expected,
    );
    await expect(finishedJobs(fx.db, { bucketSeconds: 30, windowSeconds: 3600 })).rejects.toThrow(
      /multiple of 60.*source: "jobs"/,
    );
    expect(await sums({ bucketSeconds: 30, windowSeconds: 3600, source: "jobs" })).toEqual(
      expected,
    );
  });

  it("countJobs({ finishedMaxAgeMs }) reads the backlog on every call and reuses the finished counts for that long", async () => {
    const type = BASE[kind] + 3;
    const producer = makeQueue(fx.db, []);
    const ids = await producer.addMany([1, 2, 3].map(() => ({ jobType: type, params: {} })));
    const mine = async (finishedMaxAgeMs: number) =>
      (await countJobs(fx.db, { finishedMaxAgeMs }))
        .filter((c) => c.jobType === type)
        .map((c) => [c.status, c.count]);
    expect(await mine(60_000)).toEqual([[JobStatus.Init, 3]]); // finished counts read now
    await x(fx.db, "UPDATE async_job_tab SET job_status = 1 WHERE id = {}", [ids[0]!]);
    // The backlog moved at once; the finished part is the minute-old read.
    expect(await mine(60_000)).toEqual([[JobStatus.Init, 2]]);
    expect(await mine(0)).toEqual([
      [JobStatus.Init, 2],
      [JobStatus.Success, 1],
    ]);
    await new Promise((r) => setTimeout(r, 20));
    expect(await mine(10)).toEqual([
      [JobStatus.Init, 2],
      [JobStatus.Success, 1],
    ]);
    await expect(countJobs(fx.db, { finishedMaxAgeMs: -1 })).rejects.toThrow(/finishedMaxAgeMs/);
  });
}
