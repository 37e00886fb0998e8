/**
 * Scenario D: delayed jobs. 100 jobs with delays spread over 0.3-1.5 s; how
 * late after its due time each starts (by this host's clock, which is the
 * database's here). Prints p50/p95/p99/max lateness per database.
 */
import { PersistentQueue } from "@persistent-queue/core";
import { percentile, type Target, targets } from "./targets.js";

const JOBS = Number(process.env.PQ_BENCH_SAMPLES ?? 100);

async function measure(target: Target) {
  const conn = await target.open();
  const late: number[] = [];
  const queue = new PersistentQueue({
    db: conn.db,
    serviceName: "bench-delayed",
    jobs: [
      {
        jobType: 2,
        handleJob: async (job) => void late.push(Date.now() - (job.params as { due: number }).due),
      },
    ],
  });
  await queue.migrate();
  await queue.start();
  for (let i = 0; i < JOBS; i++) {
    const delay = 300 + Math.floor((1200 * i) / JOBS);
    await queue.add(2, { due: Date.now() + delay }, { delay });
  }
  const deadline = Date.now() + 15_000;
  while (late.length < JOBS && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  await queue.stop();
  await conn.close();
  const sorted = late.sort((a, b) => a - b);
  return {
    n: sorted.length,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted.at(-1) ?? Number.NaN,
  };
}

const rows: Record<string, string | number>[] = [];
for (const target of await targets()) {
  const r = await measure(target);
  rows.push({
    database: target.name,
    jobs: r.n,
    "late p50 ms": r.p50,
    "p95 ms": r.p95,
    "p99 ms": r.p99,
    "max ms": r.max,
  });
  await target.done();
}
console.table(rows);
