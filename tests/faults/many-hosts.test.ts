/**
 * Many worker hosts against one database server: the same jobs drained by one,
 * two, three and four worker hosts (network namespaces of their own, each on
 * its own link to the database host, netns.ts), each host one process. Two
 * workloads: no-op jobs with the queue's defaults (100 slots, prefetch 100),
 * where the machine's CPU is the limit, and jobs that wait 20 ms (I/O-bound
 * work: a call to another service) on 16 slots per host, where the slots are
 * the limit and hosts add capacity. Correctness is asserted (every
 * job Success, none run or completed twice); the throughput is printed for
 * docs/scaling.md, never asserted. A host cut off mid-run is the partition test
 * (four hosts, partition.test.ts).
 *
 * A measurement, so it runs in `npm run faults` (PQ_CLUSTER_FAULTS=1), not in
 * `npm test`. On a machine of two cores the hosts share those cores with the
 * database server: what it shows is the server's and the claim's behaviour with
 * more consumers, not what four real machines would add.
 */
import { availableParallelism } from "node:os";
import { PersistentQueue } from "@persistent-queue/core";
import { describe, expect, it } from "vitest";
import { allFinal, dedicatedServer, type ServerKind } from "./harness.js";
import { killWorker, type Line, Network, netnsMissing, startWorker, type Worker } from "./netns.js";

const MEASURE = process.env.PQ_CLUSTER_FAULTS === "1";
const JOBS = Number(process.env.PQ_HOSTS_JOBS ?? 10_000);
const ROUNDS = Math.max(1, Number(process.env.PQ_HOSTS_ROUNDS ?? 1));
/** What each host runs: no-op jobs on the defaults, and 20 ms jobs on 16 slots. */
const WORKLOADS = [
  { name: "no-op, 100 slots", handlerMs: 0, capacity: 100 },
  { name: "20 ms, 16 slots", handlerMs: 20, capacity: 16 },
] as const;

describe.each<ServerKind>(["mariadb", "postgres"])("%s: one to four worker hosts", (kind) => {
  it.runIf(MEASURE)(
    "drains the same jobs with 1, 2, 3 and 4 hosts: all Success, none twice (jobs/s printed)",
    {
      timeout: 600_000,
    },
    async () => {
      const why = await netnsMissing();
      if (why !== undefined)
        throw new Error(`the many-hosts test needs network namespaces: ${why}`);
      const net = await Network.create(4);
      let env: Awaited<ReturnType<typeof dedicatedServer>> | undefined;
      const figures: string[] = [];
      try {
        env = await dedicatedServer(kind, net.serverOptions);
        const db = env.open();
        const producer = new PersistentQueue({ db, serviceName: "producer", jobs: [] });
        await producer.migrate();
        const rates = new Map<string, number[]>();
        for (let round = 0; round < ROUNDS; round++) {
          for (const [workload, count] of WORKLOADS.flatMap((w) =>
            [1, 2, 3, 4].map((c) => [w, c] as const),
          )) {
            // A fresh table for each layout: the same history (none) for every count.
            await db.exec("DELETE FROM async_job_tab");
            for (let k = 0; k < JOBS; k += 1000)
              await producer.addMany(
                Array.from({ length: Math.min(1000, JOBS - k) }, (_, i) => ({
                  jobType: 1,
                  params: { n: k + i },
                })),
              );
            const lines: Line[] = [];
            const workers: Worker[] = [];
            try {
              for (const h of net.hosts.slice(0, count))
                workers.push(
                  startWorker(kind, env.url, h, lines, {
                    leaseMs: 30_000,
                    handlerMs: workload.handlerMs,
                    capacity: workload.capacity,
                  }),
                );
              await Promise.all(workers.map((w) => w.ready));
              expect(await allFinal(db, JOBS, 300_000)).toBe(JOBS);
              await new Promise((r) => setTimeout(r, 200)); // the last lines through the pipes
              // The drain window from the workers' own clocks: first handler start to last completion.
              const runs = lines.filter((l) => l.word === "run");
              const dones = lines.filter((l) => l.word === "done");
              const doneIds = new Map<number, number>();
              for (const l of dones) doneIds.set(l.id, (doneIds.get(l.id) ?? 0) + 1);
              const runIds = new Map<number, number>();
              for (const l of runs) runIds.set(l.id, (runIds.get(l.id) ?? 0) + 1);
              expect([...doneIds].filter(([, c]) => c > 1)).toEqual([]);
              expect([...runIds].filter(([, c]) => c > 1)).toEqual([]);
              expect(runIds.size).toBe(JOBS);
              const t0 = Math.min(...runs.map((l) => l.t));
              const t1 = Math.max(...dones.map((l) => l.t));
              const rate = Math.round((JOBS * 1000) / Math.max(1, t1 - t0));
              const key = `${workload.name}/${count}`;
              rates.set(key, [...(rates.get(key) ?? []), rate]);
              const perHost = net.hosts
                .slice(0, count)
                .map((h) => dones.filter((l) => l.host === h.name).length);
              const errors = lines.filter((l) => l.word === "error").length;
              figures.push(
                `round ${round + 1} ${workload.name} hosts=${count}: ${rate} jobs/s (${t1 - t0} ms), completions per host ${perHost.join("/")}, bookkeeping errors ${errors}`,
              );
            } finally {
              await Promise.all(workers.map(killWorker));
            }
          }
        }
        const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
        const summary = WORKLOADS.map((w) => {
          const at = (c: number) => median(rates.get(`${w.name}/${c}`)!);
          return `${w.name}: ${[1, 2, 3, 4].map((c) => `${c}: ${at(c)} (${(at(c) / at(1)).toFixed(2)}×)`).join(", ")}`;
        });
        console.info(
          `[fault many-hosts ${kind}] jobs=${JOBS} rounds=${ROUNDS} cores=${availableParallelism()}\n  ${figures.join("\n  ")}\n  median jobs/s by hosts:\n  ${summary.join("\n  ")}`,
        );
      } finally {
        await env?.close().catch(() => undefined);
        await net.destroy();
      }
    },
  );
});
