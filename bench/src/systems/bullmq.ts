/** BullMQ on Redis (Debian's redis-server, AOF fsync everysec), default job options. */
import { Queue, Worker } from "bullmq";
import type { TargetSpec } from "../servers.js";
import type { Handler, Payload, SystemInfo, SystemUnderTest } from "./types.js";
import { installedVersion } from "./version.js";

const QUEUE = "bench";

class Bull implements SystemUnderTest {
  #queue: Queue | undefined;
  #worker: Worker | undefined;
  readonly #connection: { host: string; port: number; maxRetriesPerRequest: null };

  constructor(
    url: string,
    private readonly prefix: string,
  ) {
    const u = new URL(url);
    this.#connection = { host: u.hostname, port: Number(u.port), maxRetriesPerRequest: null };
  }

  async setup(): Promise<void> {
    this.#queue = new Queue(QUEUE, { connection: this.#connection, prefix: this.prefix });
    await this.#queue.waitUntilReady();
  }

  async enqueue(payload: Payload, delayMs?: number): Promise<void> {
    await this.#queue?.add(QUEUE, payload, delayMs === undefined ? {} : { delay: delayMs });
  }

  async enqueueBatch(payloads: readonly Payload[]): Promise<void> {
    await this.#queue?.addBulk(payloads.map((data) => ({ name: QUEUE, data })));
  }

  async start(concurrency: number, handler: Handler): Promise<void> {
    this.#worker = new Worker(QUEUE, async (job) => handler(job.data as Payload), {
      connection: this.#connection,
      prefix: this.prefix,
      concurrency,
    });
    await this.#worker.waitUntilReady();
  }

  async teardown(): Promise<void> {
    await this.#worker?.close();
    await this.#queue?.close();
  }
}

export const bullmq: SystemInfo = {
  id: "bullmq",
  label: "BullMQ (Redis)",
  target: "redis",
  version: `${installedVersion("bullmq")} (ioredis ${installedVersion("ioredis")})`,
  settings:
    "Worker concurrency = c, default job options (completed jobs kept), addBulk for batches; wakes by blocking BZPOPMIN",
  make: (spec: TargetSpec) => {
    if (spec.kind !== "redis") throw new Error("BullMQ needs Redis");
    return new Bull(spec.url, spec.prefix);
  },
};
