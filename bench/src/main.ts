/**
 * `npm run bench`: starts the servers, runs scenarios A-G for every system,
 * writes docs/benchmarks.{json,md,svg}, stops the servers. Sizes come from
 * the environment (see env.ts); defaults are issue 5's.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { config } from "./env.js";
import { log, type Measurement } from "./measure.js";
import { type Meta, writeReport } from "./report.js";
import { scenarioF } from "./scenarios/backlog.js";
import { scenarioB } from "./scenarios/drain.js";
import { scenarioA } from "./scenarios/enqueue.js";
import { scenarioG } from "./scenarios/flow.js";
import { scenarioE } from "./scenarios/history.js";
import { scenarioC, scenarioD } from "./scenarios/latency.js";
import { startServers } from "./servers.js";
import { allSystems } from "./systems/index.js";
import type { SystemInfo } from "./systems/types.js";

const docs = config.out
  ? `${resolve(config.out)}/`
  : fileURLToPath(new URL("../../docs/", import.meta.url));
const systems = allSystems.filter((s) => !config.only || config.only.includes(s.id));
const started = Date.now();
const servers = await startServers();
const stop = () => servers.stop();
process.once("SIGINT", () => void stop().finally(() => process.exit(130)));
// Each repetition's database is dropped WITH (FORCE) after the system's teardown; a peer
// whose pool still holds an idle connection then gets "terminating connection due to
// administrator command" (57P01) on a pool with no error listener, which would end the
// whole run. That error is the bench's own doing: log it and go on. Anything else is fatal.
process.on("uncaughtException", (e: Error & { code?: string }) => {
  if (e.code === "57P01") {
    log(`ignored after a database drop: ${e.message}`);
    return;
  }
  console.error(e);
  void stop().finally(() => process.exit(1));
});

try {
  const sqlite = execFileSync(
    process.execPath,
    [
      "-e",
      "console.log(require('better-sqlite3')(':memory:').prepare('select sqlite_version() v').get().v)",
    ],
    { encoding: "utf8" },
  ).trim();
  servers.versions.sqlite = sqlite;
  log(`servers up: ${JSON.stringify(servers.versions)}; ${config.jobs} jobs, ${config.reps} reps`);
  const measurements: Measurement[] = [];
  const extras: Meta["extras"] = {};
  const run = async (id: string, fn: (systems: SystemInfo[]) => Promise<Measurement[]>) => {
    if (!config.scenarios.includes(id)) return;
    const these = systems.filter((s) => !s.scenarios || s.scenarios.includes(id));
    const t0 = Date.now();
    measurements.push(...(await fn(these)));
    log(`scenario ${id} took ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  };
  await run("A", (these) => scenarioA(servers, these));
  await run("B", (these) => scenarioB(servers, these));
  await run("C", (these) => scenarioC(servers, these));
  await run("D", (these) => scenarioD(servers, these));
  await run("E", async (these) => {
    const e = await scenarioE(servers, these);
    extras.explain = e.explain;
    extras.sqliteSettings = e.sqliteSettings;
    extras.cut = e.cut;
    return e.measurements;
  });
  await run("F", (these) => scenarioF(servers, these));
  await run("G", (these) => scenarioG(servers, these));
  const meta: Meta = {
    date: new Date().toISOString(),
    durationSeconds: Math.round((Date.now() - started) / 1000),
    machine: {
      nproc: cpus().length,
      cpu: cpus()[0]?.model ?? "?",
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      loadAverageAtEnd: loadavg()
        .map((l) => l.toFixed(2))
        .join(" "),
      node: process.version,
    },
    databases: servers.versions,
    config,
    systems: systems.map(({ id, label, target, version, settings }) => ({
      id,
      label,
      target,
      version,
      settings,
    })),
    extras,
  };
  mkdirSync(docs, { recursive: true });
  writeFileSync(`${docs}benchmarks.json`, `${JSON.stringify({ meta, measurements }, null, 2)}\n`);
  await writeReport(docs, meta, measurements);
  log(`wrote ${docs}benchmarks.{json,md,svg} in ${meta.durationSeconds} s`);
} finally {
  await stop();
}
