/** Writes docs/benchmarks.md (tables, ratios, settings) and docs/benchmarks.svg (a vega-lite bar chart, see chart.ts) from one run's measurements. */
import { writeFileSync } from "node:fs";
import { barChart, type Panel } from "./chart.js";
import type { config } from "./env.js";
import type { Measurement, ScenarioId } from "./measure.js";
import type { Explain } from "./scenarios/history.js";
import type { SystemInfo } from "./systems/types.js";

export interface Meta {
  date: string;
  durationSeconds: number;
  machine: Record<string, string | number>;
  databases: Record<string, string>;
  config: typeof config;
  systems: Omit<SystemInfo, "make">[];
  extras: { explain?: Explain[]; sqliteSettings?: string; cut?: string[] };
}

const TITLES: Record<ScenarioId, string> = {
  A: "A. Enqueue (jobs/s, higher is better)",
  B: "B. Drain queued no-op jobs, concurrency 16 (jobs/s, higher is better; statements, write commits and CPU per job: lower is better)",
  C: "C. Pickup latency, enqueue call to handler start (ms, lower is better)",
  D: "D. Delayed jobs: lateness after the due time (ms, lower is better)",
  E: "E. Drain rate of our queue as finished history grows (jobs/s; should stay flat)",
  F: "F. Drain rate of due jobs with 100,000 not-yet-due rows of the same type in the table, against an empty table (jobs/s; the ratio should stay near 1)",
  G: "G. What flow control costs: drain with globalConcurrency equal to the capacity, and over 1,000 groups with groupConcurrency 1, against the same drain without limits (jobs/s; ratios near 1 are best)",
};

const fmt = (v: number, unit: string) =>
  !Number.isFinite(v)
    ? "n/a"
    : unit === "ms"
      ? v.toFixed(2)
      : unit === "statements/job" || unit === "commits/job"
        ? v.toFixed(3)
        : unit === "cpu ms/1000 jobs"
          ? v.toFixed(1)
          : Math.round(v).toLocaleString("en");

function cell(m: Measurement | undefined): string {
  if (!m) return "–";
  const { min, median, max, runs } = m.summary;
  return runs.length > 1
    ? `**${fmt(median, m.unit)}** (${fmt(min, m.unit)}–${fmt(max, m.unit)})`
    : `**${fmt(median, m.unit)}**`;
}

function scenarioTable(ms: Measurement[], meta: Meta): string[] {
  const variants = [...new Set(ms.map((m) => m.variant))];
  const systems = meta.systems.filter((s) => ms.some((m) => m.system === s.id));
  const lines = [
    `| system | ${variants.join(" | ")} |`,
    `| --- |${variants.map(() => " ---: |").join("")}`,
  ];
  for (const s of systems) {
    lines.push(
      `| ${s.label} | ${variants.map((v) => cell(ms.find((m) => m.system === s.id && m.variant === v))).join(" | ")} |`,
    );
  }
  return lines;
}

/** Scenario F: each system's drain with the backlog over its drain on an empty table (target ≥ 0.8×). */
/** Scenario G: each limited variant over its unlimited twin, per database. */
function flowRatios(ms: Measurement[], meta: Meta): string[] {
  const pairs = [
    ["globalConcurrency = capacity", "no limit"],
    ["1000 groups, groupConcurrency 1", "1000 groups, no limit"],
  ] as const;
  const lines = [
    `| system | ${pairs.map(([limited, free]) => `${limited} / ${free}`).join(" | ")} |`,
    `| --- |${pairs.map(() => " ---: |").join("")}`,
  ];
  for (const s of meta.systems) {
    const of = (variant: string) =>
      ms.find((m) => m.system === s.id && m.variant === variant)?.summary.median;
    const cells = pairs.map(([limited, free]) => {
      const a = of(limited);
      const b = of(free);
      return a !== undefined && b !== undefined ? `**${(a / b).toFixed(2)}×**` : "–";
    });
    if (cells.some((c) => c !== "–")) lines.push(`| ${s.label} | ${cells.join(" | ")} |`);
  }
  return lines;
}

/** Scenario A: our one-by-one enqueue over the same server's commit limit (target ≥ 0.8×). */
function commitLimitRatios(ms: Measurement[], meta: Meta): string[] {
  const variant = "one by one, 16 in flight";
  const lines = ["| system | one by one / the server's commit limit |", "| --- | ---: |"];
  for (const s of meta.systems.filter((x) => x.id.startsWith("pq-"))) {
    const mine = ms.find((m) => m.system === s.id && m.variant === variant);
    const limit = ms.find((m) => m.system === `commit-limit-${s.target}` && m.variant === variant);
    if (!mine || !limit) continue;
    lines.push(`| ${s.label} | **${(mine.summary.median / limit.summary.median).toFixed(2)}×** |`);
  }
  return lines.length > 2 ? lines : [];
}

/**
 * Per system, the median of the variant `top` picks over the median of the one `bottom`
 * picks, as a table headed `header` (E: largest history over smallest; F: with the backlog
 * over the empty table).
 */
function variantRatios(
  ms: Measurement[],
  meta: Meta,
  header: string,
  top: (variant: string) => boolean,
  bottom: (variant: string) => boolean,
): string[] {
  const lines = [`| system | ${header} |`, "| --- | ---: |"];
  for (const s of meta.systems) {
    const over = ms.find((m) => m.system === s.id && top(m.variant));
    const under = ms.find((m) => m.system === s.id && bottom(m.variant));
    if (!over || !under) continue;
    lines.push(`| ${s.label} | **${(over.summary.median / under.summary.median).toFixed(2)}×** |`);
  }
  return lines;
}

/** E's largest history against its smallest, per system (issue 14 asks for ≥ 0.9×). */
function historyRatios(ms: Measurement[], meta: Meta): string[] {
  const [least, most] = [meta.config.history.at(0), meta.config.history.at(-1)];
  if (least === undefined || most === undefined || least === most) return [];
  const [small, large] = [least, most].map((rows) => `${rows.toLocaleString("en")} finished rows`);
  return variantRatios(
    ms,
    meta,
    `${large} / ${small}`,
    (v) => v === large,
    (v) => v === small,
  );
}

/** Our median over the peer's, oriented so that > 1 always means persistent-queue is better. */
function ratioTable(ms: Measurement[], meta: Meta): string[] {
  const ours = meta.systems.filter((s) => s.id.startsWith("pq-"));
  const peers = meta.systems.filter(
    (s) =>
      !s.id.startsWith("pq-") &&
      !s.id.startsWith("commit-limit-") &&
      ms.some((m) => m.system === s.id),
  );
  if (!ours.length || !peers.length) return [];
  const variants = [
    ...new Set(ms.filter((m) => m.unit !== "statements/job").map((m) => m.variant)),
  ];
  const lines = [
    `| ours | metric | ${peers.map((p) => `vs ${p.label}`).join(" | ")} |`,
    `| --- | --- |${peers.map(() => " ---: |").join("")}`,
  ];
  for (const o of ours) {
    for (const v of variants) {
      const mine = ms.find((m) => m.system === o.id && m.variant === v);
      if (!mine) continue;
      const cells = peers.map((p) => {
        const theirs = ms.find((m) => m.system === p.id && m.variant === v);
        if (!theirs) return "–";
        const r = mine.higherIsBetter
          ? mine.summary.median / theirs.summary.median
          : theirs.summary.median / mine.summary.median;
        return Number.isFinite(r) ? `${r.toFixed(2)}×` : "n/a";
      });
      lines.push(`| ${o.label} | ${v} | ${cells.join(" | ")} |`);
    }
  }
  return lines;
}

function chart(meta: Meta, ms: Measurement[]): Promise<string> {
  const panels: Panel[] = [];
  for (const [scenario, variant] of [
    ["B", "1 process, c=16"],
    ["B", "2 processes, c=16 each"],
    ["A", "batches of 1000"],
    ["A", "one by one, 16 in flight"],
  ] as const) {
    const bars = meta.systems.flatMap((s) => {
      const m = ms.find(
        (x) => x.scenario === scenario && x.system === s.id && x.variant === variant,
      );
      return m ? [{ label: s.label, value: m.summary.median, ours: s.id.startsWith("pq-") }] : [];
    });
    if (bars.length) panels.push({ title: `${scenario}: ${variant} (jobs/s, median)`, bars });
  }
  return barChart(
    `persistent-queue vs peers, ${meta.date.slice(0, 10)}, ${meta.machine.nproc} cores`,
    panels,
  );
}

export async function writeReport(docs: string, meta: Meta, ms: Measurement[]): Promise<void> {
  const c = meta.config;
  const out: string[] = [
    "# Benchmarks",
    "",
    "Generated by `npm run bench` (bench/src/main.ts); do not edit by hand. Raw numbers: [benchmarks.json](benchmarks.json).",
    "Cells are the median of the repetitions, with (min–max). Ratios compare medians and are oriented so that **> 1× means persistent-queue is better** (throughput: ours/peer; latency: peer/ours).",
    "",
    `- Date: ${meta.date}; the run took ${meta.durationSeconds} s.`,
    `- Machine: ${meta.machine.nproc} cores (${meta.machine.cpu}), ${meta.machine.memoryGiB} GiB, Node ${meta.machine.node}, load average at the end ${meta.machine.loadAverageAtEnd}.`,
    `- Databases: MariaDB ${meta.databases.mariadb}, PostgreSQL ${meta.databases.postgres} (testkit's throwaway servers, defaults: fsync on), SQLite ${meta.databases.sqlite}${meta.extras.sqliteSettings ? ` (${meta.extras.sqliteSettings})` : ""}, Redis ${meta.databases.redis} (\`--save '' --appendonly yes --appendfsync everysec\`). All on 127.0.0.1.`,
    `- Sizes: ${c.jobs.toLocaleString("en")} jobs for A and B, ${c.samples} pickups spaced 15 ms for C, ${c.delayed} delayed jobs (due in 0.3–1.5 s) for D, ${c.historyJobs.toLocaleString("en")} jobs over ${c.history.map((h) => h.toLocaleString("en")).join(" / ")} finished rows for E, ${c.backlogJobs.toLocaleString("en")} due jobs with and without ${c.backlog.toLocaleString("en")} delayed rows for F and the same number of due jobs for G; concurrency ${c.concurrency}; ${c.reps} repetition(s) (E's and F's table sizes alternate within each). Every system gets a fresh database (or Redis prefix) for every repetition.`,
    "",
    "![bar chart](benchmarks.svg)",
    "",
    "## Systems and settings",
    "",
    "| system | version | on | settings |",
    "| --- | --- | --- | --- |",
    ...meta.systems.map((s) => `| ${s.label} | ${s.version} | ${s.target} | ${s.settings} |`),
    ...(String(meta.machine.node).startsWith("v20.")
      ? [
          "| sidequest, graphile-worker 0.18, pg-boss 12 | – | – | not on Node 20: each requires Node 22 or later (engines); measured in the Node 24 run ([node24/benchmarks.md](node24/benchmarks.md)) |",
        ]
      : []),
    "",
  ];
  for (const id of ["A", "B", "C", "D", "E", "F", "G"] as const) {
    const part = ms.filter((m) => m.scenario === id);
    if (!part.length) continue;
    out.push(`## ${TITLES[id]}`, "", ...scenarioTable(part, meta), "");
    if (id === "A") {
      const limits = commitLimitRatios(part, meta);
      if (limits.length)
        out.push(
          "Against the commit limit of the same server (pgbench / mariadb-slap, 16 clients, one-row INSERTs):",
          "",
          ...limits,
          "",
        );
    }
    if (id === "E") out.push(...historyRatios(part, meta), "");
    if (id === "F")
      out.push(
        ...variantRatios(
          part,
          meta,
          "with backlog / empty table",
          (v) => v !== "empty table",
          (v) => v === "empty table",
        ),
        "",
      );
    if (id === "G") out.push(...flowRatios(part, meta), "");
    const ratios = id === "E" || id === "F" || id === "G" ? [] : ratioTable(part, meta);
    if (ratios.length) out.push("Ratios (> 1× = persistent-queue better):", "", ...ratios, "");
    if (id === "C")
      out.push(
        '"same instance": the producer is the worker\'s own queue/client; "separate producer": a second instance on its own connections, as another process would be. Our queue wakes in-process on the same instance, by NOTIFY on PostgreSQL, and otherwise polls (500 ms ceiling).',
        "",
      );
  }
  if (meta.extras.cut?.length)
    out.push(
      `**Cut short** (drain still running after its time budget; the cell is the partial rate): ${meta.extras.cut.join("; ")}.`,
      "",
    );
  for (const e of meta.extras.explain ?? []) {
    out.push(
      `### EXPLAIN of the captured claim: ${e.database} — ${e.usesClaimIndex ? "uses" : "does **not** use"} \`async_job_tab_due_idx\``,
      "",
      "```sql",
      e.sql.trim(),
      `-- params: ${e.params}`,
      "```",
      "",
      "```",
      e.plan,
      "```",
      "",
    );
  }
  writeFileSync(`${docs}benchmarks.md`, `${out.join("\n")}\n`);
  writeFileSync(`${docs}benchmarks.svg`, await chart(meta, ms));
}
