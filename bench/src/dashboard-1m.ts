/**
 * The dashboard's API on a big table (issue 13, item 5): fills a fresh job
 * table on each database with 1,000,000 finished jobs (2% failed, 5 job types,
 * finish times spread over 28 hours, one row per 0.1 s), then times each API
 * request through the Fetch handler (no HTTP), twice, and prints a Markdown
 * table. Servers: PQ_MYSQL_URL / PQ_PG_URL, else throwaway ones from testkit.
 *
 *   npm run build && npm run bench:dashboard -w bench [-- sqlite postgres mariadb]
 *
 * The figures in packages/dashboard/README.md come from this.
 */
import { fromBetterSqlite3 } from "@persistent-queue/better-sqlite3";
import { type DB, PersistentQueue } from "@persistent-queue/core";
import { createDashboard } from "@persistent-queue/dashboard";
import { fromMysql2 } from "@persistent-queue/mysql2";
import { fromPg } from "@persistent-queue/pg";
import {
  createDatabase,
  createSqliteFile,
  mariadbFromEnvOrStart,
  postgresFromEnvOrStart,
} from "@persistent-queue/testkit";
import Database from "better-sqlite3";
import mysql from "mysql2/promise";
import pg from "pg";

const ROWS = 1_000_000;
const COLUMNS =
  "job_type, job_status, params, attempts, start_time, create_time, update_time, run_at";
/** Per database: its clock in unix seconds, and a source of the integers 1..ROWS as `i`. */
const FILL = {
  sqlite: {
    now: "CAST(strftime('%s','now') AS INTEGER)",
    from: `(WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ${ROWS}) SELECT i FROM s) AS s`,
    json: (i: string) => `'{"orderId":' || ${i} || '}'`,
  },
  postgres: {
    now: "floor(extract(epoch from now()))::bigint",
    from: `generate_series(1, ${ROWS}) AS i`,
    json: (i: string) => `'{"orderId":' || ${i} || '}'`,
  },
  mariadb: {
    now: "UNIX_TIMESTAMP()",
    from: `(SELECT seq AS i FROM seq_1_to_${ROWS}) AS s`, // MariaDB's Sequence engine
    json: (i: string) => `CONCAT('{"orderId":', ${i}, '}')`,
  },
} as const;
type Kind = keyof typeof FILL;

const fillSql = (kind: Kind) => {
  const f = FILL[kind];
  const at = `${f.now} - (${ROWS} - i) / 10`;
  return `INSERT INTO async_job_tab (${COLUMNS})
    SELECT 1 + (i % 5), CASE WHEN i % 50 = 0 THEN 2 ELSE 1 END, ${f.json("i")}, 1, 0, ${at}, ${at}, 0 FROM ${f.from}`;
};

const REQUESTS = [
  ["overview (first: finished counts read too)", "overview"],
  ["overview (next polls: backlog counts, counters)", "overview"],
  ["jobs, first page", "jobs"],
  ["jobs?cursor=500000", "jobs?cursor=500000"],
  ["jobs/500000", "jobs/500000"],
  ["jobs?type=3&status=failed", "jobs?type=3&status=failed"],
  ["jobs?status=failed", "jobs?status=failed"],
  ["jobs?search= (one match)", `jobs?search=${encodeURIComponent('"orderId":999999}')}`],
  ["jobs?search= (no match: one page, 100,000 ids)", "jobs?search=no-such-text"],
  ["GET /metrics (finished counts reused)", "/metrics"],
] as const;

async function measure(kind: Kind, db: DB, exec: (sql: string) => Promise<unknown>) {
  await new PersistentQueue({ db, serviceName: "bench", jobs: [] }).migrate();
  const t0 = performance.now();
  await exec(fillSql(kind));
  // The finished-job counters the queue processes would have written for these jobs.
  await exec(`INSERT INTO pq_job_stats (scope, job_type, job_status, minute_start, finished)
    SELECT 'async_job_tab', job_type, job_status, update_time - update_time % 60, COUNT(*)
    FROM async_job_tab GROUP BY job_type, job_status, update_time - update_time % 60`);
  await exec(kind === "mariadb" ? "ANALYZE TABLE async_job_tab" : "ANALYZE async_job_tab");
  console.error(`${kind}: ${ROWS} rows in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const dashboard = createDashboard({ db });
  const times: string[] = [];
  for (const [label, path] of REQUESTS) {
    const runs: number[] = [];
    // The first overview also reads the finished jobs' counts; later ones reuse them (60 s): one run each.
    for (let i = 0; i < (label.startsWith("overview") ? 1 : 2); i++) {
      const t = performance.now();
      const res = await dashboard(
        new Request(path.startsWith("/") ? `http://bench${path}` : `http://bench/api/${path}`),
      );
      await res.text();
      if (res.status !== 200) throw new Error(`${kind} ${path}: HTTP ${res.status}`);
      runs.push(performance.now() - t);
    }
    times.push(`${Math.min(...runs).toFixed(0)} ms`);
    console.error(`${kind}: ${label}: ${runs.map((r) => r.toFixed(0)).join(" / ")} ms`);
  }
  await dashboard.close();
  return times;
}

const RUNNERS: Record<Kind, () => Promise<string[]>> = {
  async sqlite() {
    const file = await createSqliteFile();
    const database = new Database(file.path);
    try {
      return await measure("sqlite", fromBetterSqlite3(database), async (s) => database.exec(s));
    } finally {
      database.close();
      await file.cleanup();
    }
  },
  async postgres() {
    const server = await postgresFromEnvOrStart();
    const created = await createDatabase({ kind: "postgres", url: server.url });
    const pool = new pg.Pool({ connectionString: created.url, max: 4 });
    try {
      return await measure("postgres", fromPg(pool), (s) => pool.query(s));
    } finally {
      await pool.end();
      await created.drop();
      if (server.owned) await server.stop();
    }
  },
  async mariadb() {
    const server = await mariadbFromEnvOrStart();
    const created = await createDatabase({ kind: "mariadb", url: server.url });
    const pool = mysql.createPool({ uri: created.url, connectionLimit: 4 });
    try {
      return await measure("mariadb", fromMysql2(pool), (s) => pool.query(s));
    } finally {
      await pool.end();
      await created.drop();
      if (server.owned) await server.stop();
    }
  },
};

const kinds = (process.argv.slice(2).filter((a) => a in FILL) as Kind[]).concat();
const chosen: Kind[] = kinds.length > 0 ? kinds : ["sqlite", "postgres", "mariadb"];
const columns: string[][] = [];
for (const kind of chosen) columns.push(await RUNNERS[kind]());
console.log(`| request (${ROWS} finished jobs) | ${chosen.join(" | ")} |`);
console.log(`| --- | ${chosen.map(() => "---").join(" | ")} |`);
REQUESTS.forEach(([label], i) => {
  console.log(`| ${label} | ${columns.map((c) => c[i]).join(" | ")} |`);
});
