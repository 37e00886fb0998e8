/**
 * The peers' newest majors, which need Node 22 or later (their `engines`):
 * graphile-worker 0.18 and pg-boss 12, installed under npm aliases beside the
 * versions the Node 20 run measures. Listed only when the bench runs on Node 22+.
 */
import type { TargetSpec } from "../servers.js";
import { POLL_MS as GRAPHILE_POLL_MS, Graphile, type GraphileModule } from "./graphile.js";
import type { Handler, Payload, SystemInfo, SystemUnderTest } from "./types.js";
import { installedVersion } from "./version.js";

export const NODE_MAJOR = Number(process.versions.node.split(".")[0]);
const TASK = "bench";
const BOSS_BATCH = 100;

type BossModule = typeof import("pg-boss-12");
type Boss = InstanceType<BossModule["PgBoss"]>;

/** pg-boss 12: per-worker concurrency (localConcurrency), LISTEN/NOTIFY wake-ups, burst fetching. */
class Boss12 implements SystemUnderTest {
  #boss: Boss | undefined;
  constructor(private readonly url: string) {}

  async setup(): Promise<void> {
    const { PgBoss } = (await import("pg-boss-12")) as BossModule;
    this.#boss = new PgBoss({
      connectionString: this.url,
      max: 20,
      schedule: false,
      useListenNotify: true,
    });
    this.#boss.on("error", (e: unknown) => console.error("pg-boss 12:", e));
    await this.#boss.start();
    await this.#boss.createQueue(TASK, { notify: true });
  }

  async enqueue(payload: Payload, delayMs?: number): Promise<void> {
    const opts = delayMs === undefined ? {} : { startAfter: new Date(Date.now() + delayMs) };
    await this.#boss?.send(TASK, payload, opts);
  }

  async enqueueBatch(payloads: readonly Payload[]): Promise<void> {
    await this.#boss?.insert(
      TASK,
      payloads.map((data) => ({ data })),
    );
  }

  async start(concurrency: number, handler: Handler): Promise<void> {
    const boss = this.#boss;
    if (!boss) throw new Error("setup() first");
    await boss.work<Payload>(
      TASK,
      {
        localConcurrency: concurrency,
        batchSize: BOSS_BATCH,
        pollingIntervalSeconds: 0.5,
        burstWhenBatchFull: true,
      },
      async (jobs: { data: Payload }[]) => {
        for (const job of jobs) handler(job.data);
      },
    );
  }

  async teardown(): Promise<void> {
    await this.#boss?.stop({ graceful: true, timeout: 10_000 });
  }
}

const postgresOnly = (spec: TargetSpec, who: string): string => {
  if (spec.kind !== "postgres") throw new Error(`${who} needs PostgreSQL`);
  return spec.url;
};

export const newestPeers: SystemInfo[] =
  NODE_MAJOR >= 22
    ? [
        {
          id: "graphile-worker-0.18",
          label: "graphile-worker 0.18 (tuned)",
          target: "postgres",
          version: installedVersion("graphile-worker-018", "graphile-worker"),
          settings: `as graphile-worker 0.17 above (concurrency = c, maxPoolSize c+1, pollInterval ${GRAPHILE_POLL_MS}ms, useNodeTime false, localQueue { size: 500 }, completeJobBatchDelay 0, failJobBatchDelay 0); Node 22+ only`,
          make: (spec) =>
            new Graphile(
              postgresOnly(spec, "graphile-worker"),
              async () => (await import("graphile-worker-018")) as unknown as GraphileModule,
            ),
        },
        {
          id: "pg-boss-12",
          label: "pg-boss 12",
          target: "postgres",
          version: installedVersion("pg-boss-12", "pg-boss"),
          settings: `one work() with localConcurrency c, batchSize ${BOSS_BATCH}, burstWhenBatchFull, pollingIntervalSeconds 0.5; useListenNotify with a notify queue; pool max 20, schedule off; insert() for batches; Node 22+ only`,
          make: (spec) => new Boss12(postgresOnly(spec, "pg-boss 12")),
        },
      ]
    : [];
