/**
 * Scenario B: drain N queued no-op jobs with concurrency 16, in one process,
 * and in two (this one plus a child process running src/child.ts, each with
 * concurrency 16). Also counts our statements per job in the 1-process drain.
 */
import { type ChildProcess, fork } from "node:child_process";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { commitMark } from "../commits.js";
import { type CpuMark, cpuMark, cpuPerThousand } from "../cpu.js";
import { Counter, config } from "../env.js";
import { log, type Measurement, measurement, onFresh } from "../measure.js";
import type { Servers, TargetSpec } from "../servers.js";
import { OurQueue } from "../systems/ours.js";
import type { SystemInfo, SystemUnderTest } from "../systems/types.js";
import { enqueueBatches } from "./enqueue.js";

const TIMEOUT_MS = 300_000;

/**
 * Jobs/s draining `jobs` already-queued jobs; `statements` is ours only. With
 * `budgetMs`, a drain still running then is cut short and its partial rate
 * returned (complete: false), so one pathological case cannot stall the run.
 */
export async function drain(
  sut: SystemUnderTest,
  jobs: number,
  budgetMs?: number,
  target?: TargetSpec,
): Promise<{
  rate: number;
  complete: boolean;
  statements?: number;
  commits?: number;
  cpu?: ReturnType<typeof cpuPerThousand>;
}> {
  const done = new Counter();
  const before = sut instanceof OurQueue ? sut.log.count : 0;
  const commits = target ? await commitMark(target) : undefined;
  const mark: CpuMark | undefined = target ? cpuMark(target.kind) : undefined;
  const t0 = performance.now();
  await sut.start(config.concurrency, () => done.add());
  let complete = true;
  try {
    await done.until(jobs, budgetMs ?? TIMEOUT_MS, "drain");
  } catch (error) {
    if (budgetMs === undefined) throw error;
    complete = false;
  }
  const handled = done.count;
  const rate = handled / ((performance.now() - t0) / 1000);
  const cpu = mark ? cpuPerThousand(mark, handled) : undefined;
  // Ours: teardown's stop() flushes batched completions: count those too (plus stop's
  // own few statements). Peers' last writes may still be in flight: a few commits.
  if (sut instanceof OurQueue) await sut.teardown();
  const committed = commits ? (await commits.since()) / Math.max(1, handled) : undefined;
  return {
    rate,
    complete,
    ...(sut instanceof OurQueue
      ? { statements: (sut.log.count - before) / Math.max(1, handled) }
      : {}),
    ...(committed !== undefined ? { commits: committed } : {}),
    ...(cpu ? { cpu } : {}),
  };
}

function spawnChild(info: SystemInfo, target: TargetSpec, done: Counter): Promise<ChildProcess> {
  const file = fileURLToPath(new URL("../child.ts", import.meta.url));
  const child = fork(
    file,
    [JSON.stringify({ system: info.id, target, concurrency: config.concurrency })],
    {
      execArgv: ["--import", "tsx"],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    },
  );
  let last = 0;
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`child exited early (${code})`)));
    child.on("message", (m: { ready?: boolean; handled?: number }) => {
      if (m.ready) resolve(child);
      if (m.handled !== undefined) {
        done.add(m.handled - last);
        last = m.handled;
      }
    });
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  child.removeAllListeners("exit");
  const exited = new Promise((r) => child.once("exit", r));
  child.send({ cmd: "stop" });
  const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
  await exited;
  clearTimeout(timer);
}

async function drainTwo(
  sut: SystemUnderTest,
  info: SystemInfo,
  target: TargetSpec,
  jobs: number,
): Promise<number> {
  await enqueueBatches(sut, jobs);
  const done = new Counter();
  // The child loads and connects before the clock starts; "go" starts both processes' workers together.
  const child = await spawnChild(info, target, done);
  try {
    const t0 = performance.now();
    child.send({ cmd: "go" });
    await sut.start(config.concurrency, () => done.add());
    await done.until(jobs, TIMEOUT_MS, "2-process drain");
    return jobs / ((performance.now() - t0) / 1000);
  } finally {
    await stopChild(child);
  }
}

export async function scenarioB(servers: Servers, systems: SystemInfo[]): Promise<Measurement[]> {
  const out: Measurement[] = [];
  for (const info of systems) {
    const one: number[] = [];
    const two: number[] = [];
    const stmts: number[] = [];
    const commits: number[] = [];
    const workerCpu: number[] = [];
    const serverCpu: number[] = [];
    for (let rep = 0; rep < config.reps; rep++) {
      const r = await onFresh(servers, info, async (sut, spec) => {
        await enqueueBatches(sut, config.jobs);
        const result = await drain(sut, config.jobs, undefined, spec);
        if (config.profile && sut instanceof OurQueue)
          for (const line of sut.log.top(6)) log(`  ${info.id}: ${line}`);
        return result;
      });
      one.push(r.rate);
      if (r.statements !== undefined) stmts.push(r.statements);
      if (r.commits !== undefined) commits.push(r.commits);
      if (r.cpu) workerCpu.push(r.cpu.worker);
      if (r.cpu?.server !== undefined) serverCpu.push(r.cpu.server);
      two.push(await onFresh(servers, info, (sut, spec) => drainTwo(sut, info, spec, config.jobs)));
    }
    log(
      `B ${info.id}: 1 process ${one.map(Math.round)} jobs/s, 2 processes ${two.map(Math.round)} jobs/s${stmts.length ? `, statements/job ${stmts.map((s) => s.toFixed(3))}` : ""}${commits.length ? `, commits/job ${commits.map((s) => s.toFixed(3))}` : ""}, CPU ms/1000 jobs worker ${workerCpu.map((c) => c.toFixed(1))} server ${serverCpu.map((c) => c.toFixed(1))}`,
    );
    out.push(measurement("B", info, "1 process, c=16", "jobs/s", one));
    out.push(measurement("B", info, "2 processes, c=16 each", "jobs/s", two));
    if (stmts.length)
      out.push(measurement("B", info, "statements per job (1 process)", "statements/job", stmts));
    if (commits.length)
      out.push(measurement("B", info, "write commits per job (1 process)", "commits/job", commits));
    if (workerCpu.length)
      out.push(
        measurement(
          "B",
          info,
          "worker CPU ms per 1,000 jobs (1 process)",
          "cpu ms/1000 jobs",
          workerCpu,
        ),
      );
    if (serverCpu.length)
      out.push(
        measurement(
          "B",
          info,
          "server CPU ms per 1,000 jobs (1 process)",
          "cpu ms/1000 jobs",
          serverCpu,
        ),
      );
  }
  return out;
}
