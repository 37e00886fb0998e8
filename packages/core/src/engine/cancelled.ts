import { PersistentQueueError } from "../errors.js";

/**
 * The reason a handler's `ctx.signal` aborts when `queue.cancel(id)` ended its
 * run — from this process at once, or from any other at the worker's next
 * heartbeat. Whatever the handler returns afterwards changes nothing: the job
 * stays Cancelled.
 */
export class JobCancelledError extends PersistentQueueError {
  /** The cancelled job. */
  readonly jobId: number;

  constructor(jobId: number) {
    super(
      "ERR_PQ_JOB_CANCELLED",
      `job ${jobId} was cancelled by cancel() while it ran; stop its work — whatever the handler returns now is discarded`,
    );
    this.jobId = jobId;
  }
}

/** True when `signal` (a run's {@link RunAbort} or an `AbortSignal`) was aborted because `cancel()` ended the run. */
export function abortedByCancel(signal: {
  readonly aborted: boolean;
  readonly reason: unknown;
}): boolean {
  return signal.aborted && signal.reason instanceof JobCancelledError;
}
