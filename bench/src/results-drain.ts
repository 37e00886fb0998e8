/**
 * `npx tsx bench/src/results-drain.ts`: what storing handler results costs a drain.
 * For each database, drains PQ_BENCH_JOBS (default 5000) queued jobs with
 * concurrency 16 whose handler returns nothing, a small result, a 1 KiB result,
 * or (a stand-in for writing each result by its own statement) Failed with a
 * small result, which the completer writes one job per UPDATE; on PostgreSQL
 * also with `notify: false` (no completion NOTIFY). Variants take turns within
 * each repetition so that drift on a shared machine hits them alike.
 * PQ_BENCH_KINDS=mariadb,postgres picks databases; PQ_BENCH_REPS repetitions.
 */
import { performance } from "node:perf_hooks";
import { JobStatus, PersistentQueue } from "@persistent-queue/core";
import { config } from "./env.js";
import { log } from "./measure.js";
import { startServers, type TargetKind } from "./servers.js";
import { openDb } from "./systems/ours.js";

const JOBS = Number(process.env.PQ_BENCH_JOBS ?? 5000);
const REPS = Number(process.env.PQ_BENCH_REPS ?? 3);
const KILOBYTE = "x".repeat(1000);

interface Variant {
  readonly name: string;
  readonly only?: TargetKind;
  readonly notify?: boolean;
  readonly handle: (n: number) => unknown;
}

const variants: Variant[] = [
  { name: "no result", handle: () => undefined },
  { name: "small result", handle: (n) => ({ result: { n, ok: true } }) },
  { name: "1 KiB result", handle: (n) => ({ result: { n, text: KILOBYTE } }) },
  {
    name: "one UPDATE per job",
    handle: (n) => ({ status: JobStatus.Failed, result: { n, ok: true } }),
  },
  { name: "no result, notify off", only: "postgres", notify: false, handle: () => undefined },
];

async function drainOnce(
  servers: Awaited<ReturnType<typeof startServers>>,
  kind: TargetKind,
  v: Variant,
): Promise<number> {
  const fresh = await servers.fresh(kind);
  const conn = await openDb(fresh.spec);
  try {
    const producer = new PersistentQueue({ db: conn.db, serviceName: "p", jobs: [] });
    await producer.migrate();
    for (let i = 0; i < JOBS; i += 1000) {
      const n = Math.min(1000, JOBS - i);
      await producer.addMany(
        Array.from({ length: n }, (_, k) => ({ jobType: 1, params: { i: i + k } })),
      );
    }
    let done = 0;
    let finished!: () => void;
    const all = new Promise<void>((r) => (finished = r));
    const count = () => {
      if (++done === JOBS) finished();
    };
    const worker = new PersistentQueue({
      db: conn.db,
      serviceName: "bench",
      notify: v.notify ?? true,
      jobs: [
        {
          jobType: 1,
          workerPoolCapacity: config.concurrency,
          handleJob: async (job: { params: { i: number } }) => v.handle(job.params.i) as never,
        },
      ],
    });
    worker.on("completed", count);
    worker.on("failed", count);
    const t0 = performance.now();
    await worker.start();
    await all;
    const rate = JOBS / ((performance.now() - t0) / 1000);
    await worker.stop();
    return rate;
  } finally {
    await conn.close();
    await fresh.drop();
  }
}

const servers = await startServers();
try {
  const kinds = (process.env.PQ_BENCH_KINDS ?? "sqlite,mariadb,postgres").split(",");
  for (const kind of kinds as TargetKind[]) {
    const these = variants.filter((v) => !v.only || v.only === kind);
    const rates = new Map<string, number[]>(these.map((v) => [v.name, []]));
    for (let rep = 0; rep < REPS; rep++)
      for (const v of these) rates.get(v.name)!.push(await drainOnce(servers, kind, v));
    for (const [name, r] of rates) {
      const sorted = [...r].sort((a, b) => a - b);
      log(
        `${kind}: ${name}: median ${Math.round(sorted[Math.floor(sorted.length / 2)]!)} jobs/s (${r.map(Math.round).join(", ")})`,
      );
    }
  }
} finally {
  await servers.stop();
}
