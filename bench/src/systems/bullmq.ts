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

/** What a BullMQ queue and worker are driven through, on either backend (the same API). */
interface BullQueue {
  add(name: string, data: Payload, opts: { delay?: number }): Promise<unknown>;
  addBulk(jobs: { name: string; data: Payload }[]): Promise<unknown>;
  close(): Promise<void>;
}

/** Enqueue and teardown, the same calls on both backends; setup and start differ. */
abstract class BullSystem implements SystemUnderTest {
  protected queue: BullQueue | undefined;
  protected worker: { close(): Promise<void> } | undefined;

  abstract setup(): Promise<void>;
  abstract start(concurrency: number, handler: Handler): Promise<void>;

  async enqueue(payload: Payload, delayMs?: number): Promise<void> {
    await this.queue?.add(QUEUE, payload, delayMs === undefined ? {} : { delay: delayMs });
  }

  async enqueueBatch(payloads: readonly Payload[]): Promise<void> {
    await this.queue?.addBulk(payloads.map((data) => ({ name: QUEUE, data })));
  }

  async teardown(): Promise<void> {
    await this.worker?.close();
    await this.queue?.close();
  }
}

class Bull extends BullSystem {
  readonly #connection: { host: string; port: number; maxRetriesPerRequest: null };

  constructor(
    url: string,
    private readonly prefix: string,
  ) {
    super();
    const u = new URL(url);
    this.#connection = { host: u.hostname, port: Number(u.port), maxRetriesPerRequest: null };
  }

  async setup(): Promise<void> {
    const queue = new Queue(QUEUE, { connection: this.#connection, prefix: this.prefix });
    this.queue = queue;
    await queue.waitUntilReady();
  }

  async start(concurrency: number, handler: Handler): Promise<void> {
    const worker = new Worker(QUEUE, async (job) => handler(job.data as Payload), {
      connection: this.#connection,
      prefix: this.prefix,
      concurrency,
    });
    this.worker = worker;
    await worker.waitUntilReady();
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
class BullPostgres extends BullSystem {
  constructor(private readonly url: string) {
    super();
  }

  async setup(): Promise<void> {
    const migrate = new pg.Client({ connectionString: this.url });
    await migrate.connect();
    try {
      await runMigrations(migrate);
    } finally {
      await migrate.end();
    }
    const queue: PgQueue = new Queue(
      QUEUE,
      { connection: { connectionString: this.url, max: 8 } },
      createPostgresBackend,
    );
    this.queue = queue;
    await queue.waitUntilReady();
  }

  async start(concurrency: number, handler: Handler): Promise<void> {
    const worker: PgWorker = new Worker(
      QUEUE,
      async (job) => handler(job.data),
      { connection: { connectionString: this.url, max: concurrency + 4 }, concurrency },
      createPostgresBackend,
    );
    this.worker = worker;
    await worker.waitUntilReady();
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
