/**
 * The optimistic claim (claimLocking "optimistic", docs/scaling.md "Distributed SQL:
 * claiming without SKIP LOCKED") on the run's MariaDB and PostgreSQL servers, with
 * SKIP LOCKED switched off: no TiDB, CockroachDB or YugabyteDB server can be installed
 * here (none is a Debian package).
 *
 * - Two claims racing for one row: the first takes it inside an open transaction, the
 *   second reads it as still claimable and its UPDATE waits for the first's row lock;
 *   after the first commits, the second's compare-and-set finds the row running and
 *   takes nothing. Without the re-check it would take the row a second time (its token
 *   over the first's, attempts 2).
 * - Several queues on their own pools draining one table, in both modes: every job runs
 *   exactly once, never two runs of one job at once. The drain times are logged (the
 *   ratios in docs/scaling.md come from these lines); nothing is asserted on them.
 *   `PQ_CLAIM_BENCH_JOBS` sets the number of jobs (default 600).
 */
import {
  type DB,
  JobStatus,
  PersistentQueue,
  type Row,
  withClaimLocking,
} from "@persistent-queue/core";
import { type ClaimParams, resolveDialect } from "@persistent-queue/core/adapter";
import { fromMysql2 } from "@persistent-queue/mysql2";
import { fromPg } from "@persistent-queue/pg";
import { createDatabase } from "@persistent-queue/testkit";
import mysql from "mysql2/promise";
import pg from "pg";
import { describe, expect, inject, it } from "vitest";

type Kind = "mariadb" | "postgres";
type Mode = "skip-locked" | "optimistic";

const JOBS = Number(process.env.PQ_CLAIM_BENCH_JOBS ?? 600);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A fresh database on the run's server; `pool()` opens a DB on it in `mode`; `close()` ends pools and drops it. */
async function freshDatabase(kind: Kind) {
  const database = await createDatabase({
    kind,
    url: kind === "mariadb" ? inject("pqMysqlUrl") : inject("pqPgUrl"),
  });
  const ends: (() => Promise<unknown>)[] = [];
  const pool = (mode: Mode): DB => {
    let db: DB;
    if (kind === "mariadb") {
      const p = mysql.createPool({ uri: database.url, connectionLimit: 6 });
      ends.push(() => p.end());
      db = fromMysql2(p);
    } else {
      const p = new pg.Pool({ connectionString: database.url, max: 6 });
      ends.push(() => p.end());
      db = fromPg(p);
    }
    return mode === "optimistic" ? withClaimLocking(db, "optimistic") : db;
  };
  return {
    pool,
    close: async () => {
      for (const end of ends) await end().catch(() => undefined);
      await database.drop();
    },
  };
}

/** Sessions waiting for a row lock in the test's database. */
const LOCK_WAITS: Record<Kind, string> = {
  // The second claim's UPDATE is running while the first claim's transaction is open: its
  // pick found the row, and it must wait for the row's lock. INNODB_TRX alone missed the wait
  // in most runs on MariaDB 10.11 (the UPDATE showed in the process list as "Searching rows for
  // update" for seconds, with no LOCK WAIT row), so the process list counts too.
  mariadb: `SELECT (SELECT COUNT(*) FROM information_schema.INNODB_TRX WHERE trx_state = 'LOCK WAIT')
    + (SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE COMMAND = 'Query' AND INFO LIKE 'UPDATE%tokB%') AS n`,
  postgres:
    "SELECT COUNT(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
};

describe.each<Kind>(["mariadb", "postgres"])("optimistic claims on %s", (kind) => {
  it("two claims racing for one row: the second's compare-and-set skips it", {
    timeout: 60_000,
  }, async () => {
    const env = await freshDatabase(kind);
    try {
      const db = env.pool("optimistic");
      const producer = new PersistentQueue({ db, serviceName: "race", jobs: [] });
      await producer.migrate();
      const id = await producer.add(7, { n: 1 });
      const dialect = await resolveDialect(db);
      expect(dialect.capabilities.claimLocking).toBe("optimistic");
      const params = (token: string): ClaimParams => ({
        table: "async_job_tab",
        jobType: 7,
        status: JobStatus.Init,
        stale: undefined,
        limit: 10,
        token,
        leaseMs: 60_000,
        workerId: `worker-${token}`,
        flow: {
          scope: "async_job_tab",
          types: "pq_job_types",
          groups: "pq_job_groups",
          starts: "pq_job_starts",
        },
      });
      let second: Promise<Row[]> | undefined;
      let waited = false;
      const tx = db.transaction;
      if (!tx) throw new Error("the adapter offers no transaction");
      await tx(async (conn) => {
        const first = await dialect.statements.claim(conn, params("tokA"));
        expect(first.map((r) => Number(r.id))).toEqual([id]);
        // Another connection: reads the row as Init (the first claim has not committed),
        // then its UPDATE waits for the row lock the first claim holds.
        second = dialect.statements.claim(db, params("tokB"));
        const deadline = Date.now() + 30_000;
        while (!waited) {
          const [row] = await db.query<{ n: unknown }>(LOCK_WAITS[kind]);
          waited = Number(row?.n ?? 0) > 0;
          if (!waited && Date.now() > deadline)
            throw new Error("the second claim never waited for the first's row lock");
          if (!waited) await sleep(20);
        }
      });
      expect(waited).toBe(true);
      expect(await second).toEqual([]);
      const [row] = await db.query<{ t: unknown; a: unknown; s: unknown }>(
        `SELECT lease_token AS t, attempts AS a, job_status AS s FROM async_job_tab WHERE id = ${id}`,
      );
      expect({ token: row?.t, attempts: Number(row?.a), status: Number(row?.s) }).toEqual({
        token: "tokA",
        attempts: 1,
        status: JobStatus.Running,
      });
    } finally {
      await env.close();
    }
  });

  it.each<[Mode, number]>([
    ["skip-locked", 1],
    ["optimistic", 1],
    ["skip-locked", 4],
    ["optimistic", 4],
  ])(
    "%s, %i queue(s) drain the table: every job runs once, never twice at once",
    {
      timeout: 180_000,
    },
    async (mode, queues) => {
      const env = await freshDatabase(kind);
      const running = new Set<number>();
      const runs = new Map<number, number>();
      let overlaps = 0;
      let errors = 0;
      const workers: { start(): Promise<void>; stop(o: { timeoutMs?: number }): Promise<void> }[] =
        [];
      try {
        const pdb = env.pool(mode);
        const producer = new PersistentQueue({ db: pdb, serviceName: "p", jobs: [] });
        await producer.migrate();
        for (let i = 0; i < JOBS; i += 500)
          await producer.addMany(
            Array.from({ length: Math.min(500, JOBS - i) }, (_, k) => ({
              jobType: 1,
              params: { n: i + k },
            })),
          );
        for (let q = 0; q < queues; q++) {
          const queue = new PersistentQueue({
            db: env.pool(mode),
            serviceName: `w${q}`,
            pollInterval: 50,
            jobs: [
              {
                jobType: 1,
                workerPoolCapacity: 8,
                leaseTime: "60s",
                handleJob: async (job) => {
                  if (running.has(job.id)) overlaps++;
                  running.add(job.id);
                  runs.set(job.id, (runs.get(job.id) ?? 0) + 1);
                  await new Promise((r) => setImmediate(r));
                  running.delete(job.id);
                },
              },
            ],
          });
          queue.on("error", () => {
            errors++;
          }); // a failed claim is retried; the counts below decide
          workers.push(queue);
        }
        const started = performance.now();
        await Promise.all(workers.map((w) => w.start()));
        const deadline = Date.now() + 150_000;
        for (;;) {
          const [row] = await pdb.query<{ n: unknown }>(
            `SELECT COUNT(*) AS n FROM async_job_tab WHERE job_type = 1 AND job_status = ${JobStatus.Success}`,
          );
          if (Number(row?.n) === JOBS) break;
          if (Date.now() > deadline) throw new Error(`only ${Number(row?.n)} of ${JOBS} done`);
          await sleep(25);
        }
        const ms = performance.now() - started;
        console.log(
          `[claim-mode] ${kind} ${mode} queues=${queues} jobs=${JOBS}: ${Math.round(ms)} ms, ${Math.round((JOBS * 1000) / ms)} jobs/s, ${errors} errors (failed claims, retried)`,
        );
        expect(overlaps).toBe(0);
        expect(runs.size).toBe(JOBS);
        expect([...runs.values()].filter((n) => n !== 1)).toEqual([]);
      } finally {
        for (const w of workers) await w.stop({ timeoutMs: 5000 }).catch(() => undefined);
        await env.close();
      }
    },
  );
});
