/**
 * Why MariaDB's drain slows with history (issue 14, item 2): drains the same
 * 10,000 due no-op jobs (one process, concurrency 16, the defaults) over
 * 10,000 and 1,000,000 finished rows, in three conditions, and prints the
 * server's CPU, the InnoDB counters of each drain and the undo history left
 * for purge at its end:
 *   fresh     the history inserted just before the drain (as scenario E does)
 *   flushed   the same, after InnoDB wrote every dirty page of that insert
 *   pool 1G   the buffer pool grown from testkit's 128 MiB to 1 GiB, flushed
 * Usage: npx tsx bench/src/history-probe.ts   (after `npm run build`); PQ_PROBE_JOBS,
 * PQ_PROBE_HISTORY, PQ_PROBE_REPS, PQ_PROBE_CONDITIONS (e.g. "fresh,flushed") narrow it.
 */
import { startMariaDB } from "@persistent-queue/testkit";
import mysql from "mysql2/promise";
import { cpuMark, cpuPerThousand } from "./cpu.js";
import { drainJobs, globalStatus, HISTORY_SIZES, withHistoryTable } from "./history-table.js";

const JOBS = Number(process.env.PQ_PROBE_JOBS ?? 10_000);
const REPS = Number(process.env.PQ_PROBE_REPS ?? 3);
const CONDITIONS = (process.env.PQ_PROBE_CONDITIONS ?? "fresh,flushed,pool 1G").split(",");
const COUNTERS = [
  "Innodb_buffer_pool_pages_flushed",
  "Innodb_buffer_pool_reads",
  "Innodb_buffer_pool_read_requests",
  "Innodb_pages_written",
  "Innodb_data_fsyncs",
  "Handler_update",
  "Handler_read_rnd_next",
  "Handler_read_next",
  "Handler_read_key",
];

const server = await startMariaDB();
const admin = await mysql.createConnection({ uri: server.url });
const status = () => globalStatus(admin);
const flush = async () => {
  await admin.query("SET GLOBAL innodb_max_dirty_pages_pct = 0");
  for (let i = 0; i < 600; i++) {
    if ((await status()).Innodb_buffer_pool_pages_dirty! < 50) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  await admin.query("SET GLOBAL innodb_max_dirty_pages_pct = 90");
};

try {
  for (const condition of CONDITIONS) {
    if (condition === "pool 1G") {
      await admin.query("SET GLOBAL innodb_buffer_pool_size = 1073741824");
      await new Promise((r) => setTimeout(r, 3000));
    }
    for (const history of Array.from({ length: REPS }, () => HISTORY_SIZES).flat()) {
      await withHistoryTable(server.url, { history, jobs: JOBS, connections: 10 }, async (db) => {
        if (condition !== "fresh") await flush();
        const before = await status();
        const dirty = before.Innodb_buffer_pool_pages_dirty;
        const cpu = cpuMark("mariadb");
        const ms = await drainJobs(db, JOBS);
        const used = cpuPerThousand(cpu, JOBS);
        const after = await status();
        const delta = COUNTERS.map(
          (c) =>
            `${c.replace("Innodb_", "")}=${Math.round((after[c]! - before[c]!) / (JOBS / 1000))}`,
        ).join(" ");
        console.log(
          `${condition.padEnd(8)} history=${String(history).padStart(7)}: ${Math.round((JOBS * 1000) / ms)} jobs/s; dirty pages at start ${dirty}; undo history (purge lag) at end ${after.Innodb_history_list_length}; per 1000 jobs: server CPU ${used.server} ms, worker CPU ${Math.round(used.worker)} ms, ${delta}`,
        );
      });
    }
  }
} finally {
  await admin.end();
  await server.stop();
}
