/**
 * Fault: worker processes SIGKILLed at random moments, many rounds, and
 * restarted. Every job ends Success; no completion is recorded twice; only
 * jobs a killed worker held at the moment it died run again.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { PersistentQueue } from "@persistent-queue/core";
import { describe, expect, it } from "vitest";
import { allFinal, dedicatedServer, type ServerKind } from "./harness.js";

const WORKER = fileURLToPath(new URL("./sigkill-worker.mjs", import.meta.url));
const JOBS = 3000;
const ROUNDS = 6;

interface Worker {
  child: ChildProcess;
  id: Promise<string>;
}

describe.each<ServerKind>(["mariadb", "postgres"])(
  "%s workers SIGKILLed at random moments, 6 rounds",
  (kind) => {
    it("loses nothing and re-runs only what the killed workers held", {
      timeout: 240_000,
    }, async () => {
      const env = await dedicatedServer(kind);
      const db = env.open();
      const runs = new Map<number, number>();
      const done = new Map<number, number>();
      const spawnWorker = (): Worker => {
        const child = spawn(process.execPath, [WORKER, kind, env.url], {
          stdio: ["ignore", "pipe", "inherit"],
        });
        let resolveId!: (id: string) => void;
        const id = new Promise<string>((r) => (resolveId = r));
        child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
          for (const line of chunk.split("\n")) {
            const [word, value] = line.split(" ");
            if (word === "worker") resolveId(value!);
            if (word === "run") runs.set(Number(value), (runs.get(Number(value)) ?? 0) + 1);
            if (word === "done") done.set(Number(value), (done.get(Number(value)) ?? 0) + 1);
          }
        });
        return { child, id };
      };
      const workers: Worker[] = [];
      try {
        const producer = new PersistentQueue({ db, serviceName: "producer", jobs: [] });
        await producer.migrate();
        for (let i = 0; i < JOBS; i += 1000) {
          await producer.addMany(
            Array.from({ length: 1000 }, (_, k) => ({ jobType: 1, params: { n: i + k } })),
          );
        }
        for (let w = 0; w < 3; w++) workers.push(spawnWorker());
        let heldAtKills = 0;
        for (let round = 0; round < ROUNDS; round++) {
          await new Promise((r) => setTimeout(r, 400 + Math.random() * 800));
          const victim = workers.splice(Math.floor(Math.random() * workers.length), 1)[0]!;
          const workerId = await victim.id;
          victim.child.kill("SIGKILL");
          await new Promise((r) =>
            victim.child.exitCode !== null || victim.child.signalCode
              ? r(null)
              : victim.child.once("exit", r),
          );
          const [row] = await db.query<{ n: unknown }>(
            kind === "mariadb"
              ? "SELECT COUNT(*) AS n FROM async_job_tab WHERE job_status = 5 AND worker_id = ?"
              : "SELECT COUNT(*) AS n FROM async_job_tab WHERE job_status = 5 AND worker_id = $1",
            [workerId],
          );
          heldAtKills += Number(row?.n);
          workers.push(spawnWorker());
        }
        const t0 = Date.now();
        const success = await allFinal(db, JOBS, 180_000);
        expect(success).toBe(JOBS);
        const doubleDone = [...done].filter(([, n]) => n > 1);
        expect(doubleDone).toEqual([]);
        const rerun = [...runs].filter(([, n]) => n > 1).length;
        expect(rerun).toBeLessThanOrEqual(heldAtKills);
        console.info(
          `[fault sigkill ${kind}] jobs=${JOBS} rounds=${ROUNDS} held-by-killed=${heldAtKills} re-run=${rerun} lost=0 double-completions=0 drained-after-last-kill=${Date.now() - t0}ms`,
        );
      } finally {
        for (const w of workers) w.child.kill("SIGKILL");
        await env.close();
      }
    });
  },
);
