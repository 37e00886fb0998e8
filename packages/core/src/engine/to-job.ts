import type { Row } from "../db.js";
import type { Job } from "../job.js";
import { JobStatus } from "../job-status.js";

/**
 * Builds the handler's view of a claimed row, with its trace context and due
 * time (epoch ms) for telemetry. Params that are not valid JSON
 * (a row inserted by plain SQL from elsewhere) give `error`, and the job is
 * recorded as failed without calling the handler. Empty params (the seed's
 * column default '') parse as null.
 */
export function toJob(
  row: Row,
  name: string,
): { job: Job; error?: Error; traceContext: string | null; dueMs: number } {
  const rawParams = row.params === null || row.params === undefined ? "" : String(row.params);
  let params: unknown = null;
  let error: Error | undefined;
  if (rawParams.trim() !== "") {
    try {
      params = JSON.parse(rawParams);
    } catch (e) {
      error = new SyntaxError(
        `params are not valid JSON (${(e as Error).message}); the job cannot run`,
      );
    }
  }
  const job: Job = {
    id: Number(row.id),
    jobType: Number(row.job_type),
    name,
    params,
    rawParams,
    attempts: Number(row.attempts ?? 0),
    status: JobStatus.Running,
    startTime: Number(row.start_time ?? 0),
    createTime: Number(row.create_time ?? 0),
    lastError:
      row.last_error === null || row.last_error === undefined ? null : String(row.last_error),
    group: row.group_key === null || row.group_key === undefined ? null : String(row.group_key),
  };
  // Due at start_time / run_at as the claim's due_ms has it; a job to run at once: its creation.
  const dueMs = Math.max(job.startTime * 1000, Number(row.run_at ?? 0)) || job.createTime * 1000;
  const traceContext =
    row.trace_context === null || row.trace_context === undefined
      ? null
      : String(row.trace_context);
  return error ? { job, error, traceContext, dueMs } : { job, traceContext, dueMs };
}
