/**
 * Scenario E (our queue only): drain rate with 10k/100k/1M finished rows
 * already in the table, and an EXPLAIN of the claim statement our queue
 * actually sent (captured through the DB wrapper) on each database.
 * Peers are left out: graphile-worker deletes a job when it completes and
 * pg-boss moves finished jobs out of its job table, so neither accumulates
 * history in the table it claims from.
 */
import { config } from "../env.js";
import { alternating, log, type Measurement, measurement, onFresh } from "../measure.js";
import type { Servers, TargetKind } from "../servers.js";
import type { Captured } from "../systems/capture.js";
import { OurQueue } from "../systems/ours.js";
import type { SystemInfo } from "../systems/types.js";
import { drain } from "./drain.js";
import { enqueueBatches } from "./enqueue.js";

const COLS = "params, job_type, job_status, start_time, create_time, update_time";
const INDEX = "async_job_tab_due_idx";
/** Longest one E drain may take; a slower one reports its partial rate (see `cut`). */
const BUDGET_MS = Number(process.env.PQ_BENCH_E_BUDGET_MS ?? 30_000);

/** One statement per database that writes `rows` finished (Success) rows of the bench's job type. */
function historySql(kind: TargetKind, rows: number): string {
  const n = Math.floor(rows);
  const values = `'{}', 1, 1, 0, 1700000000, 1700000000`;
  if (kind === "postgres")
    return `INSERT INTO async_job_tab (${COLS}) SELECT ${values} FROM generate_series(1, ${n})`;
  // MariaDB's built-in SEQUENCE engine: seq_1_to_N is a virtual table of N rows.
  if (kind === "mariadb")
    return `INSERT INTO async_job_tab (${COLS}) SELECT ${values} FROM seq_1_to_${n}`;
  return `INSERT INTO async_job_tab (${COLS}) WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ${n}) SELECT ${values} FROM s`;
}

const analyzeSql: Record<string, string> = {
  postgres: "ANALYZE async_job_tab",
  mariadb: "ANALYZE TABLE async_job_tab",
  sqlite: "ANALYZE",
};

/** The claim: the statement that moves due rows to Running with a row limit. */
function findClaim(statements: Captured[]): Captured | undefined {
  return statements.find((s) => /^\s*(WITH|UPDATE)\b/i.test(s.sql) && /LIMIT/i.test(s.sql));
}

export interface Explain {
  database: string;
  sql: string;
  params: string;
  plan: string;
  usesClaimIndex: boolean;
}

async function explain(sut: OurQueue, kind: TargetKind, claim: Captured): Promise<string> {
  const db = sut.rawDb();
  const prefix = kind === "sqlite" ? "EXPLAIN QUERY PLAN " : "EXPLAIN ";
  const rows = await db.query(prefix + claim.sql, claim.params);
  return rows.map((r) => Object.values(r).map(String).join(" | ")).join("\n");
}

export async function scenarioE(servers: Servers, systems: SystemInfo[]) {
  const measurements: Measurement[] = [];
  const explains: Explain[] = [];
  let sqliteSettings = "";
  const cut: string[] = [];
  for (const info of systems.filter((s) => s.id.startsWith("pq-"))) {
    // Until 2026-11-30 the 1M case ran last, once, and read the VM's drift as a cost of history.
    const runs = await alternating(config.history, config.reps, (rows, rep) =>
      onFresh(servers, info, async (sut) => {
        if (!(sut instanceof OurQueue)) throw new Error("E runs our queue only");
        const t0 = Date.now();
        await sut.rawDb().exec(historySql(info.target, rows));
        await sut.rawDb().exec(analyzeSql[info.target] as string);
        const insertMs = Date.now() - t0;
        if (info.target === "sqlite" && !sqliteSettings) sqliteSettings = await sqlitePragmas(sut);
        await enqueueBatches(sut, config.historyJobs);
        sut.log.recording = rep === 0 && rows === config.history.at(-1);
        const r = await drain(sut, config.historyJobs, BUDGET_MS);
        if (!r.complete) cut.push(`${info.label} at ${rows.toLocaleString("en")} rows`);
        const claim = findClaim(sut.log.statements);
        if (sut.log.recording && claim) {
          // drain() closed the queue's connection; EXPLAIN on a new one, with a backlog queued
          // again (and statistics refreshed): the plan that matters is the one under load.
          await sut.setup();
          await enqueueBatches(sut, config.historyJobs);
          await sut.rawDb().exec(analyzeSql[info.target] as string);
          const plan = await explain(sut, info.target, claim);
          explains.push({
            database: info.label,
            sql: claim.sql,
            params: JSON.stringify(claim.params),
            plan,
            usesClaimIndex: plan.includes(INDEX),
          });
        } else if (sut.log.recording) log(`E ${info.id}: no claim statement captured`);
        log(
          `E ${info.id} history ${rows}: inserted in ${insertMs} ms, drain ${Math.round(r.rate)} jobs/s`,
        );
        // Where the time went (wall time per statement; concurrent calls overlap): the profile behind a slow drain.
        for (const line of sut.log.top(3)) log(`  ${line}`);
        return r.rate;
      }),
    );
    for (const [rows, rates] of runs)
      measurements.push(
        measurement("E", info, `${rows.toLocaleString("en")} finished rows`, "jobs/s", rates),
      );
  }
  return { measurements, explain: explains, sqliteSettings, cut };
}

async function sqlitePragmas(sut: OurQueue): Promise<string> {
  const db = sut.rawDb();
  const get = async (p: string) => Object.values((await db.query(`PRAGMA ${p}`))[0] ?? {}).join("");
  return `journal_mode=${await get("journal_mode")}, synchronous=${await get("synchronous")} (0 OFF, 1 NORMAL, 2 FULL), busy_timeout=${await get("busy_timeout")}`;
}
