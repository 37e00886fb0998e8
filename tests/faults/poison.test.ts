/**
 * Fault: a job that crashes its worker process every time it runs. Workers
 * are restarted (as a supervisor would); the job must end Failed after a
 * bounded number of crashes instead of looping forever.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { JobStatus, PersistentQueue } from "@persistent-queue/core";
import { describe, expect, it } from "vitest";
import { dedicatedServer, type ServerKind } from "./harness.js";

const WORKER = fileURLToPath(new URL("./poison-worker.mjs", import.meta.url));

describe.each<ServerKind>(["mariadb", "postgres"])("%s poison job", (kind) => {
  it("ends Failed after a bounded number of worker crashes", { timeout: 120_000 }, async () => {
    const env = await dedicatedServer(kind);
    try {
      const db = env.open();
      const producer = new PersistentQueue({ db, serviceName: "producer", jobs: [] });
      await producer.migrate();
      const id = await producer.add(66, { poison: true });
      let crashes = 0;
      const t0 = Date.now();
      for (let restart = 0; restart < 10; restart++) {
        const record = await producer.getJob(id);
        if (record?.status === JobStatus.Failed) break;
        const child = spawn(process.execPath, [WORKER, kind, env.url], {
          stdio: ["ignore", "pipe", "inherit"],
        });
        const code = await new Promise<number | null>((resolve) => {
          const timer = setTimeout(() => child.kill("SIGKILL"), 8000); // a worker that claims nothing is stopped
          child.once("exit", (c) => {
            clearTimeout(timer);
            resolve(c);
          });
        });
        if (code === 1) crashes++;
      }
      const final = await producer.getJob(id);
      expect(final?.status).toBe(JobStatus.Failed);
      expect(final?.lastError).toMatch(/lease expired too many times/);
      expect(crashes).toBeGreaterThanOrEqual(3);
      expect(crashes).toBeLessThanOrEqual(4);
      console.info(
        `[fault poison ${kind}] crashes=${crashes} final=Failed after ${Date.now() - t0}ms attempts=${final?.attempts}`,
      );
    } finally {
      await env.close();
    }
  });
});
