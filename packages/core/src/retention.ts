import { type Duration, parseDuration } from "./duration.js";
import { ConfigError, PersistentQueueError } from "./errors.js";
import { JobStatus } from "./job-status.js";

/**
 * How long finished jobs stay in the table before the queue deletes them
 * (queue option `retention`). A status left out is kept forever, as the seed
 * does. One queue in the cluster at a time deletes (a ShedLock decides), in
 * batches of at most 1000 rows, every `interval` while the queue runs.
 */
export interface RetentionOptions {
  /** Keep jobs that succeeded this long after they finished, e.g. "7d". */
  readonly success?: Duration | undefined;
  /** Keep jobs that failed this long after they finished, e.g. "30d". */
  readonly failed?: Duration | undefined;
  /** Keep cancelled jobs this long after they were cancelled. */
  readonly cancelled?: Duration | undefined;
  /** How often the cleaner runs. Default "1m". */
  readonly interval?: Duration | undefined;
}

/** Options of `queue.prune()`. */
export interface PruneOptions {
  /** Which finished jobs: Success, Failed or Cancelled, or several of them. */
  readonly status: PrunableStatus | readonly PrunableStatus[];
  /** Delete those that finished longer ago than this (e.g. "7d"; 0: all of them). */
  readonly olderThan: Duration;
}

/** The statuses `prune()` and retention delete: the final ones. */
export type PrunableStatus = JobStatus.Success | JobStatus.Failed | JobStatus.Cancelled;

/** `prune()`'s options are not valid: nothing was deleted. `field` says what to change. */
export class PruneInputError extends PersistentQueueError {
  readonly field: string;
  constructor(field: string, message: string, options?: { cause?: unknown }) {
    super("ERR_PQ_INPUT", `prune ${field}: ${message}`, options);
    this.field = field;
  }
}

/** One status to delete, and the age (ms, by update_time) a job must have passed. */
export interface PruneRule {
  readonly status: PrunableStatus;
  readonly olderThanMs: number;
}

/** The retention option, checked: what the cleaner deletes, and how often. */
export interface ResolvedRetention {
  readonly rules: readonly PruneRule[];
  readonly intervalMs: number;
}

const PRUNABLE: readonly JobStatus[] = [JobStatus.Success, JobStatus.Failed, JobStatus.Cancelled];

/** Checks the `retention` option; undefined when nothing is to be deleted. Throws {@link ConfigError}. */
export function resolveRetention(
  retention: RetentionOptions | undefined,
): ResolvedRetention | undefined {
  if (retention === undefined) return undefined;
  if (retention === null || typeof retention !== "object")
    throw new ConfigError(
      "retention",
      'must be an object such as { success: "7d", failed: "30d" }.',
    );
  const known = new Set(["success", "failed", "cancelled", "interval"]);
  for (const key of Object.keys(retention))
    if (!known.has(key))
      throw new ConfigError(
        `retention.${key}`,
        "is not an option; use success, failed, cancelled or interval.",
      );
  const rules: PruneRule[] = [];
  const keys = [
    ["success", JobStatus.Success],
    ["failed", JobStatus.Failed],
    ["cancelled", JobStatus.Cancelled],
  ] as const;
  for (const [key, status] of keys) {
    const value = retention[key];
    if (value !== undefined)
      rules.push({ status, olderThanMs: parseDuration(`retention.${key}`, value) });
  }
  const intervalMs = parseDuration("retention.interval", retention.interval ?? 60_000, {
    allowZero: false,
  });
  return rules.length > 0 ? { rules, intervalMs } : undefined;
}

/** Checks `prune()`'s options; throws {@link PruneInputError}. */
export function resolvePrune(options: PruneOptions): PruneRule[] {
  if (options === null || typeof options !== "object")
    throw new PruneInputError("options", "must be an object { status, olderThan }.");
  const statuses = Array.isArray(options.status) ? options.status : [options.status];
  if (statuses.length === 0) throw new PruneInputError("status", "must name at least one status.");
  for (const status of statuses) {
    if (!PRUNABLE.includes(status as JobStatus)) {
      throw new PruneInputError(
        "status",
        `must be JobStatus.Success, JobStatus.Failed or JobStatus.Cancelled, or an array of them (got ${String(status)}); unfinished jobs are never pruned — cancel them first.`,
      );
    }
  }
  let olderThanMs: number;
  try {
    olderThanMs = parseDuration("olderThan", options.olderThan);
  } catch (err) {
    throw new PruneInputError("olderThan", (err as ConfigError).message.replace(/^[^:]*: /, ""), {
      cause: err,
    });
  }
  return [...new Set(statuses)].map((status) => ({ status, olderThanMs }));
}
