/** Scenario A: enqueue N jobs one by one with 16 calls in flight, and in batches of 1000. */
import { performance } from "node:perf_hooks";
import { config } from "../env.js";
import { log, type Measurement, measurement, onFresh } from "../measure.js";
import type { Servers } from "../servers.js";
import { commitLimit } from "../systems/commit-limit.js";
import type { SystemInfo, SystemUnderTest } from "../systems/types.js";

async function oneByOne(sut: SystemUnderTest, jobs: number): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  // config.inFlight loops each awaiting its own add(): 16 calls outstanding at any time.
  await Promise.all(
    Array.from({ length: config.inFlight }, async () => {
      while (next < jobs) await sut.enqueue({ n: next++ });
    }),
  );
  return jobs / ((performance.now() - t0) / 1000);
}

export async function enqueueBatches(sut: SystemUnderTest, jobs: number): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < jobs; i += config.batch) {
    const size = Math.min(config.batch, jobs - i);
    await sut.enqueueBatch(Array.from({ length: size }, (_, k) => ({ n: i + k })));
  }
  return jobs / ((performance.now() - t0) / 1000);
}

export async function scenarioA(servers: Servers, systems: SystemInfo[]): Promise<Measurement[]> {
  const out: Measurement[] = [];
  for (const info of systems) {
    if (info.id.startsWith("commit-limit-")) {
      const rates: number[] = [];
      for (let rep = 0; rep < config.reps; rep++) {
        const fresh = await servers.fresh(info.target);
        try {
          rates.push(await commitLimit(fresh.spec));
        } finally {
          await fresh.drop();
        }
      }
      log(`A ${info.id}: ${rates.map(Math.round)} commits/s`);
      out.push(measurement("A", info, "one by one, 16 in flight", "jobs/s", rates));
      continue;
    }
    const single: number[] = [];
    const batch: number[] = [];
    for (let rep = 0; rep < config.reps; rep++) {
      single.push(await onFresh(servers, info, (sut) => oneByOne(sut, config.jobs)));
      batch.push(await onFresh(servers, info, (sut) => enqueueBatches(sut, config.jobs)));
    }
    log(
      `A ${info.id}: one-by-one ${single.map(Math.round)} jobs/s, batch ${batch.map(Math.round)} jobs/s`,
    );
    out.push(measurement("A", info, "one by one, 16 in flight", "jobs/s", single));
    out.push(measurement("A", info, `batches of ${config.batch}`, "jobs/s", batch));
  }
  return out;
}
