import { JobStatus } from "@persistent-queue/core";
import { expect, it } from "vitest";
import { type AdapterUnderTest, q, SEED_INSERT, type TargetKind, x } from "../context.js";
import { useMigratedDatabase } from "../fixture.js";
import { finalRecord, makeQueue, waitFor } from "./helpers.js";

/** Priorities (lower runs first) and the due-ordered claim: rows not yet due never hold back due ones. */
export function priorityTests(adapter: AdapterUnderTest, kind: TargetKind): void {
  const fx = useMigratedDatabase(adapter, kind);

  it("runs due jobs lowest priority first, whatever their ids; addMany takes a priority per job", async () => {
    const ran: number[] = [];
    // One at a time, so the order of runs is the order of claims.
    const queue = fx.track(
      makeQueue(fx.db, [
        {
          jobType: 701,
          workerPoolCapacity: 1,
          prefetch: 0,
          handleJob: async (job) => void ran.push((job.params as { p: number }).p),
        },
      ]),
    );
    const priorities = [5, 0, 10, -3, 7, 2];
    const ids = await queue.addMany(
      priorities.map((p) => ({ jobType: 701 as const, params: { p }, priority: p })),
    );
    const single = await queue.add(701, { p: 1 }, { priority: 1 });
    const stored = await q(
      fx.db,
      "SELECT id, priority FROM async_job_tab WHERE job_type = 701 ORDER BY id",
    );
    expect(stored.map((r) => Number(r.priority))).toEqual([...priorities, 1]);
    await queue.start();
    for (const id of [...ids, single]) await finalRecord(queue, id);
    expect(ran).toEqual([-3, 0, 1, 2, 5, 7, 10]);
  });

  it("a backlog of not-yet-due jobs at a lower priority number does not hold back due jobs of a higher one, nor a job inserted by the seed's plain INSERT", async () => {
    const queue = fx.track(makeQueue(fx.db, [{ jobType: 702, handleJob: async () => {} }]));
    const delayed = await queue.addMany(
      Array.from({ length: 50 }, (_, i) => ({
        jobType: 702 as const,
        params: { i },
        priority: -5,
        delay: "1h",
      })),
    );
    await queue.start();
    const due = await queue.add(702, { due: true }, { priority: 3 });
    expect((await finalRecord(queue, due, 5_000)).status).toBe(JobStatus.Success);
    // The Go library's INSERT writes no priority: it is 0, and due at once.
    const now = Math.floor(Date.now() / 1000);
    await x(fx.db, SEED_INSERT, ['{"seed":1}', 702, 0, 0, now, now]);
    const seeded = await waitFor("the seed's row to run", async () => {
      const rows = await q(
        fx.db,
        "SELECT id FROM async_job_tab WHERE job_type = 702 AND params = {} AND job_status = 1",
        ['{"seed":1}'],
      );
      return rows.length === 1;
    });
    expect(seeded).toBe(true);
    const waiting = await q(
      fx.db,
      "SELECT COUNT(*) AS n FROM async_job_tab WHERE job_type = 702 AND job_status = 0",
    );
    expect(Number(waiting[0]?.n)).toBe(delayed.length);
  });

  it("a delayed job runs when it comes due even with due jobs of other priorities around, and no earlier", async () => {
    const started = new Map<number, number>();
    const queue = fx.track(
      makeQueue(fx.db, [
        { jobType: 703, handleJob: async (job) => void started.set(job.id, Date.now()) },
      ]),
    );
    await queue.start();
    const t0 = Date.now();
    const later = await queue.add(703, {}, { priority: 9, delay: 600 });
    const now1 = await queue.add(703, {}, { priority: 1 });
    const now2 = await queue.add(703, {}, { priority: 20 });
    for (const id of [later, now1, now2]) await finalRecord(queue, id);
    expect(started.get(later)! - t0).toBeGreaterThanOrEqual(550);
    expect(started.get(later)! - t0).toBeLessThan(3_000);
  });

  it("a firstPullDay cut-off that leaves stale jobs alone at one priority does not starve another", async () => {
    const now = Math.floor(Date.now() / 1000);
    const tenDaysAgo = now - 10 * 86400;
    await x(fx.db, SEED_INSERT, ['{"stale":1}', 704, 0, 0, tenDaysAgo, tenDaysAgo]); // stale, priority 0
    const queue = fx.track(
      makeQueue(fx.db, [{ jobType: 704, firstPullDay: 7, handleJob: async () => {} }]),
    );
    await queue.start();
    const fresh = await queue.add(704, { fresh: true }, { priority: 5 });
    expect((await finalRecord(queue, fresh, 5_000)).status).toBe(JobStatus.Success);
    const rows = await q(
      fx.db,
      "SELECT params, job_status FROM async_job_tab WHERE job_type = 704 ORDER BY id",
    );
    expect(rows.map((r) => [String(r.params), Number(r.job_status)])).toEqual([
      ['{"stale":1}', JobStatus.Init], // left alone by the cut-off
      ['{"fresh":true}', JobStatus.Success],
    ]);
  });

  it("a priority that is not an integer within INT's range is a typed error, and nothing is inserted", async () => {
    const queue = fx.track(makeQueue(fx.db, [{ jobType: 705, handleJob: async () => {} }]));
    for (const priority of [1.5, 2 ** 31, -(2 ** 31) - 1, Number.NaN, "1" as unknown as number]) {
      await expect(queue.add(705, {}, { priority })).rejects.toMatchObject({
        code: "ERR_PQ_INPUT",
        field: "priority",
      });
    }
    await expect(
      queue.addMany([
        { jobType: 705, params: {}, priority: 1 },
        { jobType: 705, params: {}, priority: 0.5 },
      ]),
    ).rejects.toMatchObject({ code: "ERR_PQ_INPUT", field: "jobs[1].priority" });
    const rows = await q(fx.db, "SELECT COUNT(*) AS n FROM async_job_tab WHERE job_type = 705");
    expect(Number(rows[0]?.n)).toBe(0);
    // The range's ends are accepted.
    await queue.add(705, {}, { priority: 2 ** 31 - 1 });
    await queue.add(705, {}, { priority: -(2 ** 31) });
  });
}
