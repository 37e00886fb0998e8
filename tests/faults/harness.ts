/**
 * Shared by the fault tests: a dedicated database server per test (so it can
 * be restarted or have its connections killed without touching other tests),
 * queues on it through the raw adapters, and a ledger of every handler run.
 */
import { type DB, JobStatus, PersistentQueue } from "@persistent-queue/core";
import { fromMysql2 } from "@persistent-queue/mysql2";
import { fromPg } from "@persistent-queue/pg";
import {
  createDatabase,
  type DatabaseServer,
  startMariaDB,
  startPostgres,
} from "@persistent-queue/testkit";
import mysql from "mysql2/promise";
import pg from "pg";

export type ServerKind = "mariadb" | "postgres";

/** What testkit's servers take (listen/trust options for tests with their own network). */
export type ServerOptions = NonNullable<Parameters<typeof startMariaDB>[0]>;

/** A server of its own for one test, a database on it, and a way to open pools. */
export async function dedicatedServer(kind: ServerKind, opts: ServerOptions = {}) {
  const server: DatabaseServer =
    kind === "mariadb" ? await startMariaDB(opts) : await startPostgres(opts);
  const database = await createDatabase({ kind, url: server.url });
  const pools: { end(): Promise<void> }[] = [];
  const open = (): DB => {
    if (kind === "mariadb") {
      const pool = mysql.createPool({ uri: database.url, connectionLimit: 10 });
      pools.push(pool);
      return fromMysql2(pool);
    }
    const pool = new pg.Pool({ connectionString: database.url, max: 10 });
    pools.push(pool);
    return fromPg(pool);
  };
  return {
    server,
    /** The test database's URL, for worker processes. */
    url: database.url,
    open,
    close: async () => {
      for (const p of pools) await p.end().catch(() => undefined);
      await server.stop();
    },
  };
}

/** Counts handler runs and completions per job id. */
export class Ledger {
  readonly runs = new Map<number, number>();
  readonly completions = new Map<number, number>();
  run(id: number): void {
    this.runs.set(id, (this.runs.get(id) ?? 0) + 1);
  }
  completed(id: number): void {
    this.completions.set(id, (this.completions.get(id) ?? 0) + 1);
  }
  /** Jobs whose handler ran more than once. */
  get rerun(): number[] {
    return [...this.runs].filter(([, n]) => n > 1).map(([id]) => id);
  }
  /** Jobs whose Success was recorded more than once (must never happen). */
  get doubleCompleted(): number[] {
    return [...this.completions].filter(([, n]) => n > 1).map(([id]) => id);
  }
}

/** A queue of one no-op-ish job type (sleeps `handlerMs`) feeding `ledger`. */
export function loadQueue(
  db: DB,
  ledger: Ledger,
  name: string,
  handlerMs = 2,
  leaseTime: string | number = "5s",
) {
  const queue = new PersistentQueue({
    db,
    serviceName: name,
    pollInterval: 50,
    jobs: [
      {
        jobType: 1,
        workerPoolCapacity: 8,
        leaseTime,
        handleJob: async (job) => {
          ledger.run(job.id);
          await new Promise((r) => setTimeout(r, handlerMs));
        },
      },
    ],
  });
  queue.on("completed", ({ job }) => ledger.completed(job.id));
  queue.on("error", () => {}); // counted by the test through the log, not thrown
  return queue;
}

/** Waits until all `total` jobs of type 1 are final; returns how many are Success, or throws after `timeoutMs`. */
export async function allFinal(db: DB, total: number, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows = await db
      .query<{ s: unknown; f: unknown }>(
        `SELECT SUM(CASE WHEN job_status = ${JobStatus.Success} THEN 1 ELSE 0 END) AS s,
                SUM(CASE WHEN job_status IN (${JobStatus.Success}, ${JobStatus.Failed}) THEN 1 ELSE 0 END) AS f
         FROM async_job_tab WHERE job_type = 1`,
      )
      .catch(() => []); // the server may be restarting
    const success = Number(rows[0]?.s ?? 0);
    if (Number(rows[0]?.f ?? 0) === total) return success;
    if (Date.now() > deadline)
      throw new Error(
        `only ${Number(rows[0]?.f ?? 0)} of ${total} jobs final after ${timeoutMs} ms`,
      );
    await new Promise((r) => setTimeout(r, 250));
  }
}
