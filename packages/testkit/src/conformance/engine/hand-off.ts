import { performance } from "node:perf_hooks";
import { type DB, defineJob, JobStatus, type Row, type SqlValue } from "@persistent-queue/core";
import { expect, it } from "vitest";
import { type AdapterUnderTest, q, type TargetKind } from "../context.js";
import { useMigratedDatabase } from "../fixture.js";
import { finalRecord, intercept, makeQueue, waitFor } from "./helpers.js";

/** The hand-off's insert: the only INSERT into the job table that writes a lease. */
const HAND_OFF = /^INSERT INTO \S+ \(params[^)]*lease_token/;
/** The read that ends every claim round that took less than it asked for (how long to sleep). */
const NEXT_DUE = /AS wait FROM/;

/**
 * The real database, counting hand-offs where they happen (a hand-off's insert that
 * came back claimed, Running); `onStatement(sql)` sees every statement as it is sent.
 */
function countingHandOffs(
  db: DB,
  onStatement: (sql: string) => void = () => undefined,
): { db: DB; handedOff: () => number } {
  let handedOff = 0;
  const inner = intercept(db, (sql) => {
    onStatement(sql);
    return undefined;
  });
  const counted: DB = {
    ...inner,
    query: async <T extends Row = Row>(sql: string, params?: readonly SqlValue[]) => {
      const rows = await inner.query<T>(sql, params);
      if (HAND_OFF.test(sql) && Number(rows[0]?.job_status) === JobStatus.Running) handedOff++;
      return rows;
    },
  };
  return { db: counted, handedOff: () => handedOff };
}

/**
 * The in-process hand-off: `add()` in a process whose worker of that type has
 * a free slot and found nothing more due at its last claim inserts the job
 * already claimed by that worker, and the job starts without a claim. Each
 * database of the suite has INSERT … RETURNING (MariaDB 10.5+, PostgreSQL,
 * SQLite); MySQL 8 does not, and claims such jobs as any other.
 */
export function handOffTests(adapter: AdapterUnderTest, kind: TargetKind): void {
  const fx = useMigratedDatabase(adapter, kind);

  it("add() next to an idle worker inserts the job claimed by it and starts it: leased and fenced as a claimed job", async () => {
    const { db, handedOff } = countingHandOffs(fx.db);
    const seen: { id: number; handedOffBefore: number; atStart: number; attempts: number }[] = [];
    const before = new Map<number, number>();
    const queue = fx.track(
      makeQueue(db, [
        {
          jobType: 1301,
          workerPoolCapacity: 4,
          handleJob: async (job) => {
            const p = job.params as { n: number };
            seen.push({
              id: job.id,
              handedOffBefore: before.get(p.n) ?? -1,
              atStart: handedOff(),
              attempts: job.attempts,
            });
          },
        },
      ]),
    );
    await queue.start();
    // Jobs added one at a time, each after the last finished: the worker is idle for each
    // (its first claim may still be in flight when the first add comes: that one is claimed).
    const ids: number[] = [];
    for (let n = 0; n < 5; n++) {
      before.set(n, handedOff());
      const id = await queue.add(1301, { n });
      ids.push(id);
      await finalRecord(queue, id);
      await new Promise((r) => setTimeout(r, 30));
    }
    // Each job after the worker's first claim came back is handed off (the first add may
    // come before it): its insert returned it claimed, before its handler started.
    expect(handedOff()).toBeGreaterThanOrEqual(4);
    expect(seen.filter((s) => s.atStart === s.handedOffBefore + 1).length).toBe(handedOff());
    for (const s of seen) expect(s.attempts).toBe(1);
    for (const id of ids) {
      const r = await finalRecord(queue, id);
      expect(r).toMatchObject({ status: JobStatus.Success, attempts: 1 });
    }
    // While one runs, its row is Running under this worker's lease, as a claim leaves it.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const queue2 = fx.track(
      makeQueue(fx.db, [{ jobType: 1302, handleJob: () => held }], { serviceName: "hand-off" }),
    );
    await queue2.start();
    await new Promise((r) => setTimeout(r, 200)); // its first claim found nothing
    const id = await queue2.add(1302, {});
    const [row] = await waitFor("the job to run", async () => {
      const rows = await q<{ job_status: unknown; worker_id: unknown; lease_token: unknown }>(
        fx.db,
        "SELECT job_status, worker_id, lease_token FROM async_job_tab WHERE id = {}",
        [id],
      );
      return Number(rows[0]?.job_status) === JobStatus.Running ? rows : undefined;
    });
    expect(row?.worker_id).toBe(queue2.workerId);
    expect(String(row?.lease_token ?? "")).not.toBe("");
    release();
    expect((await finalRecord(queue2, id)).status).toBe(JobStatus.Success);
  });

  it("a hand-off whose reply was lost: add() rejects, and the worker adopts the job it inserted: it runs once", {
    timeout: 30_000,
  }, async () => {
    let lose = false;
    const db = intercept(fx.db, (sql) => {
      if (lose && HAND_OFF.test(sql)) {
        lose = false;
        return { fail: "after" };
      }
      return undefined;
    });
    const runs: number[] = [];
    const queue = fx.track(
      makeQueue(db, [
        {
          jobType: 1303,
          handleJob: async (job) => void runs.push((job.params as { n: number }).n),
        },
      ]),
    );
    const errors: string[] = [];
    queue.on("error", (e) => errors.push(e.during));
    await queue.start();
    // Until one add() is handed off (the fault applies only to a hand-off's insert).
    let lost: number | undefined;
    for (let n = 0; n < 20 && lost === undefined; n++) {
      lose = true;
      try {
        const id = await queue.add(1303, { n });
        await finalRecord(queue, id);
      } catch (error) {
        expect(String(error)).toMatch(/connection lost/);
        lost = n;
      }
      await new Promise((r) => setTimeout(r, 30));
    }
    expect(lost).toBeDefined();
    // Its row was committed, claimed by this worker under the insert's token: adopted.
    await waitFor("the lost job to run", () => runs.includes(lost!), 10_000);
    const [row] = await q<{ id: unknown }>(
      fx.db,
      "SELECT id FROM async_job_tab WHERE job_type = 1303 AND params = {}",
      [JSON.stringify({ n: lost })],
    );
    const done = await finalRecord(queue, Number(row?.id));
    expect(done).toMatchObject({ status: JobStatus.Success, attempts: 1 });
    await new Promise((r) => setTimeout(r, 300));
    expect(runs.filter((n) => n === lost)).toHaveLength(1);
  });

  it("handed-off jobs that succeed wake no claim round: the worker found nothing more due, a success makes nothing due", async () => {
    let rounds = 0;
    const { db, handedOff } = countingHandOffs(fx.db, (sql) => {
      if (NEXT_DUE.test(sql)) rounds++;
    });
    const pollMs = 200;
    const queue = fx.track(
      makeQueue(db, [{ jobType: 1303, workerPoolCapacity: 4, handleJob: async () => {} }], {
        pollInterval: pollMs,
      }),
    );
    await queue.start();
    // Its idle wait doubles from 10 ms up to the poll interval (10 + 20 + … + 200 ms).
    await new Promise((r) => setTimeout(r, 800));
    const roundsBefore = rounds;
    const started = performance.now();
    for (let n = 0; n < 12; n++) await finalRecord(queue, await queue.add(1303, { n }));
    const elapsed = performance.now() - started;
    const during = rounds - roundsBefore;
    expect(handedOff()).toBe(12);
    // Only its polls, one per poll interval (and one more at the edges); a claim round
    // woken by each success would be twelve.
    expect(during).toBeLessThanOrEqual(Math.ceil(elapsed / pollMs) + 1);
    expect(during).toBeLessThan(12);
  });

  it("a claim that found work polls again soon: jobs from a producer it hears nothing of are picked up in the next short idle wait, not the poll interval", async () => {
    const pollMs = 2000;
    const started = new Map<number, number>();
    const worker = fx.track(
      makeQueue(
        fx.db,
        [
          {
            jobType: 1304,
            handleJob: async (job) => {
              started.set((job.params as { n: number }).n, performance.now());
            },
          },
        ],
        { pollInterval: pollMs, notify: false, serviceName: "polling-worker" },
      ),
    );
    // Another process's producer: no worker of its own, no NOTIFY, no hand-off.
    const producer = fx.track(
      makeQueue(fx.db, [defineJob({ jobType: 1304 })], { notify: false, serviceName: "producer" }),
    );
    await worker.start();
    // Idle long enough for its wait to reach the poll interval (10 + 20 + … + 2000 ms).
    await new Promise((r) => setTimeout(r, 2600));
    await producer.add(1304, { n: 0 });
    await waitFor("the first job to start", async () => started.get(0), 5000);
    await new Promise((r) => setTimeout(r, 30));
    const addedAt = performance.now();
    await producer.add(1304, { n: 1 });
    const at = await waitFor("the second job to start", async () => started.get(1), 5000);
    // The claim that took job 0 restarted the idle wait at 10 ms (then 20, 40, …): job 1
    // starts within a few of those, not after a poll interval.
    expect(at - addedAt).toBeLessThan(pollMs / 4);
  });

  it("concurrent add()s take at most the free slots: the rest wait in the table; none runs twice", async () => {
    let running = 0;
    let most = 0;
    const runs: number[] = [];
    const queue = fx.track(
      makeQueue(fx.db, [
        {
          jobType: 1304,
          workerPoolCapacity: 2,
          prefetch: 0,
          handleJob: async (job) => {
            running++;
            most = Math.max(most, running);
            runs.push(job.id);
            await new Promise((r) => setTimeout(r, 40));
            running--;
          },
        },
      ]),
    );
    await queue.start();
    await new Promise((r) => setTimeout(r, 200)); // the first claim found nothing: idle
    const ids = await Promise.all(Array.from({ length: 8 }, (_, n) => queue.add(1304, { n })));
    for (const id of ids) expect((await finalRecord(queue, id)).status).toBe(JobStatus.Success);
    expect(most).toBe(2);
    expect([...runs].sort((a, b) => a - b)).toEqual([...ids].sort((a, b) => a - b));
  });
}
