/** persistent-queue on SQLite, MariaDB and PostgreSQL, through the published adapters, with default settings. */
import { fromBetterSqlite3 } from "@persistent-queue/better-sqlite3";
import { type DB, PersistentQueue } from "@persistent-queue/core";
import { fromMysql2 } from "@persistent-queue/mysql2";
import { fromPg } from "@persistent-queue/pg";
import Database from "better-sqlite3";
import mysql from "mysql2/promise";
import pg from "pg";
import type { TargetKind, TargetSpec } from "../servers.js";
import { capturing, StatementLog } from "./capture.js";
import type { Handler, Payload, SystemInfo, SystemUnderTest } from "./types.js";
import { installedVersion } from "./version.js";

const JOB_TYPE = 1;
const version = installedVersion("@persistent-queue/core");

/** A raw connection plus our DB adapter on it; scenario E also uses the raw side for bulk history. */
export async function openDb(spec: TargetSpec): Promise<{ db: DB; close(): Promise<void> }> {
  if (spec.kind === "sqlite") {
    const s = new Database(spec.file);
    return { db: fromBetterSqlite3(s), close: async () => void s.close() };
  }
  if (spec.kind === "mariadb") {
    const pool = mysql.createPool({ uri: spec.url, connectionLimit: 10 });
    return { db: fromMysql2(pool), close: () => pool.end() };
  }
  if (spec.kind === "postgres") {
    const pool = new pg.Pool({ connectionString: spec.url, max: 10 });
    // The cast: @types/pg 8.23's PoolClient.removeListener is generic and does not
    // match the adapter's structural PgClient type (reported; an adapter typing bug).
    return { db: fromPg(pool as unknown as Parameters<typeof fromPg>[0]), close: () => pool.end() };
  }
  throw new Error(`persistent-queue does not run on ${spec.kind}`);
}

export class OurQueue implements SystemUnderTest {
  /** Every statement the queue sends through this instance's DB. */
  readonly log = new StatementLog();
  #conn: { db: DB; close(): Promise<void> } | undefined;
  #db: DB | undefined;
  #producer: PersistentQueue<[]> | undefined;
  // The worker queue's job-list type is irrelevant here: the bench only calls add/addMany/stop on it.
  #worker: PersistentQueue<[]> | undefined;

  constructor(
    private readonly spec: TargetSpec,
    /** Jobs claimed ahead of free slots (the queue's `prefetch`); undefined = its default. */
    private readonly prefetch?: number,
    /** More of the job type's config (flow-control limits, scenario G). */
    private readonly jobOptions: Record<string, unknown> = {},
  ) {}

  async setup(): Promise<void> {
    this.#conn = await openDb(this.spec);
    this.#db = capturing(this.#conn.db, this.log);
    // A queue with no job types only enqueues: the "producer in another process" of scenario C.
    this.#producer = new PersistentQueue({ db: this.#db, serviceName: "bench-producer", jobs: [] });
    await this.#producer.migrate();
  }

  // Once workers run, enqueue through their queue: add() wakes its own claimer in-process.
  enqueue(payload: Payload, delayMs?: number): Promise<void> {
    const q = this.#worker ?? this.#producer;
    if (!q) throw new Error("setup() first");
    const opts = delayMs === undefined ? {} : { delay: delayMs };
    return q.add(JOB_TYPE as never, payload as never, opts).then(() => undefined);
  }

  async enqueueBatch(payloads: readonly Payload[]): Promise<void> {
    const q = this.#worker ?? this.#producer;
    if (!q) throw new Error("setup() first");
    await q.addMany(payloads.map((params) => ({ jobType: JOB_TYPE, params }) as never));
  }

  /** Enqueues jobs with a group each, in one addMany (scenario G). */
  async enqueueGrouped(jobs: readonly { params: Payload; group: string }[]): Promise<void> {
    const q = this.#worker ?? this.#producer;
    if (!q) throw new Error("setup() first");
    await q.addMany(
      jobs.map(({ params, group }) => ({ jobType: JOB_TYPE, params, group }) as never),
    );
  }

  async start(concurrency: number, handler: Handler): Promise<void> {
    if (!this.#db) throw new Error("setup() first");
    this.#worker = new PersistentQueue({
      db: this.#db,
      serviceName: "bench",
      jobs: [
        {
          jobType: JOB_TYPE,
          workerPoolCapacity: concurrency,
          ...(this.prefetch === undefined ? {} : { prefetch: this.prefetch }),
          ...this.jobOptions,
          handleJob: (job: { params: unknown }) => handler(job.params as Payload),
        },
      ],
    }) as unknown as PersistentQueue<[]>;
    await this.#worker.start();
  }

  /** The adapter without the statement counter, for the bench's own SQL (history rows, EXPLAIN). */
  rawDb(): DB {
    if (!this.#conn) throw new Error("setup() first");
    return this.#conn.db;
  }

  /** Idempotent: scenario B tears down early to count the statements stop() flushes. */
  async teardown(): Promise<void> {
    const worker = this.#worker;
    const conn = this.#conn;
    this.#worker = undefined;
    this.#conn = undefined;
    await worker?.stop();
    await conn?.close();
  }
}

const names: Record<string, string> = {
  sqlite: "SQLite",
  mariadb: "MariaDB",
  postgres: "PostgreSQL",
};

/** The tuned variant's prefetch: the size of graphile-worker's tuned local queue, for a like-for-like drain. */
const TUNED_PREFETCH = 500;

const defaults: SystemInfo[] = (["sqlite", "mariadb", "postgres"] as TargetKind[]).map(
  (target) => ({
    id: `pq-${target}`,
    label: `persistent-queue (${names[target]})`,
    target,
    version,
    settings:
      "defaults: workerPoolCapacity = concurrency, prefetch = workerPoolCapacity (claims run at most one capacity ahead of the handlers), loadLimit 10000, pollInterval 500ms, notify on (PostgreSQL); pool of 10 connections" +
      (target === "sqlite"
        ? "; better-sqlite3 via fromBetterSqlite3 (WAL, busy_timeout 5000)"
        : ""),
    make: (spec: TargetSpec) => new OurQueue(spec),
  }),
);

/** The same with `prefetch: 500`, in the drain scenario only: what a user with many short jobs would set. */
const tuned: SystemInfo[] = defaults.map((d) => ({
  ...d,
  id: `${d.id}-tuned`,
  label: `${d.label.replace("persistent-queue", "persistent-queue tuned")}`,
  settings: `as the defaults, with prefetch ${TUNED_PREFETCH} (graphile-worker's tuned localQueue size); scenario B only`,
  make: (spec: TargetSpec) => new OurQueue(spec, TUNED_PREFETCH),
  scenarios: ["B"],
}));

export const ours: SystemInfo[] = [...defaults, ...tuned];
