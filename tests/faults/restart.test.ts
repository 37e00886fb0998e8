/**
 * Fault: the database server stops and starts again mid-load. The queues stay
 * up (no unhandled rejection, no exit), reconnect through their pools, and
 * finish every job; no job is lost and none completes twice.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { allFinal, dedicatedServer, Ledger, loadQueue, type ServerKind } from "./harness.js";

const JOBS = 1500;
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => void unhandled.push(reason);
beforeEach(() => void process.on("unhandledRejection", onUnhandled));
afterEach(() => void process.off("unhandledRejection", onUnhandled));

describe.each<ServerKind>(["mariadb", "postgres"])("%s restarted under load", (kind) => {
  it("keeps every job and finishes them all after the server returns", {
    timeout: 180_000,
  }, async () => {
    const env = await dedicatedServer(kind);
    const ledger = new Ledger();
    const queues = [
      loadQueue(env.open(), ledger, "restart-a"),
      loadQueue(env.open(), ledger, "restart-b"),
    ];
    try {
      await queues[0]!.migrate();
      const producer = queues[0]!;
      for (let i = 0; i < JOBS; i += 500) {
        await producer.addMany(
          Array.from({ length: 500 }, (_, k) => ({ jobType: 1, params: { n: i + k } })),
        );
      }
      await Promise.all(queues.map((q) => q.start()));
      while (ledger.completions.size < JOBS / 4) await new Promise((r) => setTimeout(r, 20));
      const t0 = Date.now();
      await env.server.restart();
      const downMs = Date.now() - t0;
      const success = await allFinal(env.open(), JOBS, 120_000);
      const recoveryMs = Date.now() - t0;
      expect(success).toBe(JOBS);
      expect(ledger.doubleCompleted).toEqual([]);
      expect(unhandled).toEqual([]);
      console.info(
        `[fault restart ${kind}] jobs=${JOBS} down=${downMs}ms recovered-in=${recoveryMs}ms lost=0 re-run=${ledger.rerun.length} double-completions=${ledger.doubleCompleted.length}`,
      );
    } finally {
      await Promise.all(queues.map((q) => q.stop({ timeoutMs: 2000 })));
      await env.close();
    }
  });

  it("down for 3 s under load (2,000 jobs, capacity 8, default lease): re-runs no job, all done within 10 s of the server being back", {
    timeout: 180_000,
  }, async () => {
    const env = await dedicatedServer(kind);
    const ledger = new Ledger();
    const total = 2000;
    // The default 30 s lease: a short outage must cost seconds, not a lease.
    const queue = loadQueue(env.open(), ledger, "outage", 2, "30s");
    try {
      await queue.migrate();
      for (let i = 0; i < total; i += 500) {
        await queue.addMany(
          Array.from({ length: 500 }, (_, k) => ({ jobType: 1, params: { n: i + k } })),
        );
      }
      await queue.start();
      while (ledger.completions.size < total / 4) await new Promise((r) => setTimeout(r, 20));
      const t0 = Date.now();
      await env.server.restart({ downMs: 3000 });
      const back = Date.now();
      const success = await allFinal(env.open(), total, 60_000);
      const afterBackMs = Date.now() - back;
      expect(success).toBe(total);
      expect(ledger.rerun).toEqual([]);
      expect(ledger.doubleCompleted).toEqual([]);
      expect(unhandled).toEqual([]);
      expect(afterBackMs).toBeLessThan(10_000);
      console.info(
        `[fault outage ${kind}] jobs=${total} down=${back - t0}ms done-after-back=${afterBackMs}ms re-run=${ledger.rerun.length} double-completions=${ledger.doubleCompleted.length}`,
      );
    } finally {
      await queue.stop({ timeoutMs: 2000 });
      await env.close();
    }
  });
});
