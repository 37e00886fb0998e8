import { JOB_STATUS_NAMES, JobStatus } from "../job-status.js";

/** A status code's metric name; `status_9` for a code other software wrote. */
export function metricStatusName(status: number): string {
  return JOB_STATUS_NAMES[status as JobStatus] ?? `status_${status}`;
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
