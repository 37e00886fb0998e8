/**
 * The seed's status codes (`async_job_tab.job_status`), plus Running, a state
 * the seed kept only in memory.
 */
export enum JobStatus {
  /** Waiting to run (the seed's 0). */
  Init = 0,
  /** Finished well (final). */
  Success = 1,
  /** Finished badly (final). */
  Failed = 2,
  /** Run again after `waitTime`, without counting an attempt: a polling job ("check until the payment settles"). */
  Continue = 3,
  /** Run again after the backoff; counts an attempt and fails beyond `maxRetries`. */
  Retry = 4,
  /** Claimed by a worker whose lease has not expired. Never returned by a handler. */
  Running = 5,
  /**
   * Cancelled by `cancel(id)` before it finished (final). Not a seed code: a Go
   * service reading the table sees a status that is not 0 (init), so it neither runs
   * nor re-runs the job.
   */
  Cancelled = 6,
}

/** Statuses a job ends in: it never runs again unless `retry(id)` says so. */
export const FINAL_STATUSES: readonly JobStatus[] = [
  JobStatus.Success,
  JobStatus.Failed,
  JobStatus.Cancelled,
];

/** Statuses a worker may claim when due. */
export const CLAIMABLE_STATUSES: readonly JobStatus[] = [
  JobStatus.Init,
  JobStatus.Continue,
  JobStatus.Retry,
];

/**
 * Each status's name in lower case (`init`, `success`, …), as the CLI, the
 * dashboard's API and the metrics' `status` label spell it.
 */
export const JOB_STATUS_NAMES: Readonly<Record<JobStatus, string>> = {
  [JobStatus.Init]: "init",
  [JobStatus.Success]: "success",
  [JobStatus.Failed]: "failed",
  [JobStatus.Continue]: "continue",
  [JobStatus.Retry]: "retry",
  [JobStatus.Running]: "running",
  [JobStatus.Cancelled]: "cancelled",
};

/** Every status, in the order a job moves through them (for columns and series). */
export const JOB_STATUS_ORDER: readonly JobStatus[] = [
  JobStatus.Init,
  JobStatus.Running,
  JobStatus.Retry,
  JobStatus.Continue,
  JobStatus.Success,
  JobStatus.Failed,
  JobStatus.Cancelled,
];
