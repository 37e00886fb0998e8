import type { Job } from "./job.js";

/** Typed events of a {@link PersistentQueue}: `queue.on("completed", ({ job }) => …)`. */
export interface QueueEventMap {
  /** A run finished with Success. */
  completed: [event: { job: Job; durationMs: number }];
  /** A run finished with Failed, or used its last retry: final. */
  failed: [event: { job: Job; error: unknown; durationMs: number }];
  /** A run failed and will run again after `delayMs`. */
  retrying: [event: { job: Job; error: unknown; delayMs: number }];
  /** A run returned Continue and will run again after `delayMs`. */
  continued: [event: { job: Job; delayMs: number }];
  /** A result was discarded because this worker no longer held the job's lease. */
  lost: [event: { jobId: number; jobType: number; reason: string }];
  /**
   * Something went wrong outside a handler (a claim, a completion write, a
   * heartbeat); the queue keeps running and retries. Emitted only when
   * someone listens, so an unhandled "error" never crashes the process.
   */
  error: [event: { error: unknown; during: string; jobType?: number }];
}
