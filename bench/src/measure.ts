/** What every scenario produces, and the helper that gives a system a fresh database for one run. */
import { type Summary, summarize } from "./env.js";
import type { Servers } from "./servers.js";
import type { SystemInfo, SystemUnderTest } from "./systems/types.js";

export type ScenarioId = "A" | "B" | "C" | "D" | "E" | "F" | "G";

export interface Measurement {
  scenario: ScenarioId;
  system: string;
  variant: string;
  unit: "jobs/s" | "ms" | "statements/job" | "commits/job" | "cpu ms/1000 jobs";
  /** Throughput: higher is better; latency: lower is. */
  higherIsBetter: boolean;
  summary: Summary;
}

export function measurement(
  scenario: ScenarioId,
  system: SystemInfo,
  variant: string,
  unit: Measurement["unit"],
  runs: number[],
): Measurement {
  return {
    scenario,
    system: system.id,
    variant,
    unit,
    higherIsBetter: unit === "jobs/s",
    summary: summarize(runs),
  };
}

/** Runs `fn` on a fresh database/schema for `info`, then tears the system down and drops the database. */
export async function onFresh<T>(
  servers: Servers,
  info: SystemInfo,
  fn: (sut: SystemUnderTest, spec: Parameters<SystemInfo["make"]>[0]) => Promise<T>,
): Promise<T> {
  const fresh = await servers.fresh(info.target);
  const sut = info.make(fresh.spec);
  try {
    await sut.setup();
    return await fn(sut, fresh.spec);
  } finally {
    await sut.teardown().catch((e) => console.error(`${info.id}: teardown failed:`, e));
    await fresh.drop().catch((e) => console.error(`${info.id}: drop failed:`, e));
  }
}

/**
 * `run(size, rep)` for every size in each of `reps` repetitions, the sizes alternating
 * within each (a, b, c, a, b, c, …): the VM's speed drifts by a third over a run, and sizes
 * measured one after the other read that drift as a difference between them. The rates
 * per size, in run order.
 */
export async function alternating<K>(
  sizes: readonly K[],
  reps: number,
  run: (size: K, rep: number) => Promise<number>,
): Promise<Map<K, number[]>> {
  const rates = new Map<K, number[]>(sizes.map((size) => [size, []]));
  for (let rep = 0; rep < reps; rep++)
    for (const size of sizes) rates.get(size)?.push(await run(size, rep));
  return rates;
}

export function log(message: string): void {
  console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}`);
}
