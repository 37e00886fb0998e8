/**
 * `npm run bench:report [-- <dir>]`: rewrites <dir>/benchmarks.md and <dir>/benchmarks.svg
 * from the <dir>/benchmarks.json an earlier `npm run bench` wrote (its meta and
 * measurements), without measuring anything again; for when only the report or the chart
 * changed. <dir> is relative to where npm was started (default: the repository's docs/).
 */
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Measurement } from "./measure.js";
import { type Meta, writeReport } from "./report.js";

const arg = process.argv[2];
const docs = arg
  ? `${resolve(process.env.INIT_CWD ?? process.cwd(), arg)}/`
  : fileURLToPath(new URL("../../docs/", import.meta.url));
const file = `${docs}benchmarks.json`;
if (!existsSync(file)) {
  console.error(`no ${file}: run \`npm run bench\` first (or pass the directory that holds it)`);
  process.exit(1);
}
const { meta, measurements } = JSON.parse(readFileSync(file, "utf8")) as {
  meta?: Meta;
  measurements?: Measurement[];
};

// What writeReport reads: refuse a file that lacks any of it rather than make it up.
const missing = [
  ...(Array.isArray(measurements) ? [] : ["measurements"]),
  ...(["date", "durationSeconds", "machine", "databases", "config", "systems", "extras"] as const)
    .filter((k) => meta?.[k] === undefined)
    .map((k) => `meta.${k}`),
  ...(["nproc", "cpu", "memoryGiB", "node", "loadAverageAtEnd"] as const)
    .filter((k) => meta?.machine !== undefined && meta.machine[k] === undefined)
    .map((k) => `meta.machine.${k}`),
  ...(
    [
      "jobs",
      "samples",
      "delayed",
      "historyJobs",
      "history",
      "backlogJobs",
      "backlog",
      "concurrency",
      "reps",
    ] as const
  )
    .filter((k) => meta?.config !== undefined && meta.config[k] === undefined)
    .map((k) => `meta.config.${k}`),
];
if (!meta || !measurements || missing.length) {
  console.error(`${file} lacks what the report needs: ${missing.join(", ")}`);
  process.exit(1);
}
await writeReport(docs, meta, measurements);
console.log(`wrote ${docs}benchmarks.{md,svg} from ${file} (run of ${meta.date})`);
