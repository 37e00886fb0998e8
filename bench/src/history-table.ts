/** What the two history probes (history-probe.ts, history-statements.ts) share. */
import { type DB, PersistentQueue } from "@persistent-queue/core";
import { fromMysql2 } from "@persistent-queue/mysql2";
import { createDatabase } from "@persistent-queue/testkit";
import mysql, { type Connection, type RowDataPacket } from "mysql2/promise";

/** The history sizes a probe compares: PQ_PROBE_HISTORY, else 10,000 and 1,000,000 rows. */
export const HISTORY_SIZES = (process.env.PQ_PROBE_HISTORY ?? "10000,1000000")
  .split(",")
  .map(Number);

/** The server's counters (SHOW GLOBAL STATUS) by name. */
export async function globalStatus(admin: Connection): Promise<Record<string, number>> {
  const [rows] = await admin.query<RowDataPacket[]>("SHOW GLOBAL STATUS");
  return Object.fromEntries(rows.map((r) => [String(r.Variable_name), Number(r.Value)]));
}

/**
 * `run` on the MariaDB table the probes drain: a fresh database, migrated, with `history`
 * finished rows of job type 1 (one INSERT … SELECT from MariaDB's SEQUENCE engine), fresh
 * statistics, and `jobs` due jobs added in batches; dropped afterwards.
 */
export async function withHistoryTable<T>(
  serverUrl: string,
  opts: { history: number; jobs: number; connections: number },
  run: (db: DB) => Promise<T>,
): Promise<T> {
  const database = await createDatabase({ kind: "mariadb", url: serverUrl });
  const pool = mysql.createPool({ uri: database.url, connectionLimit: opts.connections });
  const db = fromMysql2(pool);
  try {
    const producer = new PersistentQueue({ db, serviceName: "probe", jobs: [] });
    await producer.migrate();
    await db.exec(
      `INSERT INTO async_job_tab (params, job_type, job_status, start_time, create_time, update_time) SELECT '{}', 1, 1, 0, 1700000000, 1700000000 FROM seq_1_to_${opts.history}`,
    );
    await db.query("ANALYZE TABLE async_job_tab");
    for (let i = 0; i < opts.jobs; i += 1000)
      await producer.addMany(
        Array.from({ length: Math.min(1000, opts.jobs - i) }, (_, k) => ({
          jobType: 1,
          params: { n: i + k },
        })),
      );
    return await run(db);
  } finally {
    await pool.end();
    await database.drop().catch(() => undefined);
  }
}

/** Works the table's `jobs` no-op jobs with the defaults (concurrency 16) until all ran: the ms it took. */
export async function drainJobs(db: DB, jobs: number): Promise<number> {
  let done = 0;
  const queue = new PersistentQueue({
    db,
    serviceName: "probe",
    jobs: [{ jobType: 1, workerPoolCapacity: 16, handleJob: async () => void done++ }],
  });
  const t0 = performance.now();
  await queue.start();
  while (done < jobs) await new Promise((r) => setTimeout(r, 5));
  const ms = performance.now() - t0;
  await queue.stop();
  return ms;
}
