/**
 * graphile-worker on PostgreSQL, "tuned" as its performance docs
 * (worker.graphile.org/docs/performance) configure it: local queue and
 * batched completions on, a pool one larger than the concurrency.
 */
import { Logger, makeWorkerUtils, type Runner, run, type WorkerUtils } from "graphile-worker";
import type { TargetSpec } from "../servers.js";
import type { Handler, Payload, SystemInfo, SystemUnderTest } from "./types.js";
import { installedVersion } from "./version.js";

const TASK = "bench";
const POLL_MS = 100;
const silent = new Logger(() => () => {});

class Graphile implements SystemUnderTest {
  #utils: WorkerUtils | undefined;
  #runner: Runner | undefined;
  constructor(private readonly url: string) {}

  async setup(): Promise<void> {
    this.#utils = await makeWorkerUtils({ connectionString: this.url, logger: silent });
    await this.#utils.migrate();
  }

  async enqueue(payload: Payload, delayMs?: number): Promise<void> {
    const runAt = delayMs === undefined ? undefined : new Date(Date.now() + delayMs);
    await this.#utils?.addJob(TASK, payload, runAt ? { runAt } : {});
  }

  async enqueueBatch(payloads: readonly Payload[]): Promise<void> {
    await this.#utils?.addJobs(payloads.map((payload) => ({ identifier: TASK, payload })));
  }

  async start(concurrency: number, handler: Handler): Promise<void> {
    this.#runner = await run({
      connectionString: this.url,
      concurrency,
      pollInterval: POLL_MS,
      noHandleSignals: true,
      logger: silent,
      taskList: { [TASK]: async (payload) => handler(payload as Payload) },
      preset: {
        worker: {
          maxPoolSize: concurrency + 1,
          useNodeTime: false,
          localQueue: { size: 500 },
          completeJobBatchDelay: 0,
          failJobBatchDelay: 0,
        },
      },
    });
  }

  async teardown(): Promise<void> {
    await this.#runner?.stop();
    await this.#utils?.release();
  }
}

export const graphile: SystemInfo = {
  id: "graphile-worker",
  label: "graphile-worker (tuned)",
  target: "postgres",
  version: installedVersion("graphile-worker"),
  settings: `concurrency = c, maxPoolSize c+1, pollInterval ${POLL_MS}ms, useNodeTime false, localQueue { size: 500 }, completeJobBatchDelay 0, failJobBatchDelay 0 (the preset of its performance docs); addJobs for batches; LISTEN/NOTIFY wake-ups`,
  make: (spec: TargetSpec) => {
    if (spec.kind !== "postgres") throw new Error("graphile-worker needs PostgreSQL");
    return new Graphile(spec.url);
  },
};
