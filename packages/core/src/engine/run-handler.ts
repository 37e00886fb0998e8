import type { ResolvedJobConfig } from "../config.js";
import { PersistentQueueError } from "../errors.js";
import type { Job, JobContext } from "../job.js";
import { JobStatus } from "../job-status.js";
import { serialiseOutput } from "./job-output.js";
import type { RunAbort } from "./run-abort.js";

/** A run that took longer than its job type's `timeout`. */
export class JobTimeoutError extends PersistentQueueError {
  constructor(ms: number) {
    super("ERR_PQ_JOB_TIMEOUT", `the handler did not finish within its timeout of ${ms} ms`);
  }
}

/**
 * What one run of a handler decided; `result` is the JSON text of the result it
 * returned with `{ status?, result }`, if any, already checked against the limit.
 */
export type RunOutcome =
  | { readonly status: JobStatus.Success; readonly result?: string | undefined }
  | { readonly status: JobStatus.Continue; readonly result?: string | undefined }
  | {
      readonly status: JobStatus.Failed | JobStatus.Retry;
      readonly error: unknown;
      readonly result?: string | undefined;
    };

const OUTCOMES = new Set<unknown>([
  JobStatus.Success,
  JobStatus.Failed,
  JobStatus.Continue,
  JobStatus.Retry,
]);

/**
 * Runs the handler once and maps whatever it does to an outcome; never
 * throws. Returning nothing is Success; `{ status?, result? }` is that status
 * (default Success) with a result; Init (0) means "not done" as in the
 * seed and is a Retry; a throw of anything (an Error, a string, undefined) is
 * a Retry; a value that is no status is a Failed with a message saying so; a
 * result that is not JSON or larger than `maxResultBytes` is a Failed with a
 * {@link JobOutputError} (final: the same run would return it again); a
 * timeout aborts `ctx.signal` and is a Retry. Whether a Retry happens is
 * decided by the caller (needRetry, maxRetries).
 */
export async function runHandler(
  config: ResolvedJobConfig,
  job: Job,
  ctx: JobContext,
  abort: RunAbort,
): Promise<RunOutcome> {
  let timer: NodeJS.Timeout | undefined;
  const run = Promise.resolve().then(() => config.handleJob(job, ctx));
  try {
    const result =
      config.timeoutMs === undefined
        ? await run
        : await Promise.race([
            run,
            new Promise<never>((_, reject) => {
              const ms = config.timeoutMs!;
              timer = setTimeout(() => {
                const error = new JobTimeoutError(ms);
                abort.abort(error);
                reject(error);
              }, ms);
            }),
          ]);
    return toOutcome(result, config.maxResultBytes);
  } catch (error) {
    run.catch(() => undefined); // after a timeout the handler may still reject later
    return { status: JobStatus.Retry, error };
  } finally {
    if (timer) clearTimeout(timer);
  }
}

/** The keys a handler's `{ status?, result? }` may have. */
const RETURN_KEYS = new Set(["status", "result"]);

/** Maps what a handler returned to its outcome (see {@link runHandler}). */
function toOutcome(returned: unknown, maxResultBytes: number): RunOutcome {
  let status: unknown = returned;
  let result: string | undefined;
  if (typeof returned === "object" && returned !== null) {
    const extra = Object.keys(returned).filter((k) => !RETURN_KEYS.has(k));
    if (extra.length > 0 || Array.isArray(returned)) {
      const what = Array.isArray(returned)
        ? "an array"
        : `an object with the key(s) ${extra.slice(0, 5).join(", ")}`;
      return {
        status: JobStatus.Failed,
        error: new TypeError(
          `the handler returned ${what}; return a JobStatus, nothing, or { status?, result? } (wrap a result as { result: value })`,
        ),
      };
    }
    const o = returned as { status?: unknown; result?: unknown };
    status = o.status;
    if (o.result !== undefined) {
      try {
        result = serialiseOutput("result", o.result, maxResultBytes);
      } catch (error) {
        return { status: JobStatus.Failed, error }; // a JobOutputError
      }
    }
  }
  if (status === undefined) return { status: JobStatus.Success, result };
  if (status === JobStatus.Init)
    return {
      status: JobStatus.Retry,
      error: new Error("the handler left the job at status Init (0)"),
      result,
    };
  if (!OUTCOMES.has(status)) {
    return {
      status: JobStatus.Failed,
      error: new TypeError(
        `the handler returned ${describe(status)}, which is not a JobStatus (Success 1, Failed 2, Continue 3, Retry 4)`,
      ),
    };
  }
  if (status === JobStatus.Failed || status === JobStatus.Retry) {
    return { status, error: new Error(`the handler returned ${JobStatus[status]}`), result };
  }
  return { status: status as JobStatus.Success | JobStatus.Continue, result };
}

/** A short, safe description of an unexpected value. */
function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value.slice(0, 40));
  if (typeof value === "object" && value !== null) return "an object";
  return String(value);
}

/** The message of anything thrown, for `last_error`, at most `max` characters. */
export function errorMessage(error: unknown, max = 2000): string {
  let text: string;
  if (error instanceof Error) text = `${error.name}: ${error.message}`;
  else if (error === undefined || error === null) text = `the handler threw ${error}`;
  else if (typeof error === "string") text = error;
  else {
    try {
      text = JSON.stringify(error) ?? String(error);
    } catch {
      text = String(error);
    }
  }
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
