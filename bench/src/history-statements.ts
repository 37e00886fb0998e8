/**
 * Which statements cost more with history (issue 14, item 2), MariaDB: drains
 * 5,000 due no-op jobs (concurrency 16, the defaults) over 10,000 and then
 * 1,000,000 finished rows through a pool of one connection, reads the server's
 * counters before and after every statement (nothing else runs on the server),
 * and prints per statement and per 1,000 jobs: InnoDB buffer-pool page requests
 * and the handler calls. Slower than a real drain (two SHOW STATUS per
 * statement); the counts, not the time, are the point.
 *
 * Usage: npx tsx bench/src/history-statements.ts   (after `npm run build`)
 */
import type { DB, Row, SqlValue } from "@persistent-queue/core";
import { PersistentQueue } from "@persistent-queue/core";
import { fromMysql2 } from "@persistent-queue/mysql2";
import { createDatabase, startMariaDB } from "@persistent-queue/testkit";
import mysql, { type RowDataPacket } from "mysql2/promise";

const JOBS = 5000;
const HISTORY = (process.env.PQ_PROBE_HISTORY ?? "10000,1000000").split(",").map(Number);
const COUNTERS = [
  "Innodb_buffer_pool_read_requests",
  "Handler_read_key",
  "Handler_read_next",
  "Handler_read_rnd_next",
  "Handler_update",
];

const server = await startMariaDB();
const admin = await mysql.createConnection({ uri: server.url });
const counters = async (): Promise<number[]> => {
  const [rows] = await admin.query<RowDataPacket[]>("SHOW GLOBAL STATUS");
  const all = new Map(rows.map((r) => [String(r.Variable_name), Number(r.Value)]));
  return COUNTERS.map((c) => all.get(c) ?? 0);
};

/** `db` with every statement run one at a time, between two readings of the counters. */
function profiled(db: DB, into: Map<string, { calls: number; sums: number[] }>): DB {
  let last: Promise<unknown> = Promise.resolve();
  const measured = <T>(sql: string, run: () => Promise<T>): Promise<T> => {
    const go = async () => {
      const before = await counters();
      const result = await run();
      const after = await counters();
      const key = sql.replace(/\s+/g, " ").slice(0, 70);
      const e = into.get(key) ?? { calls: 0, sums: COUNTERS.map(() => 0) };
      e.calls++;
      after.forEach((v, i) => {
        e.sums[i] = (e.sums[i] ?? 0) + v - (before[i] ?? 0);
      });
      into.set(key, e);
      return result;
    };
    const next = last.then(go, go);
    last = next.catch(() => undefined);
    return next;
  };
  return {
    ...db,
    dialect: db.dialect,
    exec: (sql: string, params?: readonly SqlValue[]) => measured(sql, () => db.exec(sql, params)),
    query: <T extends Row = Row>(sql: string, params?: readonly SqlValue[]) =>
      measured(sql, () => db.query<T>(sql, params)),
  };
}

try {
  // What one SHOW GLOBAL STATUS adds to the counters itself (it reads a temporary table).
  const a = await counters();
  const b = await counters();
  const own = b.map((v, i) => v - (a[i] ?? 0));
  for (const history of HISTORY) {
    const database = await createDatabase({ kind: "mariadb", url: server.url });
    const pool = mysql.createPool({ uri: database.url, connectionLimit: 1 });
    const db = fromMysql2(pool);
    try {
      const producer = new PersistentQueue({ db, serviceName: "probe", jobs: [] });
      await producer.migrate();
      await db.exec(
        `INSERT INTO async_job_tab (params, job_type, job_status, start_time, create_time, update_time) SELECT '{}', 1, 1, 0, 1700000000, 1700000000 FROM seq_1_to_${history}`,
      );
      await db.query("ANALYZE TABLE async_job_tab");
      for (let i = 0; i < JOBS; i += 1000)
        await producer.addMany(
          Array.from({ length: 1000 }, (_, k) => ({ jobType: 1, params: { n: i + k } })),
        );
      const profile = new Map<string, { calls: number; sums: number[] }>();
      let done = 0;
      const queue = new PersistentQueue({
        db: profiled(db, profile),
        serviceName: "probe",
        jobs: [{ jobType: 1, workerPoolCapacity: 16, handleJob: async () => void done++ }],
      });
      await queue.start();
      while (done < JOBS) await new Promise((r) => setTimeout(r, 5));
      await queue.stop();
      const per = (n: number) => Math.round((n * 1000) / JOBS);
      console.log(`\n${history.toLocaleString("en")} finished rows, per 1,000 jobs:\n`);
      console.log(`| statement | calls | ${COUNTERS.join(" | ")} |`);
      console.log(`| --- | ---: | ${COUNTERS.map(() => "---:").join(" | ")} |`);
      for (const [key, e] of [...profile].sort((x, y) => (y[1].sums[0] ?? 0) - (x[1].sums[0] ?? 0)))
        console.log(
          `| \`${key}\` | ${per(e.calls)} | ${e.sums.map((s, i) => per(s - (own[i] ?? 0) * e.calls)).join(" | ")} |`,
        );
    } finally {
      await pool.end();
      await database.drop().catch(() => undefined);
    }
  }
} finally {
  await admin.end();
  await server.stop();
}
