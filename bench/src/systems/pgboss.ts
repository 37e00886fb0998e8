/**
 * pg-boss 10 on PostgreSQL. v10 has no per-worker concurrency option: each
 * work() call is one polling loop that fetches up to batchSize jobs and then
 * waits out the polling interval (minimum 0.5 s). So c loops, each fetching
 * a batch of BATCH and running it one job at a time: at most c handlers at
 * once, and a ceiling of c * BATCH / 0.5 s jobs/s.
 */
import PgBoss from "pg-boss";
import type { TargetSpec } from "../servers.js";
import type { Handler, Payload, SystemInfo, SystemUnderTest } from "./types.js";
import { installedVersion } from "./version.js";

const QUEUE = "bench";
const BATCH = 100;

class Boss implements SystemUnderTest {
  #boss: PgBoss | undefined;
  constructor(private readonly url: string) {}

  async setup(): Promise<void> {
    this.#boss = new PgBoss({ connectionString: this.url, max: 20, schedule: false });
    this.#boss.on("error", (e) => console.error("pg-boss:", e));
    await this.#boss.start();
    await this.#boss.createQueue(QUEUE);
  }

  async enqueue(payload: Payload, delayMs?: number): Promise<void> {
    const opts = delayMs === undefined ? {} : { startAfter: new Date(Date.now() + delayMs) };
    await this.#boss?.send(QUEUE, payload, opts);
  }

  async enqueueBatch(payloads: readonly Payload[]): Promise<void> {
    await this.#boss?.insert(payloads.map((data) => ({ name: QUEUE, data })));
  }

  async start(concurrency: number, handler: Handler): Promise<void> {
    const boss = this.#boss;
    if (!boss) throw new Error("setup() first");
    for (let i = 0; i < concurrency; i++) {
      await boss.work<Payload>(
        QUEUE,
        { batchSize: BATCH, pollingIntervalSeconds: 0.5 },
        async (jobs) => {
          for (const job of jobs) handler(job.data);
        },
      );
    }
  }

  async teardown(): Promise<void> {
    await this.#boss?.stop({ graceful: true, wait: true, timeout: 10_000 });
  }
}

export const pgboss: SystemInfo = {
  id: "pg-boss",
  label: "pg-boss",
  target: "postgres",
  version: installedVersion("pg-boss"),
  settings: `c work() loops, batchSize ${BATCH} each, pollingIntervalSeconds 0.5 (its minimum), pool max 20, schedule off; insert() for batches; wakes by polling only`,
  make: (spec: TargetSpec) => {
    if (spec.kind !== "postgres") throw new Error("pg-boss needs PostgreSQL");
    return new Boss(spec.url);
  },
};
