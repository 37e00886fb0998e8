import { JobStatus } from "../job-status.js";

/**
 * The name of each status in metrics (`status` label, `persistent_queue.job.status`
 * attribute): the `JobStatus` names in lower case, as the CLI and the dashboard spell them.
 */
export const METRIC_STATUS_NAMES: Readonly<Record<number, string>> = {
  [JobStatus.Init]: "init",
  [JobStatus.Success]: "success",
  [JobStatus.Failed]: "failed",
  [JobStatus.Continue]: "continue",
  [JobStatus.Retry]: "retry",
  [JobStatus.Running]: "running",
  [JobStatus.Cancelled]: "cancelled",
};

/** A status code's metric name; `status_9` for a code other software wrote. */
export function metricStatusName(status: number): string {
  return METRIC_STATUS_NAMES[status] ?? `status_${status}`;
}

/** The handler outcomes' names (`outcome` label, `persistent_queue.job.outcome` attribute). */
export function outcomeName(status: JobStatus): string {
  switch (status) {
    case JobStatus.Success:
      return "success";
    case JobStatus.Failed:
      return "failed";
    case JobStatus.Continue:
      return "continue";
    default:
      return "retry";
  }
}
