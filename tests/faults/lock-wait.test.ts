/**
 * Fault: another transaction holds a job's row lock past the server's lock
 * wait timeout while the worker writes its completion (MariaDB error 1205,
 * PostgreSQL lock_timeout 55P03). The write is retried, not surfaced as a job
 * failure: the job ends Success.
 */
import { JobStatus, PersistentQueue } from "@persistent-queue/core";
import { describe, expect, it } from "vitest";
import { dedicatedServer, type ServerKind } from "./harness.js";

const SETUP: Record<ServerKind, string> = {
  mariadb: "SET GLOBAL innodb_lock_wait_timeout = 1",
  postgres: "ALTER DATABASE CURRENT_DATABASE_PLACEHOLDER SET lock_timeout = '1s'",
};

describe.each<ServerKind>(["mariadb", "postgres"])("%s lock wait timeout on completion", (kind) => {
  it("retries the completion until the lock is gone; the job succeeds", {
    timeout: 120_000,
  }, async () => {
    const env = await dedicatedServer(kind);
    const admin = env.open();
    try {
      if (kind === "postgres") {
        const [row] = await admin.query<{ d: string }>("SELECT current_database() AS d");
        await admin.exec(SETUP.postgres.replace("CURRENT_DATABASE_PLACEHOLDER", `"${row!.d}"`));
      } else {
        await admin.exec(SETUP.mariadb);
      }
      const db = env.open(); // new pool: new sessions pick up the timeout
      let release!: () => void;
      const handlerGate = new Promise<void>((r) => (release = r));
      const failures: unknown[] = [];
      const queue = new PersistentQueue({
        db,
        serviceName: "lock-wait",
        pollInterval: 50,
        jobs: [{ jobType: 1, leaseTime: "20s", handleJob: async () => handlerGate }],
      });
      const retried: string[] = [];
      queue.on("failed", (e) => void failures.push(e));
      queue.on("error", (e) => void retried.push(e.during));
      await queue.migrate();
      await queue.start();
      const id = await queue.add(1, {});
      while ((await queue.getJob(id))?.status !== JobStatus.Running)
        await new Promise((r) => setTimeout(r, 20));
      // Hold the row lock in a transaction for 2.5 s, longer than the 1 s lock timeout.
      const held = admin.transaction!(async (tx) => {
        await tx.query(
          kind === "mariadb"
            ? "SELECT id FROM async_job_tab WHERE id = ? FOR UPDATE"
            : "SELECT id FROM async_job_tab WHERE id = $1 FOR UPDATE",
          [id],
        );
        release(); // the handler finishes now; its completion waits for the lock
        await new Promise((r) => setTimeout(r, 2500));
      });
      await held;
      for (let i = 0; i < 200 && (await queue.getJob(id))?.status !== JobStatus.Success; i++)
        await new Promise((r) => setTimeout(r, 50));
      expect((await queue.getJob(id))?.status).toBe(JobStatus.Success);
      expect(failures).toEqual([]);
      expect(retried).toContain("complete"); // the lock timeout did strike, and was retried
      console.info(
        `[fault lock-wait ${kind}] completion retried ${retried.length} times, job Success, failures=0`,
      );
      await queue.stop();
    } finally {
      await env.close();
    }
  });
});
