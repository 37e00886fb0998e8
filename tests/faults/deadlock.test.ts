/**
 * Fault: a real deadlock between an application transaction and the engine's
 * own batched completion (MariaDB error 1213 ER_LOCK_DEADLOCK, PostgreSQL
 * 40P01 deadlock_detected). The deadlocked write is retried, not surfaced as a
 * job failure: both jobs end Success, each completed once.
 *
 * The cycle: jobs a < b finish in the same turn of the event loop, so the
 * completer writes both with one `UPDATE … WHERE id IN (a, b)`, which reads
 * them in index order. An admin transaction already holds b (SELECT … FOR
 * UPDATE); the engine's UPDATE locks a, then waits for b. The admin then asks
 * for a: each waits for the other.
 *
 * The engine is made the victim on purpose:
 * - MariaDB finds the cycle at once, in the thread that closes it (the
 *   admin's), and rolls back the transaction of least weight (undo records +
 *   locks). The admin first inserts 2000 rows into a scratch table in the same
 *   transaction, so the engine's two-row UPDATE is far lighter.
 * - PostgreSQL looks for a cycle only in a waiter whose `deadlock_timeout`
 *   expired, and that waiter aborts itself. The engine starts waiting first,
 *   with the database's 1 s; the admin's transaction sets 30 s for itself, so
 *   the engine's check runs first and finds the cycle.
 */
import { type DB, JobStatus, PersistentQueue } from "@persistent-queue/core";
import { describe, expect, it } from "vitest";
import { dedicatedServer, Ledger, type ServerKind } from "./harness.js";

/** The deadlock code an error carries (MariaDB errno 1213 / ER_LOCK_DEADLOCK, PostgreSQL 40P01), or undefined. */
function deadlockCode(kind: ServerKind, error: unknown): string | undefined {
  if (error === null || typeof error !== "object") return undefined;
  const { code, errno } = error as { code?: unknown; errno?: unknown };
  if (kind === "mariadb" && (errno === 1213 || code === "ER_LOCK_DEADLOCK"))
    return `${String(errno)} ${String(code)}`;
  if (kind === "postgres" && code === "40P01") return "40P01";
  return undefined;
}

/** Sessions running the engine's batched completion (`SET job_status = …, lease_until = 0, update_time …`) that wait for a row lock. */
const ENGINE_WAITING: Record<ServerKind, string> = {
  mariadb: `SELECT trx_weight AS weight FROM information_schema.INNODB_TRX
    WHERE trx_state = 'LOCK WAIT' AND trx_query LIKE '%lease_until = 0, update_time%'`,
  postgres: `SELECT 0 AS weight FROM pg_stat_activity
    WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%lease_until = 0, update_time%'`,
};

const FOR_UPDATE: Record<ServerKind, string> = {
  mariadb: "SELECT id FROM async_job_tab WHERE id = ? FOR UPDATE",
  postgres: "SELECT id FROM async_job_tab WHERE id = $1 FOR UPDATE",
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` every 10 ms until it returns something, or throws after `ms`. */
async function until<T>(what: string, ms: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(10);
  }
}

describe.each<ServerKind>(["mariadb", "postgres"])("%s deadlock on completion", (kind) => {
  it("retries the deadlocked completion; both jobs succeed, once", {
    timeout: 120_000,
  }, async () => {
    const env = await dedicatedServer(kind);
    const admin = env.open();
    let stopQueue: (() => Promise<void>) | undefined;
    try {
      if (kind === "postgres") {
        const [row] = await admin.query<{ d: string }>("SELECT current_database() AS d");
        await admin.exec(`ALTER DATABASE "${row!.d}" SET deadlock_timeout = '1s'`);
      } else {
        await admin.exec("CREATE TABLE scratch (id INT AUTO_INCREMENT PRIMARY KEY, v INT)");
      }
      const db: DB = env.open(); // a new pool: its sessions pick up the database's settings
      const ledger = new Ledger();
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const queue = new PersistentQueue({
        db,
        serviceName: "deadlock",
        pollInterval: 50,
        jobs: [
          {
            jobType: 1,
            workerPoolCapacity: 4,
            leaseTime: "60s", // no heartbeat or rescue within the test: only completions write
            handleJob: async (job) => {
              ledger.run(job.id);
              await gate;
            },
          },
        ],
      });
      stopQueue = () => queue.stop({ timeoutMs: 1000 });
      const failures: unknown[] = [];
      const lost: unknown[] = [];
      const errors: { during: string; code: string | undefined; message: string }[] = [];
      queue.on("completed", ({ job }) => ledger.completed(job.id));
      queue.on("failed", (e) => void failures.push(e));
      queue.on("lost", (e) => void lost.push(e));
      queue.on("error", (e) => {
        const message = e.error instanceof Error ? e.error.message : String(e.error);
        errors.push({ during: e.during, code: deadlockCode(kind, e.error), message });
      });
      await queue.migrate();

      // 500 finished rows of another type, and fresh statistics. With only a
      // handful of rows MariaDB runs the claim's UPDATE … JOIN as a full scan
      // of the job table, locking every row it reads (Running ones too), so the
      // claim would join the cycle. With them, the claim reads only its index.
      const filler = Array.from(
        { length: 500 },
        () => `('{}', 2, ${JobStatus.Success}, 0, 0, 0, 0)`,
      ).join(", ");
      await admin.exec(
        `INSERT INTO async_job_tab (params, job_type, job_status, start_time, run_at, create_time, update_time) VALUES ${filler}`,
      );
      await admin.query(
        kind === "mariadb" ? "ANALYZE TABLE async_job_tab" : "ANALYZE async_job_tab",
      );
      const [a, b] = (await queue.addMany([
        { jobType: 1, params: { n: "a" } },
        { jobType: 1, params: { n: "b" } },
      ])) as [number, number];
      expect(a).toBeLessThan(b);
      await queue.start();
      await until("both jobs Running", 20_000, async () => {
        const [ja, jb] = [await queue.getJob(a), await queue.getJob(b)];
        return ja?.status === JobStatus.Running && jb?.status === JobStatus.Running
          ? true
          : undefined;
      });

      let adminVictim: string | undefined;
      let engineWeight = Number.NaN;
      let adminWeight = Number.NaN;
      await admin.transaction!(async (tx) => {
        if (kind === "mariadb") {
          // Weight: 2000 undo records, against the engine's few.
          const values = Array.from({ length: 2000 }, (_, i) => `(${i})`).join(",");
          await tx.exec(`INSERT INTO scratch (v) VALUES ${values}`);
        } else {
          // This transaction looks for a cycle only long after the engine does.
          await tx.exec("SET LOCAL deadlock_timeout = '30s'");
        }
        await tx.query(FOR_UPDATE[kind], [b]);
        release(); // both handlers finish now: one UPDATE completes a and b; it locks a, waits for b
        const [waiting] = await until("the engine's completion to wait for b", 20_000, async () => {
          const rows = await admin.query<{ weight: unknown }>(ENGINE_WAITING[kind]);
          return rows.length > 0 ? rows : undefined;
        });
        if (kind === "mariadb") {
          engineWeight = Number(waiting!.weight);
          const [me] = await tx.query<{ w: unknown }>(
            "SELECT trx_weight AS w FROM information_schema.INNODB_TRX WHERE trx_mysql_thread_id = CONNECTION_ID()",
          );
          adminWeight = Number(me?.w);
        }
        try {
          await tx.query(FOR_UPDATE[kind], [a]); // closes the cycle
        } catch (error) {
          adminVictim = deadlockCode(kind, error);
          throw error;
        }
        // The engine's statement was rolled back and a is ours: hold both rows
        // a little longer, so that its retry has to wait too, then commit.
        await sleep(300);
      }).catch((error: unknown) => {
        if (adminVictim === undefined) throw error; // anything but losing the deadlock is a test failure
      });

      await until("both jobs Success", 60_000, async () => {
        const [ja, jb] = [await queue.getJob(a), await queue.getJob(b)];
        return ja?.status === JobStatus.Success && jb?.status === JobStatus.Success
          ? true
          : undefined;
      });
      await queue.stop();

      const hits = errors.filter((e) => e.code !== undefined);
      const victim = adminVictim === undefined ? "engine" : `admin (${adminVictim})`;
      const weights =
        kind === "mariadb" ? `, weight engine ${engineWeight} vs admin ${adminWeight}` : "";
      console.info(
        `[fault deadlock ${kind}] victim=${victim}${weights}; engine errors: ${JSON.stringify(errors)}`,
      );
      expect(adminVictim).toBeUndefined(); // the engine was the victim, by design
      expect(hits.length).toBeGreaterThan(0); // the deadlock really hit the engine…
      expect(errors.every((e) => e.during === "complete")).toBe(true); // …in its completion write
      expect(errors.filter((e) => e.code === undefined)).toEqual([]); // and nothing else went wrong
      expect(failures).toEqual([]);
      expect(lost).toEqual([]);
      expect(ledger.doubleCompleted).toEqual([]);
      expect([...ledger.completions.keys()].sort((x, y) => x - y)).toEqual([a, b]);
      expect(ledger.rerun).toEqual([]);
      console.info(
        `[fault deadlock ${kind}] deadlocks hit the engine ${hits.length} times, retried, jobs Success, failures=${failures.length}`,
      );
    } finally {
      await stopQueue?.().catch(() => undefined);
      await env.close();
    }
  });
});
