/**
 * Scenario F (our queue only): drain rate of due jobs with a backlog of
 * not-yet-due rows of the same job type in the table (100,000 delayed by one
 * hour by default: reminders for tomorrow, retries waiting out an outage),
 * against the same drain on an empty table, in the same run. The claim and
 * the idle check seek the due index, so the ratio should stay near 1.
 */
import { config } from "../env.js";
import { alternating, log, type Measurement, measurement, onFresh } from "../measure.js";
import type { Servers, TargetKind } from "../servers.js";
import { OurQueue } from "../systems/ours.js";
import type { SystemInfo } from "../systems/types.js";
import { drain } from "./drain.js";
import { enqueueBatches } from "./enqueue.js";

const COLS = "params, job_type, job_status, start_time, run_at, create_time, update_time";
/** Longest one F drain may take; a slower one reports its partial rate. */
const BUDGET_MS = Number(process.env.PQ_BENCH_F_BUDGET_MS ?? 60_000);

/** One statement per database: `rows` waiting rows of the bench's job type, due in an hour. */
function delayedSql(kind: TargetKind, rows: number): string {
  const n = Math.floor(rows);
  if (kind === "postgres") {
    const due = "(floor(extract(epoch from now())) + 3600)::bigint";
    return `INSERT INTO async_job_tab (${COLS}) SELECT '{}', 1, 0, ${due}, ${due} * 1000, 1700000000, 1700000000 FROM generate_series(1, ${n})`;
  }
  if (kind === "mariadb") {
    const due = "(UNIX_TIMESTAMP() + 3600)";
    return `INSERT INTO async_job_tab (${COLS}) SELECT '{}', 1, 0, ${due}, ${due} * 1000, 1700000000, 1700000000 FROM seq_1_to_${n}`;
  }
  const due = "(CAST(strftime('%s', 'now') AS INTEGER) + 3600)";
  return `INSERT INTO async_job_tab (${COLS}) WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ${n}) SELECT '{}', 1, 0, ${due}, ${due} * 1000, 1700000000, 1700000000 FROM s`;
}

const analyzeSql: Record<string, string> = {
  postgres: "ANALYZE async_job_tab",
  mariadb: "ANALYZE TABLE async_job_tab",
  sqlite: "ANALYZE",
};

export async function scenarioF(servers: Servers, systems: SystemInfo[]): Promise<Measurement[]> {
  const measurements: Measurement[] = [];
  for (const info of systems.filter((s) => s.id.startsWith("pq-"))) {
    const runs = await alternating([0, config.backlog], config.reps, (delayed) =>
      onFresh(servers, info, async (sut) => {
        if (!(sut instanceof OurQueue)) throw new Error("F runs our queue only");
        if (delayed > 0) await sut.rawDb().exec(delayedSql(info.target, delayed));
        await sut.rawDb().exec(analyzeSql[info.target] as string);
        await enqueueBatches(sut, config.backlogJobs);
        const r = await drain(sut, config.backlogJobs, BUDGET_MS);
        log(
          `F ${info.id} ${delayed} delayed: drain ${Math.round(r.rate)} jobs/s${r.complete ? "" : " (cut short)"}`,
        );
        for (const line of sut.log.top(3)) log(`  ${line}`);
        return r.rate;
      }),
    );
    for (const [delayed, rates] of runs) {
      const variant = delayed === 0 ? "empty table" : `${delayed.toLocaleString("en")} delayed`;
      measurements.push(measurement("F", info, variant, "jobs/s", rates));
    }
  }
  return measurements;
}
