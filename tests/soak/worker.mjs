// One soak worker process: runs no-op jobs of type 1 and reports its RSS and
// completed count every second on stdout. Stops gracefully on SIGTERM.
// Usage: node worker.mjs <mariadb|postgres> <url>
// PQ_SOAK_RETENTION (e.g. "5s"): the queue deletes succeeded jobs that much after they finished.
import { PersistentQueue } from "@persistent-queue/core";
import { fromMysql2 } from "@persistent-queue/mysql2";
import { fromPg } from "@persistent-queue/pg";
import mysql from "mysql2/promise";
import pg from "pg";

const [kind, url] = process.argv.slice(2);
const pool =
  kind === "mariadb"
    ? mysql.createPool({ uri: url, connectionLimit: 8 })
    : new pg.Pool({ connectionString: url, max: 8 });
const db = kind === "mariadb" ? fromMysql2(pool) : fromPg(pool);
let done = 0;
const queue = new PersistentQueue({
  db,
  serviceName: "soak",
  jobs: [{ jobType: 1, workerPoolCapacity: 16, handleJob: async () => void done++ }],
  retention: process.env.PQ_SOAK_RETENTION
    ? { success: process.env.PQ_SOAK_RETENTION, interval: "5s" }
    : undefined,
});
const report = setInterval(
  () => process.stdout.write(`rss ${process.memoryUsage().rss} done ${done}\n`),
  1000,
);
process.once("SIGTERM", async () => {
  clearInterval(report);
  await queue.stop({ timeoutMs: 5000 });
  await pool.end();
  process.exit(0);
});
await queue.start();
