/**
 * Fault: the server kills the queues' connections (KILL on MariaDB,
 * pg_terminate_backend on PostgreSQL) five times under load. Every job is
 * still finished, none twice.
 */
import { describe, expect, it } from "vitest";
import { allFinal, dedicatedServer, Ledger, loadQueue, type ServerKind } from "./harness.js";

const JOBS = 1500;

const KILL_OTHERS: Record<ServerKind, string> = {
  mariadb:
    "SELECT CONCAT('KILL ', id) AS stmt FROM information_schema.PROCESSLIST WHERE db = DATABASE() AND id <> CONNECTION_ID()",
  postgres:
    "SELECT pg_terminate_backend(pid) AS stmt FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
};

describe.each<ServerKind>(["mariadb", "postgres"])("%s connections killed under load", (kind) => {
  it("finishes every job once", { timeout: 180_000 }, async () => {
    const env = await dedicatedServer(kind);
    const ledger = new Ledger();
    const errors: string[] = [];
    const queues = [
      loadQueue(env.open(), ledger, "kill-a"),
      loadQueue(env.open(), ledger, "kill-b"),
    ];
    for (const q of queues) q.on("error", ({ during }) => void errors.push(during));
    const admin = env.open();
    try {
      await queues[0]!.migrate();
      for (let i = 0; i < JOBS; i += 500) {
        await queues[0]!.addMany(
          Array.from({ length: 500 }, (_, k) => ({ jobType: 1, params: { n: i + k } })),
        );
      }
      await Promise.all(queues.map((q) => q.start()));
      let killed = 0;
      for (let round = 0; round < 5; round++) {
        while (ledger.completions.size < (JOBS * (round + 1)) / 7)
          await new Promise((r) => setTimeout(r, 10));
        const rows = await admin.query<{ stmt: unknown }>(KILL_OTHERS[kind]);
        if (kind === "mariadb") {
          for (const r of rows) await admin.exec(String(r.stmt)).catch(() => undefined); // it may be gone already
        }
        killed += rows.length;
      }
      const success = await allFinal(admin, JOBS, 120_000);
      expect(success).toBe(JOBS);
      expect(killed).toBeGreaterThan(0);
      expect(ledger.doubleCompleted).toEqual([]);
      console.info(
        `[fault kill ${kind}] jobs=${JOBS} connections-killed=${killed} lost=0 re-run=${ledger.rerun.length} double-completions=0 errors-retried=${errors.length}`,
      );
    } finally {
      await Promise.all(queues.map((q) => q.stop({ timeoutMs: 2000 })));
      await env.close();
    }
  });
});
