/**
 * Scenario B (one process): drain N queued no-op jobs with concurrency 16.
 * Jobs are enqueued first with addMany (batches of 1000), then one queue
 * starts and the time to finish them all is measured. Prints jobs/s per
 * database; also the enqueue rate (scenario A, batches of 1000).
 */
import { performance } from "node:perf_hooks";
import { PersistentQueue } from "@persistent-queue/core";
import { type Target, targets } from "./targets.js";

const JOBS = Number(process.env.PQ_BENCH_JOBS ?? 20_000);

async function measure(target: Target) {
  const conn = await target.open();
  let done = 0;
  let finished!: () => void;
  const all = new Promise<void>((r) => (finished = r));
  const queue = new PersistentQueue({
    db: conn.db,
    serviceName: "bench-drain",
    jobs: [
      {
        jobType: 3,
        workerPoolCapacity: 16,
        loadLimit: 16,
        handleJob: async () => {
          if (++done === JOBS) finished();
        },
      },
    ],
  });
  await queue.migrate();
  const e0 = performance.now();
  for (let i = 0; i < JOBS; i += 1000) {
    await queue.addMany(
      Array.from({ length: Math.min(1000, JOBS - i) }, (_, k) => ({
        jobType: 3,
        params: { n: i + k },
      })),
    );
  }
  const enqueueSeconds = (performance.now() - e0) / 1000;
  const d0 = performance.now();
  await queue.start();
  await all;
  const drainSeconds = (performance.now() - d0) / 1000;
  await queue.stop();
  await conn.close();
  return { enqueue: JOBS / enqueueSeconds, drain: JOBS / drainSeconds };
}

const rows: Record<string, string | number>[] = [];
for (const target of await targets()) {
  const r = await measure(target);
  rows.push({
    database: target.name,
    jobs: JOBS,
    "batch enqueue jobs/s": Math.round(r.enqueue),
    "drain jobs/s (c=16)": Math.round(r.drain),
  });
  await target.done();
}
console.table(rows);
