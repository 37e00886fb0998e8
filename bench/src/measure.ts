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

export function log(message: string): void {
  console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}`);
}
