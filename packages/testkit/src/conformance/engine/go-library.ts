// A Go service running the Go library on the same table as a queue (DESIGN.md,
// "Sharing the table with the Go library"): Go enqueues any type with its INSERT
// and consumes only types no Node worker runs, with its own statements
// (seed/SEMANTICS.md). MySQL family only: the Go library runs on nothing else.
import { JobStatus } from "@persistent-queue/core";
import { expect, it } from "vitest";
import { type AdapterUnderTest, q, SEED_INSERT, type TargetKind, x } from "../context.js";
import { expectGoScannable, GO_FINISH, GO_LOAD_FIRST, GO_LOAD_NEXT } from "../db/go-readers.js";
import { useMigratedDatabase } from "../fixture.js";
import { finalRecord, makeQueue, waitFor } from "./helpers.js";

/** The Go library's load and finish against a running queue. */
export function goLibraryTests(adapter: AdapterUnderTest, kind: TargetKind): void {
  const fx = useMigratedDatabase(adapter, kind);
  const notMysql = kind !== "mariadb";

  it.skipIf(notMysql)(
    "a job of a type no Node worker runs, added by add(), is loaded and finished by the Go library's statements, and a running queue never overwrites that",
    async () => {
      const GO_TYPE = 601; // consumed by the Go service only
      const NODE_TYPE = 602;
      const ran: number[] = [];
      const queue = fx.track(
        makeQueue(fx.db, [{ jobType: NODE_TYPE, handleJob: async (job) => void ran.push(job.id) }]),
      );
      await queue.start();
      // A producer may enqueue a type it has no handler for (the type names the consumer).
      const goJob = await queue.add(GO_TYPE as typeof NODE_TYPE, { orderId: 7 });

      // The Go poller's first load (status 0, created within FirstPullDay) and a later one.
      const now = Math.floor(Date.now() / 1000);
      const loaded = await q(fx.db, GO_LOAD_FIRST, [JobStatus.Init, now - 7 * 86400, 10000]);
      expectGoScannable(loaded);
      const mine = loaded.filter((r) => Number(r.job_type) === GO_TYPE);
      expect(mine.map((r) => Number(r.id))).toEqual([goJob]);
      expect(JSON.parse(String(mine[0]?.params))).toEqual({ orderId: 7 });
      const later = await q(fx.db, GO_LOAD_NEXT, [goJob - 1, goJob, goJob, 10000]);
      expectGoScannable(later);
      expect(later.map((r) => Number(r.id))).toContain(goJob);

      // The Go handler finished it: the unfenced finish.
      const finishedAt = now + 1;
      const done = await x(fx.db, GO_FINISH, [JobStatus.Success, finishedAt, goJob]);
      expect(done.affectedRows).toBe(1);

      // Meanwhile the queue keeps running its own type: after several of its jobs (each
      // one poll and claim at least), the Go job's row is still exactly what Go wrote.
      const nodeJobs = [];
      for (let i = 0; i < 5; i++) {
        nodeJobs.push(await queue.add(NODE_TYPE, { i }));
        await new Promise((r) => setTimeout(r, 150));
      }
      for (const id of nodeJobs)
        expect((await finalRecord(queue, id)).status).toBe(JobStatus.Success);
      const [row] = await q(
        fx.db,
        "SELECT job_status, update_time, attempts, lease_token, worker_id FROM async_job_tab WHERE id = {}",
        [goJob],
      );
      expect(row).toEqual({
        job_status: JobStatus.Success,
        update_time: finishedAt,
        attempts: 0,
        lease_token: null,
        worker_id: null,
      });
      expect(ran).not.toContain(goJob);
    },
  );

  it.skipIf(notMysql)(
    "a row inserted with the Go library's INSERT is run by the queue",
    async () => {
      const ran: unknown[] = [];
      const queue = fx.track(
        makeQueue(fx.db, [{ jobType: 603, handleJob: async (job) => void ran.push(job.params) }]),
      );
      await queue.start();
      const now = Math.floor(Date.now() / 1000);
      // AddAsyncJob: params marshalled to JSON, status 0, start_time 0 (run now).
      const inserted = await x(fx.db, SEED_INSERT, ['{"orderId":8}', 603, 0, 0, now, now]);
      const id = Number(inserted.insertId);
      await waitFor("the Go-inserted row to run", () => ran.length === 1);
      expect(ran).toEqual([{ orderId: 8 }]);
      expect(await finalRecord(queue, id)).toMatchObject({
        status: JobStatus.Success,
        attempts: 1,
      });
    },
  );
}
