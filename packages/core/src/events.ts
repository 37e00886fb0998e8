import type { EventEmitter } from "node:events";
import type { AnyJob, Job, JobTypeOf, ParamsOf } from "./job.js";
import type { Logger } from "./logger.js";

/**
 * A job of one of the types among `J`, as events carry it: narrowing on
 * `job.jobType` (or `job.name`) types its params.
 */
export type JobOf<J extends readonly AnyJob[]> = [J[number]] extends [never]
  ? Job
  : { [T in JobTypeOf<J>]: Job<ParamsOf<J, T>, T> }[JobTypeOf<J>];

/** Typed events of a {@link PersistentQueue}: `queue.on("completed", ({ job }) => …)`. */
export interface QueueEventMap<J extends readonly AnyJob[] = readonly AnyJob[]> {
  /** A run finished with Success. */
  completed: [event: { job: JobOf<J>; durationMs: number }];
  /** A run finished with Failed, or used its last retry: final. */
  failed: [event: { job: JobOf<J>; error: unknown; durationMs: number }];
  /** A run failed and will run again after `delayMs`. */
  retrying: [event: { job: JobOf<J>; error: unknown; delayMs: number }];
  /** A run returned Continue and will run again after `delayMs`. */
  continued: [event: { job: JobOf<J>; delayMs: number }];
  /** A result was discarded because this worker no longer held the job's lease. */
  lost: [event: { jobId: number; jobType: number; reason: string }];
  /**
   * Something went wrong outside a handler (a claim, a completion write, a
   * heartbeat); the queue keeps running and retries. Emitted only when
   * someone listens, so an unhandled "error" never crashes the process.
   */
  error: [event: { error: unknown; during: string; jobType?: number }];
  /**
   * At start-up, `count` never-run jobs of `jobType` had been due for longer
   * than its `firstPullDay` window and are left as they are (the seed's rule:
   * a restart does not resurrect a stale backlog).
   */
  skipped: [event: { jobType: number; count: number; firstPullDay: number }];
}

/**
 * Emits `event` to every listener, each in its own try/catch: a listener that
 * throws is logged and changes nothing else — not the job's outcome (already
 * written), not the other listeners, not the other jobs of a batch.
 * (EventEmitter.emit stops at the first throwing listener and throws into the
 * caller.) `once` listeners still fire once: their raw wrappers remove themselves.
 */
export function emitSafely<K extends keyof QueueEventMap>(
  events: EventEmitter<QueueEventMap>,
  logger: Logger,
  event: K,
  ...args: QueueEventMap[K]
): void {
  const listeners = events.rawListeners(event as never) as ((...a: unknown[]) => unknown)[];
  for (const listener of listeners) {
    try {
      listener.apply(events, args);
    } catch (error) {
      logger.error(
        { event, err: error instanceof Error ? `${error.name}: ${error.message}` : String(error) },
        `a "${String(event)}" listener threw; ignored (the job's outcome is already recorded)`,
      );
    }
  }
}
