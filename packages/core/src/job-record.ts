import type { Row } from "./db.js";
import { parseOutput } from "./engine/job-output.js";
import type { JobStatus } from "./job-status.js";

/** A row of the job table, as {@link PersistentQueue.getJob} reports it. */
export interface JobRecord<P = unknown, T extends number = number, R = unknown> {
  readonly id: number;
  readonly jobType: T;
  /** The job type's name in this queue's `jobs`, or undefined for a type it does not list. */
  readonly name: string | undefined;
  /** The seed's status code (Running while a worker holds a lease). */
  readonly status: JobStatus;
  /**
   * The params parsed from JSON (null for the seed's empty default, undefined
   * when the column does not hold valid JSON: see `rawParams`). Typed as the
   * job type's params when `getJob(id, jobType)` names it; not validated again.
   */
  readonly params: P | undefined;
  /** The params column as stored: JSON text. */
  readonly rawParams: string;
  readonly attempts: number;
  /** The seed's start_time: unix seconds it was scheduled for (0 = as soon as possible). */
  readonly startTime: number;
  /** Unix ms the database will next consider it due. */
  readonly runAt: number;
  readonly createTime: number;
  readonly updateTime: number;
  /** Unix ms the current lease ends (Running), else 0. */
  readonly leaseUntil: number;
  readonly workerId: string | null;
  readonly lastError: string | null;
  /** Lower runs first (`add(…, { priority })`). */
  readonly priority: number;
  /** The job's unique key (`add(…, { uniqueKey })`), or null. */
  readonly uniqueKey: string | null;
  /** The job's group (`add(…, { group })`), or null. */
  readonly group: string | null;
  /**
   * What the handler returned as `{ result }`, parsed from JSON; undefined
   * until a run returned one (or when the column holds no valid JSON). Typed
   * as the job type's result when `getJob(id, jobType)` names it; not validated.
   */
  readonly result: R | undefined;
  /** The last value a run passed to `ctx.progress()`, parsed from JSON; undefined if none. */
  readonly progress: unknown;
}

/** A row of the job table as {@link JobRecord}; `name` is the job type's name in the queue, if listed. */
export function toJobRecord(row: Row, name: string | undefined): JobRecord {
  const num = (v: unknown) => Number(v ?? 0);
  const text = (v: unknown) => (v === null || v === undefined ? null : String(v));
  const rawParams = String(row.params ?? "");
  let params: unknown = null;
  if (rawParams.trim() !== "") {
    try {
      params = JSON.parse(rawParams);
    } catch {
      params = undefined; // not JSON (a row written by plain SQL elsewhere): rawParams has it
    }
  }
  const record: JobRecord = {
    id: num(row.id),
    jobType: num(row.job_type),
    name,
    status: num(row.job_status) as JobStatus,
    params,
    rawParams,
    attempts: num(row.attempts),
    startTime: num(row.start_time),
    runAt: num(row.run_at),
    createTime: num(row.create_time),
    updateTime: num(row.update_time),
    leaseUntil: num(row.lease_until),
    workerId: row.worker_id === null || row.worker_id === undefined ? null : String(row.worker_id),
    lastError:
      row.last_error === null || row.last_error === undefined ? null : String(row.last_error),
    priority: num(row.priority),
    uniqueKey: text(row.unique_key),
    group: text(row.group_key),
    result: parseOutput(row.result),
    progress: parseOutput(row.progress),
  };
  return record;
}
