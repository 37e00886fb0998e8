import { JobStatus, migrate } from "@persistent-queue/core";
import { expect, it } from "vitest";
import { type AdapterUnderTest, q as query, type TargetKind, timingIt } from "../context.js";
import { openFresh } from "../db/open-target.js";
import { finalRecord, gate, makeQueue, type QueueHandle, waitFor, withFaults } from "./helpers.js";

/** Many workers on one table: each job runs on one worker at a time, leases fence late finishers. */
export function concurrencyTests(adapter: AdapterUnderTest, kind: TargetKind): void {
  it("several queues claiming one table never run a job twice at once, and run every job once", {
    timeout: 90_000,
  }, async () => {
    const main = await openFresh(adapter, kind);
    const extra = await Promise.all([1, 2].map(() => adapter.open(main.target)));
    const queues: QueueHandle[] = [];
    try {
      await migrate(main.db);
      const running = new Set<number>();
      const runs = new Map<number, number>();
      let overlaps = 0;
      const jobs = [
        {
          jobType: 201,
          workerPoolCapacity: 8,
          loadLimit: 5,
          handleJob: async (job: { id: number }) => {
            if (running.has(job.id)) overlaps++;
            running.add(job.id);
            runs.set(job.id, (runs.get(job.id) ?? 0) + 1);
            await new Promise((r) => setTimeout(r, Math.random() * 5));
            running.delete(job.id);
          },
        },
      ] as const;
      const typed = [main, ...extra].map(({ db }) => makeQueue(db, jobs, { pollInterval: 20 }));
      queues.push(...typed);
      await Promise.all(queues.map((q) => q.start()));
      const ids = await typed[0]!.addMany(
        Array.from({ length: 300 }, (_, i) => ({ jobType: 201 as const, params: { i } })),
      );
      expect(new Set(ids).size).toBe(300);
      await waitFor(
        "300 jobs to finish",
        async () => {
          const [row] = await query(
            main.db,
            "SELECT COUNT(*) AS n FROM async_job_tab WHERE job_type = 201 AND job_status = {}",
            [JobStatus.Success],
          );
          return Number(row?.n) === 300;
        },
        60_000,
      );
      expect(overlaps).toBe(0);
      expect([...runs.values()].every((n) => n === 1)).toBe(true);
      expect(runs.size).toBe(300);
      const workers = await query(
        main.db,
        "SELECT COUNT(DISTINCT worker_id) AS n FROM async_job_tab WHERE job_type = 201",
      );
      expect(Number(workers[0]?.n)).toBeGreaterThan(1); // the work spread over the queues
    } finally {
      await Promise.all(queues.map((q) => q.stop({ timeoutMs: 1000 })));
      for (const o of extra) await o.close();
      await main.close();
    }
  });

  timingIt(adapter)(
    "a worker that stops heartbeating loses the job to another; its late completion changes nothing",
    {
      timeout: 60_000,
    },
    async () => {
      const main = await openFresh(adapter, kind);
      const other = await adapter.open(main.target);
      let stalled = false;
      const release = gate();
      const queues: QueueHandle[] = [];
      try {
        await migrate(main.db);
        const slowDb = withFaults(main.db, /SET lease_until = /, () => stalled);
        const slow = makeQueue(slowDb, [
          {
            jobType: 202,
            leaseTime: 1000,
            workerPoolCapacity: 1,
            queueMaxSize: 1, // holds only the stalled job: it cannot re-claim it
            handleJob: async () => {
              await release.promise;
              return JobStatus.Failed;
            },
          },
        ]);
        const lost: number[] = [];
        slow.on("lost", (e) => lost.push(e.jobId));
        queues.push(slow);
        await slow.start();
        const id = await slow.add(202, {});
        await waitFor(
          "the slow worker to claim",
          async () => (await slow.getJob(id))?.status === JobStatus.Running,
        );
        stalled = true; // its heartbeats stop reaching the database
        const firstWorker = (await slow.getJob(id))!.workerId;
        const fast = makeQueue(other.db, [
          { jobType: 202, leaseTime: 1000, handleJob: async () => JobStatus.Success },
        ]);
        queues.push(fast);
        await fast.start();
        const done = await finalRecord(fast, id, 20_000);
        expect(done.status).toBe(JobStatus.Success);
        expect(done.workerId).not.toBe(firstWorker);
        expect(done.attempts).toBe(2);
        release.open(); // the first worker finishes late, with Failed
        await waitFor("the late completion to be fenced off", () => lost.includes(id));
        expect((await fast.getJob(id))!.status).toBe(JobStatus.Success);
      } finally {
        release.open();
        await Promise.all(queues.map((q) => q.stop({ timeoutMs: 1000 })));
        await other.close();
        await main.close();
      }
    },
  );

  for (const order of ["before", "after", "together with"] as const) {
    timingIt(adapter)(
      `a worker that lost a job's lease and claimed it again keeps the new lease and aborts the stale run's signal; the stale run's success, finishing ${order} the new run, is reported lost; the job is completed once`,
      {
        timeout: 60_000,
      },
      async () => {
        const main = await openFresh(adapter, kind);
        let stalled = false;
        const first = gate();
        const second = gate();
        let runs = 0;
        const signals: AbortSignal[] = [];
        let queue: QueueHandle | undefined;
        try {
          await migrate(main.db);
          const db = withFaults(main.db, /SET lease_until = /, () => stalled);
          const q = makeQueue(db, [
            {
              jobType: 207,
              leaseTime: 1000,
              workerPoolCapacity: 2,
              handleJob: async (_job, ctx) => {
                runs++;
                signals.push(ctx.signal);
                await (runs === 1 ? first.promise : second.promise);
              },
            },
          ]);
          queue = q;
          const completed: number[] = [];
          const lost: number[] = [];
          q.on("completed", (e) => completed.push(e.job.id));
          q.on("lost", (e) => lost.push(e.jobId));
          await q.start();
          const id = await q.add(207, {});
          await waitFor("the first run", () => runs === 1);
          stalled = true; // the first run's lease expires; the rescue makes the job claimable again
          await waitFor("the same worker to claim it again", () => runs === 2, 20_000);
          stalled = false;
          expect(signals[0]?.aborted).toBe(true); // the stale run is told to stop
          expect(signals[1]?.aborted).toBe(false);
          if (order === "together with") {
            // Both successes land in one completion batch: keyed by (id, token), one counts.
            first.open();
            second.open();
          } else if (order === "after") {
            second.open();
            expect((await finalRecord(q, id)).status).toBe(JobStatus.Success);
            first.open(); // the stale run succeeds after the job is done: fenced off
            await waitFor("the stale success to be fenced off", () => lost.includes(id));
          } else {
            first.open(); // the stale run succeeds while the new one runs: fenced off
            await waitFor("the stale success to be fenced off", () => lost.includes(id));
            // Several leases long: the new claim's lease must still be renewed by heartbeats.
            await new Promise((r) => setTimeout(r, 2500));
            expect(await q.getJob(id)).toMatchObject({ status: JobStatus.Running, attempts: 2 });
            second.open();
          }
          expect(await finalRecord(q, id)).toMatchObject({
            status: JobStatus.Success,
            attempts: 2,
          });
          await new Promise((r) => setTimeout(r, 100));
          expect(completed.filter((c) => c === id)).toEqual([id]);
          expect(lost.filter((c) => c === id)).toEqual([id]);
          expect(runs).toBe(2);
        } finally {
          first.open();
          second.open();
          await queue?.stop({ timeoutMs: 1000 });
          await main.close();
        }
      },
    );
  }

  timingIt(adapter)(
    "a claimed job whose lease went unconfirmed for most of a lease (heartbeats not getting through) is handed back, not started with a lease that may be gone",
    {
      timeout: 60_000,
    },
    async () => {
      const main = await openFresh(adapter, kind);
      let stalled = false;
      const hold = gate();
      const runs = new Map<number, number>();
      let queue: QueueHandle | undefined;
      try {
        await migrate(main.db);
        const db = withFaults(main.db, /SET lease_until = /, () => stalled);
        const q = makeQueue(db, [
          {
            jobType: 208,
            leaseTime: 1000,
            workerPoolCapacity: 1,
            prefetch: 1,
            handleJob: async (job) => {
              runs.set(job.id, (runs.get(job.id) ?? 0) + 1);
              if ((job.params as { block: boolean }).block) await hold.promise;
            },
          },
        ]);
        queue = q;
        await q.start();
        const [blocking, waiting] = (await q.addMany([
          { jobType: 208, params: { block: true } },
          { jobType: 208, params: { block: false } },
        ])) as [number, number];
        await waitFor("one running, one waiting for the slot", () => q.activeCount === 2);
        stalled = true; // heartbeats stop getting through; both leases expire and are rescued
        await waitFor(
          "the rescue",
          async () => (await q.getJob(waiting))?.status === JobStatus.Retry,
          20_000,
        );
        stalled = false;
        hold.open(); // the slot frees: the waiting job's old claim must not start
        expect((await finalRecord(q, waiting)).status).toBe(JobStatus.Success);
        expect((await finalRecord(q, blocking)).status).toBe(JobStatus.Success);
        expect(runs.get(waiting)).toBe(1); // only under the new claim
      } finally {
        hold.open();
        await queue?.stop({ timeoutMs: 1000 });
        await main.close();
      }
    },
  );

  timingIt(adapter)(
    "stop() lets running handlers finish, hands back the ones past the timeout, and they run again elsewhere",
    {
      timeout: 60_000,
    },
    async () => {
      const main = await openFresh(adapter, kind);
      const other = await adapter.open(main.target);
      let next: QueueHandle | undefined;
      try {
        await migrate(main.db);
        let aborted = 0;
        const first = makeQueue(main.db, [
          {
            jobType: 203,
            handleJob: async (job, ctx) => {
              if ((job.params as { quick: boolean }).quick)
                return new Promise<void>((r) => setTimeout(r, 300));
              ctx.signal.addEventListener("abort", () => aborted++);
              return new Promise<void>(() => {}); // hangs
            },
          },
        ]);
        await first.start();
        // One batch, so both are held at once (separate adds could let the quick one finish first).
        const [quick, hung] = (await first.addMany([
          { jobType: 203, params: { quick: true } },
          { jobType: 203, params: { quick: false } },
        ])) as [number, number];
        await waitFor("both to be claimed", async () => first.activeCount === 2);
        await first.stop({ timeoutMs: 500 });
        expect(aborted).toBe(1);
        expect((await first.getJob(quick))!.status).toBe(JobStatus.Success);
        const handedBack = (await first.getJob(hung))!;
        expect(handedBack).toMatchObject({ status: JobStatus.Retry, leaseUntil: 0 });
        await expect(first.add(203, { quick: true })).rejects.toMatchObject({
          code: "ERR_PQ_STATE",
        });
        await first.stop(); // twice is fine
        const second = makeQueue(other.db, [{ jobType: 203, handleJob: async () => {} }]);
        next = second;
        await second.start();
        expect((await finalRecord(second, hung)).status).toBe(JobStatus.Success);
      } finally {
        await next?.stop({ timeoutMs: 1000 });
        await other.close();
        await main.close();
      }
    },
  );
  timingIt(adapter)(
    "prefetch: one worker holds at most capacity + prefetch jobs, runs at most capacity handlers, and 0 claims only for free slots",
    {
      timeout: 60_000,
    },
    async () => {
      const main = await openFresh(adapter, kind);
      const queues: QueueHandle[] = [];
      try {
        await migrate(main.db);
        const leased = async (jobType: number) => {
          const [row] = await query(
            main.db,
            "SELECT COUNT(*) AS n FROM async_job_tab WHERE job_type = {} AND job_status = {}",
            [jobType, JobStatus.Running],
          );
          return Number(row?.n);
        };
        for (const [jobType, prefetch] of [
          [204, 3],
          [205, 0],
        ] as const) {
          const hold = gate();
          let running = 0;
          let most = 0;
          const queue = makeQueue(
            main.db,
            [
              {
                jobType,
                workerPoolCapacity: 2,
                prefetch,
                handleJob: async () => {
                  most = Math.max(most, ++running);
                  await hold.promise;
                  running--;
                },
              },
            ],
            { pollInterval: 20 },
          );
          queues.push(queue);
          await queue.start();
          const ids = await queue.addMany(
            Array.from({ length: 12 }, (_, i) => ({ jobType, params: { i } })),
          );
          await waitFor(
            `${2 + prefetch} jobs leased`,
            async () => (await leased(jobType)) === 2 + prefetch,
          );
          // Several claim rounds' worth of time (polling every 20 ms): the bound holds.
          await new Promise((r) => setTimeout(r, 300));
          expect(await leased(jobType)).toBe(2 + prefetch);
          expect(queue.activeCount).toBe(2 + prefetch);
          expect(most).toBe(2);
          hold.open();
          for (const id of ids)
            expect((await finalRecord(queue, id)).status).toBe(JobStatus.Success);
          expect(most).toBe(2);
        }
      } finally {
        await Promise.all(queues.map((q) => q.stop({ timeoutMs: 1000 })));
        await main.close();
      }
    },
  );
}
