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
import { startMariaDB } from "@persistent-queue/testkit";
import mysql from "mysql2/promise";
import { drainJobs, globalStatus, HISTORY_SIZES, withHistoryTable } from "./history-table.js";

const JOBS = 5000;
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
  const all = await globalStatus(admin);
  return COUNTERS.map((c) => all[c] ?? 0);
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
  for (const history of HISTORY_SIZES) {
    await withHistoryTable(server.url, { history, jobs: JOBS, connections: 1 }, async (db) => {
      const profile = new Map<string, { calls: number; sums: number[] }>();
      await drainJobs(profiled(db, profile), JOBS);
      const per = (n: number) => Math.round((n * 1000) / JOBS);
      console.log(`\n${history.toLocaleString("en")} finished rows, per 1,000 jobs:\n`);
      console.log(`| statement | calls | ${COUNTERS.join(" | ")} |`);
      console.log(`| --- | ---: | ${COUNTERS.map(() => "---:").join(" | ")} |`);
      for (const [key, e] of [...profile].sort((x, y) => (y[1].sums[0] ?? 0) - (x[1].sums[0] ?? 0)))
        console.log(
          `| \`${key}\` | ${per(e.calls)} | ${e.sums.map((s, i) => per(s - (own[i] ?? 0) * e.calls)).join(" | ")} |`,
        );
    });
  }
} finally {
  await admin.end();
  await server.stop();
}
