/**
 * BullMQ 6 on Redis (Debian's redis-server, AOF fsync everysec) and on its
 * PostgreSQL backend (`createPostgresBackend`, the same Queue/Worker API over
 * SQL functions and LISTEN/NOTIFY), default job options on both.
 */
import {
  createPostgresBackend,
  type JobProgress,
  type PostgresConnectionOptions,
  type PostgresQueueBackend,
  Queue,
  runMigrations,
  Worker,
} from "bullmq";
import pg from "pg";
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

type PgQueue = Queue<
  Payload,
  unknown,
  string,
  unknown,
  unknown,
  string,
  PostgresQueueBackend,
  PostgresConnectionOptions
>;
type PgWorker = Worker<
  Payload,
  unknown,
  string,
  PostgresQueueBackend,
  JobProgress,
  PostgresConnectionOptions
>;

/**
 * BullMQ on PostgreSQL, at the backend guide's tuning: a pool with room for the
 * worker's concurrency (the LISTEN connection is separate), the schema migrated
 * once before the queue opens (connections do not migrate by themselves).
 */
class BullPostgres implements SystemUnderTest {
  #queue: PgQueue | undefined;
  #worker: PgWorker | undefined;

  constructor(private readonly url: string) {}

  async setup(): Promise<void> {
    const migrate = new pg.Client({ connectionString: this.url });
    await migrate.connect();
    try {
      await runMigrations(migrate);
    } finally {
      await migrate.end();
    }
    this.#queue = new Queue(
      QUEUE,
      { connection: { connectionString: this.url, max: 8 } },
      createPostgresBackend,
    );
    await this.#queue.waitUntilReady();
  }

  async enqueue(payload: Payload, delayMs?: number): Promise<void> {
    await this.#queue?.add(QUEUE, payload, delayMs === undefined ? {} : { delay: delayMs });
  }

  async enqueueBatch(payloads: readonly Payload[]): Promise<void> {
    await this.#queue?.addBulk(payloads.map((data) => ({ name: QUEUE, data })));
  }

  async start(concurrency: number, handler: Handler): Promise<void> {
    this.#worker = new Worker(
      QUEUE,
      async (job) => handler(job.data),
      { connection: { connectionString: this.url, max: concurrency + 4 }, concurrency },
      createPostgresBackend,
    );
    await this.#worker.waitUntilReady();
  }

  async teardown(): Promise<void> {
    await this.#worker?.close();
    await this.#queue?.close();
  }
}

export const bullmqPostgres: SystemInfo = {
  id: "bullmq-postgres",
  label: "BullMQ (PostgreSQL)",
  target: "postgres",
  version: `${installedVersion("bullmq")} (pg ${installedVersion("pg")})`,
  settings:
    "createPostgresBackend; Worker concurrency = c with a pool of c + 4 (the backend guide: a pool sized for the concurrency), producer pool 8; schema migrated once with runMigrations; default job options (completed jobs kept), addBulk for batches; wakes by LISTEN/NOTIFY",
  make: (spec: TargetSpec) => {
    if (spec.kind !== "postgres") throw new Error("BullMQ's PostgreSQL backend needs PostgreSQL");
    return new BullPostgres(spec.url);
  },
};

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
