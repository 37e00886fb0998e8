/**
 * Scenario C: pickup latency (enqueue call to handler start) over spaced
 * enqueues, with the producer being the worker's own instance and a separate
 * instance on its own connections (as another process would be). Scenario D:
 * delayed jobs, how late after their due time they start.
 */
import { performance } from "node:perf_hooks";
import { config, latencySummary, sleep } from "../env.js";
import { log, type Measurement, measurement, onFresh } from "../measure.js";
import type { Servers } from "../servers.js";
import type { SystemInfo, SystemUnderTest } from "../systems/types.js";

const SPACING_MS = 15;
const SETTLE_MS = 1500;

async function collect(latencies: number[], want: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (latencies.length < want && Date.now() < deadline) await sleep(20);
}

async function pickup(
  info: SystemInfo,
  sut: SystemUnderTest,
  spec: Parameters<SystemInfo["make"]>[0],
  separate: boolean,
) {
  const sentAt = new Map<number, number>();
  const latencies: number[] = [];
  await sut.start(config.concurrency, (p) => {
    const t = sentAt.get(p.n);
    if (t !== undefined) latencies.push(performance.now() - t);
  });
  const producer = separate ? info.make(spec) : sut;
  if (separate) await producer.setup();
  try {
    await sleep(SETTLE_MS); // let the worker settle into its idle state (long poll, LISTEN, backoff ceiling)
    for (let n = 0; n < config.samples; n++) {
      sentAt.set(n, performance.now());
      await producer.enqueue({ n });
      await sleep(SPACING_MS);
    }
    await collect(latencies, config.samples, 10_000);
  } finally {
    if (separate) await producer.teardown();
  }
  return latencySummary(latencies);
}

async function delayed(sut: SystemUnderTest) {
  const dueAt = new Map<number, number>();
  const late: number[] = [];
  await sut.start(config.concurrency, (p) => {
    const due = dueAt.get(p.n);
    if (due !== undefined) late.push(Date.now() - due);
  });
  await sleep(500);
  for (let n = 0; n < config.delayed; n++) {
    const delay = 300 + Math.floor((1200 * n) / config.delayed); // due times spread over 0.3-1.5 s
    dueAt.set(n, Date.now() + delay);
    await sut.enqueue({ n }, delay);
  }
  await collect(late, config.delayed, 15_000);
  return latencySummary(late);
}

type Lat = ReturnType<typeof latencySummary>;

function percentiles(
  out: Measurement[],
  scenario: "C" | "D",
  info: SystemInfo,
  label: string,
  runs: Lat[],
) {
  for (const p of ["p50", "p95", "p99"] as const) {
    out.push(
      measurement(
        scenario,
        info,
        `${p} ${label}`.trim(),
        "ms",
        runs.map((r) => r[p]),
      ),
    );
  }
  const missing = runs.filter(
    (r) => r.n < (scenario === "C" ? config.samples : config.delayed),
  ).length;
  if (missing)
    log(
      `${scenario} ${info.id} ${label}: ${missing} run(s) lost samples (${runs.map((r) => r.n)})`,
    );
}

export async function scenarioC(servers: Servers, systems: SystemInfo[]): Promise<Measurement[]> {
  const out: Measurement[] = [];
  for (const info of systems) {
    for (const separate of [false, true]) {
      const runs: Lat[] = [];
      for (let rep = 0; rep < config.reps; rep++) {
        runs.push(await onFresh(servers, info, (sut, spec) => pickup(info, sut, spec, separate)));
      }
      const label = separate ? "separate producer" : "same instance";
      log(
        `C ${info.id} ${label}: p50 ${runs.map((r) => r.p50.toFixed(2))} ms, p99 ${runs.map((r) => r.p99.toFixed(2))} ms`,
      );
      percentiles(out, "C", info, label, runs);
    }
  }
  return out;
}

export async function scenarioD(servers: Servers, systems: SystemInfo[]): Promise<Measurement[]> {
  const out: Measurement[] = [];
  for (const info of systems) {
    const runs: Lat[] = [];
    for (let rep = 0; rep < config.reps; rep++)
      runs.push(await onFresh(servers, info, (sut) => delayed(sut)));
    log(`D ${info.id}: late p50 ${runs.map((r) => r.p50)} ms, p99 ${runs.map((r) => r.p99)} ms`);
    percentiles(out, "D", info, "lateness", runs);
  }
  return out;
}
