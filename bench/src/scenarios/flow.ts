/**
 * Scenario G (our queue only): what flow control costs. Drains
 * `backlogJobs` due no-op jobs (concurrency 16, one process) without limits and
 * with `globalConcurrency` equal to the worker's capacity (a limit that never
 * binds: the cost is the limited claim itself: the gate, the count of running
 * rows, and on MySQL a transaction); then the same jobs spread over 1,000 groups,
 * without limits and with `groupConcurrency: 1`.
 */
import { config } from "../env.js";
import { log, type Measurement, measurement, onFresh } from "../measure.js";
import type { Servers } from "../servers.js";
import { OurQueue } from "../systems/ours.js";
import type { SystemInfo } from "../systems/types.js";
import { drain } from "./drain.js";
import { enqueueBatches } from "./enqueue.js";

const BUDGET_MS = Number(process.env.PQ_BENCH_G_BUDGET_MS ?? 60_000);
const GROUPS = 1000;

/** The variants, each a job config added to the defaults, and whether its jobs carry groups. */
export const FLOW_VARIANTS = [
  { name: "no limit", options: {}, grouped: false },
  { name: "globalConcurrency = capacity", options: { globalConcurrency: -1 }, grouped: false },
  { name: `${GROUPS} groups, no limit`, options: {}, grouped: true },
  { name: `${GROUPS} groups, groupConcurrency 1`, options: { groupConcurrency: 1 }, grouped: true },
] as const;

export async function scenarioG(servers: Servers, systems: SystemInfo[]): Promise<Measurement[]> {
  const measurements: Measurement[] = [];
  const jobs = config.backlogJobs;
  for (const info of systems.filter((s) => s.id.startsWith("pq-") && !s.id.endsWith("-tuned"))) {
    for (const variant of FLOW_VARIANTS) {
      const options: Record<string, unknown> = { ...variant.options };
      if (options.globalConcurrency === -1) options.globalConcurrency = config.concurrency;
      const runs: number[] = [];
      for (let rep = 0; rep < config.reps; rep++) {
        const limited: SystemInfo = {
          ...info,
          make: (spec) => new OurQueue(spec, undefined, options),
        };
        runs.push(
          await onFresh(servers, limited, async (sut) => {
            if (!(sut instanceof OurQueue)) throw new Error("G runs our queue only");
            if (variant.grouped) {
              for (let i = 0; i < jobs; i += config.batch) {
                const size = Math.min(config.batch, jobs - i);
                await sut.enqueueGrouped(
                  Array.from({ length: size }, (_, k) => ({
                    params: { n: i + k },
                    group: `g${(i + k) % GROUPS}`,
                  })),
                );
              }
            } else await enqueueBatches(sut, jobs);
            const r = await drain(sut, jobs, BUDGET_MS);
            log(
              `G ${info.id} ${variant.name}: drain ${Math.round(r.rate)} jobs/s, ${r.statements?.toFixed(2)} statements/job${r.complete ? "" : " (cut short)"}`,
            );
            if (config.profile) for (const l of sut.log.top(8)) log(`  ${l}`);
            return r.rate;
          }),
        );
      }
      measurements.push(measurement("G", info, variant.name, "jobs/s", runs));
    }
  }
  return measurements;
}
