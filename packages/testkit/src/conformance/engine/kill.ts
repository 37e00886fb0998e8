import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { JobStatus, migrate } from "@persistent-queue/core";
import { expect } from "vitest";
import { type AdapterUnderTest, q, type TargetKind, timingIt } from "../context.js";
import { openFresh } from "../db/open-target.js";
import { makeQueue, waitFor } from "./helpers.js";

const WORKER = fileURLToPath(new URL("../../../fixtures/worker.mjs", import.meta.url));

/** A worker process killed with SIGKILL: its jobs are finished elsewhere after the lease, and nothing else re-runs. */
export function killTests(adapter: AdapterUnderTest, kind: TargetKind): void {
  timingIt(adapter, !adapter.openModule)(
    "a SIGKILLed worker's jobs run elsewhere after the lease; only its in-flight jobs run twice",
    { timeout: 90_000 },
    async () => {
      const main = await openFresh(adapter, kind);
      // Before the child starts: its start() refuses tables below this build's schema version
      // (a CI run caught the child starting between migrations 2 and 3, and exiting).
      await migrate(main.db);
      const child = spawn(
        process.execPath,
        [WORKER, adapter.openModule!, JSON.stringify(main.target), "401", "1000"],
        {
          stdio: ["ignore", "pipe", "inherit"],
        },
      );
      const started = new Set<number>();
      const done = new Set<number>();
      child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
        for (const line of chunk.split("\n")) {
          const [word, id] = line.split(" ");
          if (word === "started") started.add(Number(id));
          if (word === "done") done.add(Number(id));
        }
      });
      const rerun: number[] = [];
      const survivor = makeQueue(main.db, [
        { jobType: 401, leaseTime: 1000, handleJob: async (job) => void rerun.push(job.id) },
      ]);
      try {
        const ids = await survivor.addMany(
          Array.from({ length: 40 }, (_, i) => ({ jobType: 401 as const, params: { i } })),
        );
        await waitFor(
          "the child to finish a few jobs and hold more",
          () => {
            if (child.exitCode !== null)
              throw new Error(
                `the worker process exited (code ${child.exitCode}) before it was killed`,
              );
            return done.size >= 4 && started.size - done.size >= 2;
          },
          30_000,
        );
        child.kill("SIGKILL");
        await new Promise((r) => child.once("exit", r));
        // What the killed worker held, by the database: its completions are in, its leases are not.
        // A statement it had sent goes on without it on the server: a claim in flight at the kill
        // commits after (seen on PostgreSQL in CI: four more jobs claimed, then rescued with a
        // second attempt). Nothing else changes the type's rows until the survivor starts, so
        // the rows Running over half a second are what it held.
        const running = async () =>
          (
            await q(
              main.db,
              "SELECT id FROM async_job_tab WHERE job_type = 401 AND job_status = {}",
              [JobStatus.Running],
            )
          ).map((r) => Number(r.id));
        const held = new Set(await running());
        await new Promise((r) => setTimeout(r, 500));
        for (const id of await running()) held.add(id);
        expect(held.size).toBeGreaterThan(0);
        await survivor.start();
        await waitFor(
          "every job to succeed",
          async () => {
            const [row] = await q(
              main.db,
              "SELECT COUNT(*) AS n FROM async_job_tab WHERE job_type = 401 AND job_status = {}",
              [JobStatus.Success],
            );
            return Number(row?.n) === ids.length;
          },
          60_000,
        );
        // Jobs whose completion the child wrote never run again; the ones it held when killed
        // (running, or claimed and not yet started) run again here, each once.
        expect(rerun.filter((id) => done.has(id))).toEqual([]);
        expect(new Set(rerun.filter((id) => held.has(id)))).toEqual(held);
        expect(rerun.length).toBe(new Set(rerun).size);
        const attempts = await q(
          main.db,
          "SELECT id FROM async_job_tab WHERE job_type = 401 AND attempts > 1",
        );
        expect(new Set(attempts.map((r) => Number(r.id)))).toEqual(held);
        console.info(
          `[kill ${adapter.adapter}/${kind}] jobs=${ids.length} done-before-kill=${done.size} in-flight-at-kill=${held.size} re-run=${rerun.filter((id) => held.has(id)).length}`,
        );
      } finally {
        if (child.exitCode === null) child.kill("SIGKILL");
        await survivor.stop({ timeoutMs: 1000 });
        await main.close();
      }
    },
  );
}
