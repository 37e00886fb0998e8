/**
 * graphile-worker on PostgreSQL, "tuned" as its performance docs
 * (worker.graphile.org/docs/performance) configure it: local queue and
 * batched completions on, a pool one larger than the concurrency.
 */
import * as graphile017 from "graphile-worker";
import type { TargetSpec } from "../servers.js";
import type { Handler, Payload, SystemInfo, SystemUnderTest } from "./types.js";
import { installedVersion } from "./version.js";

const TASK = "bench";
export const POLL_MS = 100;

/** The graphile-worker module driven: 0.17 here, 0.18 (an npm alias, Node 22+) in newest.ts. */
export type GraphileModule = typeof graphile017;

export class Graphile implements SystemUnderTest {
  #mod: GraphileModule | undefined;
  #utils: Awaited<ReturnType<GraphileModule["makeWorkerUtils"]>> | undefined;
  #runner: Awaited<ReturnType<GraphileModule["run"]>> | undefined;
  constructor(
    private readonly url: string,
    private readonly load: () => Promise<GraphileModule> = async () => graphile017,
  ) {}

  async #module(): Promise<GraphileModule> {
    this.#mod ??= await this.load();
    return this.#mod;
  }

  async setup(): Promise<void> {
    const mod = await this.#module();
    const logger = new mod.Logger(() => () => {});
    this.#utils = await mod.makeWorkerUtils({ connectionString: this.url, logger });
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
    const mod = await this.#module();
    this.#runner = await mod.run({
      connectionString: this.url,
      concurrency,
      pollInterval: POLL_MS,
      noHandleSignals: true,
      logger: new mod.Logger(() => () => {}),
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
