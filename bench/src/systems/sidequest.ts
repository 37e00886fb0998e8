/**
 * sidequest 1.16 on PostgreSQL and on MariaDB (its MySQL backend). Sidequest needs
 * Node 22.6+ (its `engines`), so these peers are listed only there, and the
 * packages are imported lazily so that loading the registry on Node 20 still works.
 *
 * Sidequest's default execution model, which its docs say to keep
 * (docs.sidequestjs.com/production/execution-modes): Sidequest.start() forks an
 * engine process whose dispatcher polls the database and runs each claimed job in
 * a piscina worker thread, importing the job class by file path. The job's run()
 * therefore never runs in this process: sidequest-job.mjs reports each run's `n`
 * over a loopback TCP connection (one per worker thread) to a server this system
 * opens in start(), which calls the bench's handler once per line.
 *
 * Enqueueing goes through sidequest's JobBuilder (what Sidequest.build() returns)
 * on a backend of this instance's own, not through the process-wide Sidequest
 * singleton: scenario C opens a second instance in this process as the separate
 * producer, and it must neither share nor close the worker instance's engine.
 */
import { createServer, type Server, type Socket } from "node:net";
import type { TargetSpec } from "../servers.js";
import type { Handler, Payload, SystemInfo, SystemUnderTest } from "./types.js";
import { installedVersion } from "./version.js";

type SidequestModule = typeof import("sidequest");
type JobModule = typeof import("./sidequest-job.mjs");
type Backend = InstanceType<SidequestModule["LazyBackend"]>;

const [MAJOR = 0, MINOR = 0] = process.versions.node.split(".").map(Number);
/** Sidequest's `engines`: node >= 22.6.0. */
const SUPPORTED = MAJOR > 22 || (MAJOR === 22 && MINOR >= 6);

const QUEUE = "bench";
/**
 * The dispatcher's poll interval (default 100 ms): its only wake-up (no LISTEN/NOTIFY), and
 * also its wait whenever the queue's concurrency is used up, so at 100 ms a queue of
 * concurrency c runs at most about c jobs per 100 ms. Its docs: lower it for lower latency
 * at the cost of database load (each idle poll is a SELECT DISTINCT queue and a queue lookup).
 */
const POLL_MS = 10;
/** knex pool size of each sidequest backend (knex's default max is 10). */
const POOL_MAX = 20;

/** The drivers as sidequest names them: it imports the package named here in every process. */
const DRIVERS = {
  postgres: "@sidequest/postgres-backend",
  mariadb: "@sidequest/mysql-backend",
} as const;

/**
 * Runs `fn` with the bench's TypeScript loader (tsx) left out of process.execArgv.
 * Sidequest forks its engine with the parent's execArgv, and its worker threads inherit
 * the fork's: with tsx there, the engine and every thread would load the loader and run
 * each import() sidequest makes (a few per job) through its hooks, a cost a deployment
 * running plain JavaScript does not have. The job file is plain JavaScript: no loader needed.
 */
async function withoutTsx<T>(fn: () => Promise<T>): Promise<T> {
  const saved = process.execArgv;
  const kept: string[] = [];
  for (let i = 0; i < saved.length; i++) {
    const arg = saved[i] as string;
    const takesValue = ["--require", "-r", "--import", "--loader", "--experimental-loader"];
    if (takesValue.includes(arg) && saved[i + 1]?.includes("tsx")) i++;
    else if (!(arg.startsWith("--") && arg.includes("=") && arg.includes("tsx"))) kept.push(arg);
  }
  process.execArgv = kept;
  try {
    return await fn();
  } finally {
    process.execArgv = saved;
  }
}

/** Sidequest removes every SIGINT/SIGTERM listener of the process when it stops: keep the bench's. */
function keepSignalListeners(): () => void {
  const signals = ["SIGINT", "SIGTERM"] as const;
  const saved = signals.map((s) => [s, process.rawListeners(s)] as const);
  return () => {
    for (const [signal, listeners] of saved) {
      const now = process.rawListeners(signal);
      for (const l of listeners) if (!now.includes(l)) process.on(signal, l as () => void);
    }
  };
}

class SidequestSut implements SystemUnderTest {
  #mod: SidequestModule | undefined;
  #job: JobModule | undefined;
  #backend: Backend | undefined;
  #server: Server | undefined;
  readonly #sockets = new Set<Socket>();
  #started = false;

  constructor(
    private readonly driver: string,
    private readonly url: string,
  ) {}

  #backendConfig() {
    return { driver: this.driver, config: { connection: this.url, pool: { max: POOL_MAX } } };
  }

  async setup(): Promise<void> {
    this.#mod = await import("sidequest");
    this.#job = await import("./sidequest-job.mjs");
    this.#mod.configureLogger({ level: "warn", json: false });
    this.#backend = new this.#mod.LazyBackend(this.#backendConfig());
    await this.#backend.migrate();
  }

  #builder() {
    if (!this.#mod || !this.#job || !this.#backend) throw new Error("setup() first");
    return new this.#mod.JobBuilder(this.#backend, this.#job.BenchJob).queue(QUEUE);
  }

  async enqueue(payload: Payload, delayMs?: number): Promise<void> {
    const builder = this.#builder();
    if (delayMs !== undefined) builder.availableAt(new Date(Date.now() + delayMs));
    await builder.enqueue(payload.n);
  }

  /** Sidequest has no bulk enqueue: one enqueue() per job, the whole batch in flight on the pool. */
  async enqueueBatch(payloads: readonly Payload[]): Promise<void> {
    await Promise.all(payloads.map((p) => this.#builder().enqueue(p.n)));
  }

  async start(concurrency: number, handler: Handler): Promise<void> {
    const mod = this.#mod;
    const job = this.#job;
    if (!mod || !job) throw new Error("setup() first");
    const server = createServer((socket) => {
      this.#sockets.add(socket);
      socket.setNoDelay(true);
      socket.setEncoding("utf8");
      let buffered = "";
      socket.on("data", (chunk: string) => {
        buffered += chunk;
        for (let end = buffered.indexOf("\n"); end >= 0; end = buffered.indexOf("\n")) {
          handler({ n: Number(buffered.slice(0, end)) });
          buffered = buffered.slice(end + 1);
        }
      });
      socket.on("error", () => undefined); // reset when sidequest ends its worker threads
      socket.on("close", () => this.#sockets.delete(socket));
    });
    this.#server = server;
    const port = await new Promise<number>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve((server.address() as { port: number }).port));
    });
    // Read by the job in sidequest's worker threads: the fork below inherits this environment.
    process.env[job.PORT_ENV] = String(port);
    this.#started = true;
    await withoutTsx(() =>
      mod.Sidequest.start({
        backend: this.#backendConfig(),
        queues: [{ name: QUEUE, concurrency, state: "active" }],
        maxConcurrentJobs: concurrency,
        // minThreads/maxThreads stay at their defaults (CPU count, twice that): c threads drained
        // no faster here (the jobs are no-ops) and took seconds longer to start, each thread
        // importing sidequest before its first job.
        jobPollingInterval: POLL_MS,
        releaseStaleJobsIntervalMin: false,
        cleanupFinishedJobsIntervalMin: false,
        gracefulShutdown: false,
        logger: { level: "warn", json: false },
        dashboard: { enabled: false },
      }),
    );
  }

  async teardown(): Promise<void> {
    if (this.#started && this.#mod && this.#job) {
      this.#started = false;
      delete process.env[this.#job.PORT_ENV];
      const restore = keepSignalListeners();
      try {
        // Waits for the forked engine to finish its running jobs and exit, then closes its backend.
        await this.#mod.Sidequest.stop();
      } finally {
        restore();
      }
    }
    await this.#backend?.close();
    this.#backend = undefined;
    const server = this.#server;
    this.#server = undefined;
    if (server) {
      for (const socket of this.#sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }
}

const names = { postgres: "PostgreSQL", mariadb: "MariaDB" } as const;

export const sidequestPeers: SystemInfo[] = SUPPORTED
  ? (["postgres", "mariadb"] as const).map((target) => ({
      id: `sidequest-${target}`,
      label: `sidequest (${names[target]}, tuned)`,
      target,
      version: installedVersion("sidequest"),
      settings:
        `${DRIVERS[target]}; default execution (forked engine, jobs in worker threads); queue concurrency = c, ` +
        `maxConcurrentJobs = c, worker threads at its defaults (min = CPU count, max = twice that), ` +
        `jobPollingInterval ${POLL_MS}ms (default 100), ` +
        `knex pool max ${POOL_MAX}, stale-job release and finished-job cleanup off, dashboard off; ` +
        `no bulk enqueue: batches are one enqueue() per job, all in flight at once; ` +
        `each run reports to the bench over loopback TCP; Node 22.6+ only`,
      make: (spec: TargetSpec) => {
        if (spec.kind !== target) throw new Error(`sidequest-${target} needs ${names[target]}`);
        return new SidequestSut(DRIVERS[target], spec.url);
      },
    }))
  : [];
