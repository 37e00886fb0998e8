import type { Duration } from "../duration.js";
import { parseDuration } from "../duration.js";
import { JobInputError } from "../enqueue.js";
import { backOff } from "../flow-control.js";
import type { Job } from "../job.js";
import type { BackOffScope } from "../rate-limited.js";
import type { TypeContext } from "./type-context.js";

/**
 * `ctx.backOff()` and a thrown `RateLimitedError`: backs the job's type, or its
 * group, off for `retryAfter` in the whole cluster (see `backOff` in
 * flow-control.ts). Resolves the back-off in ms. Bad input rejects with a
 * {@link JobInputError}: a duration that is none, a scope that is none, the
 * group scope for a job without a group or of a type without any limit.
 */
export async function backOffJob(
  d: TypeContext,
  job: Job,
  retryAfter: Duration | number,
  scope: BackOffScope | undefined,
): Promise<number> {
  let ms: number;
  try {
    ms = parseDuration("retryAfter", retryAfter, { allowZero: false });
  } catch (error) {
    throw new JobInputError("retryAfter", (error as Error).message.replace(/^[^:]*: /, ""), {
      cause: error,
    });
  }
  const s = scope ?? "type";
  if (s !== "type" && s !== "group")
    throw new JobInputError("scope", `must be "type" or "group" (got ${String(s)}).`);
  if (s === "group" && job.group === null)
    throw new JobInputError(
      "scope",
      `job ${job.id} has no group to back off; add it with { group }, or back off the type.`,
    );
  if (s === "group" && d.config.limits === undefined)
    throw new JobInputError(
      "scope",
      `job type ${job.jobType} has no flow-control limit, and only a limited claim looks at groups: give it groupConcurrency or groupRateLimit (or globalConcurrency, rateLimit) to back off a group, or back off the type.`,
    );
  await backOff(d.db, d.dialect, d.flow, job.jobType, ms, s === "group" ? job.group! : undefined);
  d.logger.warn(
    { jobId: job.id, jobType: job.jobType, group: s === "group" ? job.group : undefined, ms },
    `job ${s} backs off for ${ms} ms`,
  );
  return ms;
}
