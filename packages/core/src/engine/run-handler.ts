import type { ResolvedJobConfig } from "../config.js";
import { PersistentQueueError } from "../errors.js";
import type { Job, JobContext } from "../job.js";
import { JobStatus } from "../job-status.js";

/** A run that took longer than its job type's `timeout`. */
export class JobTimeoutError extends PersistentQueueError {
  constructor(ms: number) {
    super("ERR_PQ_JOB_TIMEOUT", `the handler did not finish within its timeout of ${ms} ms`);
  }
}

/** What one run of a handler decided. */
export type RunOutcome =
  | { readonly status: JobStatus.Success }
  | { readonly status: JobStatus.Continue }
  | { readonly status: JobStatus.Failed | JobStatus.Retry; readonly error: unknown };

const OUTCOMES = new Set<unknown>([
  JobStatus.Success,
  JobStatus.Failed,
  JobStatus.Continue,
  JobStatus.Retry,
]);

/**
 * Runs the handler once and maps whatever it does to an outcome; never
 * throws. Returning nothing is Success; Init (0) means "not done" as in the
 * seed and is a Retry; a throw of anything (an Error, a string, undefined) is
 * a Retry; a value that is no status is a Failed with a message saying so; a
 * timeout aborts `ctx.signal` and is a Retry. Whether a Retry happens is
 * decided by the caller (needRetry, maxRetries).
 */
export async function runHandler(
  config: ResolvedJobConfig,
  job: Job,
  ctx: JobContext,
  abort: AbortController,
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
    if (result === undefined) return { status: JobStatus.Success };
    if (result === JobStatus.Init)
      return {
        status: JobStatus.Retry,
        error: new Error("the handler left the job at status Init (0)"),
      };
    if (!OUTCOMES.has(result)) {
      return {
        status: JobStatus.Failed,
        error: new TypeError(
          `the handler returned ${describe(result)}, which is not a JobStatus (Success 1, Failed 2, Continue 3, Retry 4)`,
        ),
      };
    }
    if (result === JobStatus.Failed || result === JobStatus.Retry) {
      return { status: result, error: new Error(`the handler returned ${JobStatus[result]}`) };
    }
    return { status: result as JobStatus.Success | JobStatus.Continue };
  } catch (error) {
    run.catch(() => undefined); // after a timeout the handler may still reject later
    return { status: JobStatus.Retry, error };
  } finally {
    if (timer) clearTimeout(timer);
  }
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
  else if (error === undefined) text = "the handler threw undefined";
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
