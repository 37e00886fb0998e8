/**
 * Load and soak: N jobs (default 1,000,000) through 4 worker processes on
 * MariaDB and on PostgreSQL (throwaway servers on loopback). Reports jobs/s
 * and each worker's RSS over the run; memory must stay flat. Bounded: gives
 * up after PQ_SOAK_MINUTES (default 25) per database.
 *   npm run soak                      (PQ_SOAK_JOBS=200000 for a shorter run)
 *
 * PQ_SOAK_RETENTION="5s": the workers delete succeeded jobs 5 s after they
 * finish (`retention`), and the producer enqueues while they drain, at
 * PQ_SOAK_RATE jobs/s (default 2000): the report adds the table's peak row
 * count, which must stay bounded instead of growing with the jobs run.
 * The report also gives the job table's size on disk (data and indexes) at its
 * peak and when drained, and the bytes per row (docs/scaling.md, "How far one
 * primary goes"). MariaDB's figure is InnoDB's estimate after ANALYZE TABLE.
 *
 * PQ_SOAK_PG_NAPTIME="10s" (PostgreSQL): autovacuum wakes every 10 s (server-wide,
 * default 1 min) and vacuums the job table after 1,000 dead rows, unthrottled: the
 * settings docs/scaling.md suggests for a busy job table, to compare its size with.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { PersistentQueue } from "@persistent-queue/core";
import { fromMysql2 } from "@persistent-queue/mysql2";
import { fromPg } from "@persistent-queue/pg";
import { createDatabase, startMariaDB, startPostgres } from "@persistent-queue/testkit";
import mysql from "mysql2/promise";
import pg from "pg";

const JOBS = Number(process.env.PQ_SOAK_JOBS ?? 1_000_000);
const WORKERS = 4;
const LIMIT_MS = Number(process.env.PQ_SOAK_MINUTES ?? 25) * 60_000;
const WORKER = fileURLToPath(new URL("./worker.mjs", import.meta.url));
const RETENTION = process.env.PQ_SOAK_RETENTION;
const RATE = Number(process.env.PQ_SOAK_RATE ?? 2000);
const PG_NAPTIME = process.env.PQ_SOAK_PG_NAPTIME;
const kinds = (process.env.PQ_SOAK_DATABASES ?? "mariadb,postgres").split(",") as (
  | "mariadb"
  | "postgres"
)[];

for (const kind of kinds) {
  const server = kind === "mariadb" ? await startMariaDB() : await startPostgres();
  const database = await createDatabase({ kind, url: server.url });
  const myPool =
    kind === "mariadb" ? mysql.createPool({ uri: database.url, connectionLimit: 4 }) : undefined;
  const pgPool = myPool ? undefined : new pg.Pool({ connectionString: database.url, max: 4 });
  const db = myPool ? fromMysql2(myPool) : fromPg(pgPool!);
  const pool = myPool ?? pgPool!;
  try {
    const producer = new PersistentQueue({ db, serviceName: "soak-producer", jobs: [] });
    await producer.migrate();
    if (kind === "postgres" && PG_NAPTIME) {
      await db.exec(`ALTER SYSTEM SET autovacuum_naptime = '${PG_NAPTIME}'`);
      await db.query("SELECT pg_reload_conf()");
      await db.exec(
        "ALTER TABLE async_job_tab SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000, autovacuum_vacuum_cost_delay = 0)",
      );
    }
    let enqueued = 0;
    const enqueueAll = async () => {
      const e0 = Date.now();
      for (let i = 0; i < JOBS; i += 1000) {
        await producer.addMany(
          Array.from({ length: Math.min(1000, JOBS - i) }, (_, k) => ({
            jobType: 1,
            params: { n: i + k },
          })),
        );
        enqueued = Math.min(JOBS, i + 1000);
        // With retention, a steady stream while the workers drain: the table's size is then
        // what retention keeps, not the whole run.
        if (RETENTION)
          await new Promise((r) => setTimeout(r, e0 + (enqueued / RATE) * 1000 - Date.now()));
      }
      return (Date.now() - e0) / 1000;
    };
    const enqueueSeconds = RETENTION ? 0 : await enqueueAll();
    const rss: number[][] = Array.from({ length: WORKERS }, () => []);
    const children = Array.from({ length: WORKERS }, (_, w) => {
      const child = spawn(process.execPath, [WORKER, kind, database.url], {
        stdio: ["ignore", "pipe", "inherit"],
      });
      child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
        for (const m of chunk.matchAll(/rss (\d+) done (\d+)/g)) rss[w]!.push(Number(m[1]));
      });
      return child;
    });
    const d0 = Date.now();
    const streaming = RETENTION ? enqueueAll() : undefined;
    let finished = 0;
    let peakRows = 0;
    let peakBytes = 0;
    let samples = 0;
    /** The job table's data and indexes, in bytes. */
    const tableBytes = async (): Promise<number> => {
      if (kind === "postgres") {
        const [r] = await db.query<{ b: unknown }>(
          "SELECT pg_total_relation_size('async_job_tab') AS b",
        );
        return Number(r?.b);
      }
      await db.query("ANALYZE TABLE async_job_tab");
      const [r] = await db.query<{ b: unknown }>(
        "SELECT data_length + index_length AS b FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = 'async_job_tab'",
      );
      return Number(r?.b);
    };
    while (Date.now() - d0 < LIMIT_MS) {
      await new Promise((r) => setTimeout(r, 2000));
      // Finished = enqueued less the unfinished ones: retention deletes succeeded rows.
      const [row] = await db.query<{ total: unknown; unfinished: unknown }>(
        "SELECT COUNT(*) AS total, SUM(CASE WHEN job_status <> 1 THEN 1 ELSE 0 END) AS unfinished FROM async_job_tab WHERE job_type = 1",
      );
      peakRows = Math.max(peakRows, Number(row?.total));
      const bytes = await tableBytes();
      peakBytes = Math.max(peakBytes, bytes);
      // With retention, how the table's rows and size move over the run (every 30 s).
      if (RETENTION && ++samples % 15 === 0)
        console.log(
          `  t=${Math.round((Date.now() - d0) / 1000)}s rows=${Number(row?.total)} size=${(bytes / 2 ** 20).toFixed(0)}MiB`,
        );
      finished = RETENTION
        ? enqueued - Number(row?.unfinished ?? 0)
        : Number(row?.total) - Number(row?.unfinished ?? 0);
      if (finished === JOBS) break;
    }
    const streamSeconds = streaming ? await streaming : 0;
    const [end] = await db.query<{ n: unknown }>("SELECT COUNT(*) AS n FROM async_job_tab");
    const endBytes = await tableBytes();
    const drainSeconds = (Date.now() - d0) / 1000;
    for (const c of children) c.kill("SIGTERM");
    await Promise.all(
      children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once("exit", r)))),
    );
    const mb = (b: number) => (b / 2 ** 20).toFixed(0);
    console.log(
      `[soak ${kind} ${server.version.replace(/\s*\(.*$/, "").split("-")[0]}] jobs=${JOBS} finished=${finished} enqueue=${Math.round(JOBS / (enqueueSeconds || streamSeconds))}/s drain=${Math.round(finished / drainSeconds)}/s (${WORKERS} processes x 16)`,
    );
    if (RETENTION)
      console.log(
        `  retention success=${RETENTION}: table rows peak ${peakRows} (sampled every 2 s), ${Number(end?.n)} when drained, for ${JOBS} jobs at ${RATE}/s`,
      );
    console.log(
      `  table size (data + indexes): peak ${mb(peakBytes)} MiB, when drained ${mb(endBytes)} MiB for ${Number(end?.n)} rows (${Number(end?.n) > 0 ? Math.round(endBytes / Number(end?.n)) : "–"} bytes per row)`,
    );
    rss.forEach((samples, w) => {
      const early = samples[Math.floor(samples.length * 0.1)] ?? 0;
      const peak = Math.max(...samples);
      const last = samples.at(-1) ?? 0;
      console.log(
        `  worker ${w}: RSS at 10% ${mb(early)} MiB, peak ${mb(peak)} MiB, at end ${mb(last)} MiB (${samples.length} samples)`,
      );
    });
    if (finished !== JOBS) process.exitCode = 1;
  } finally {
    await pool.end();
    await database.drop().catch(() => undefined);
    await server.stop();
  }
}
