import { type Duration, parseDuration } from "./duration.js";
import { PersistentQueueError } from "./errors.js";

/** What a back-off holds up: the whole job type, or the job's group only. */
export type BackOffScope = "type" | "group";

/** Options of {@link RateLimitedError}. */
export interface RateLimitedOptions {
  /** How long claims of the type (or group) pause, cluster-wide: ms or text like "30s". Also when this job runs again. */
  readonly retryAfter: Duration;
  /** `"type"` (default) holds up every job of the type; `"group"` only the job's group. */
  readonly scope?: BackOffScope | undefined;
  /** What `last_error` records; default names the back-off. */
  readonly message?: string | undefined;
}

/**
 * Throw from a handler that hit a remote rate limit (an HTTP 429, a quota): no
 * process in the cluster claims jobs of this type — or of this job's group,
 * with `scope: "group"` — for `retryAfter`, and this job waits as a Continue
 * re-run due after it. Not a failure: the re-run counts no attempt, so a job
 * that keeps meeting the limit never fails for it. Jobs already running go on.
 */
export class RateLimitedError extends PersistentQueueError {
  /** The back-off in ms. */
  readonly retryAfterMs: number;
  readonly scope: BackOffScope;

  constructor(options: RateLimitedOptions) {
    const retryAfterMs = parseDuration("retryAfter", options?.retryAfter, { allowZero: false });
    const scope = options.scope ?? "type";
    if (scope !== "type" && scope !== "group")
      throw new TypeError(
        `RateLimitedError: scope must be "type" or "group" (got ${String(scope)}).`,
      );
    super(
      "ERR_PQ_RATE_LIMITED",
      options.message ?? `rate limited: the job ${scope} backs off for ${retryAfterMs} ms`,
    );
    this.retryAfterMs = retryAfterMs;
    this.scope = scope;
  }
}
