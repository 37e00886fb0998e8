import type { EventEmitter } from "node:events";
import type { ResolvedJobConfig } from "../config.js";
import type { DB } from "../db.js";
import type { Dialect, StaleCutoff } from "../dialects/dialect.js";
import { DatabaseUnavailableError, PersistentQueueError } from "../errors.js";
import { emitSafely, type QueueEventMap } from "../events.js";
import type { Logger } from "../logger.js";

/**
 * Runs one setup step; a database error (not one of ours) becomes a
 * {@link DatabaseUnavailableError} naming the step, the driver's error as its `cause`.
 */
export async function step<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof PersistentQueueError) throw error;
    throw new DatabaseUnavailableError(what, { cause: error });
  }
}

/** What {@link firstPullCutoff} needs from its queue. */
export interface FirstPullDeps {
  readonly db: DB;
  readonly dialect: Dialect;
  readonly table: string;
  readonly logger: Logger;
  readonly events: EventEmitter<QueueEventMap>;
}

/**
 * firstPullDay at start-up: reads the database's now and the next id for one
 * job type (see `firstPull`), reports the never-run jobs that leaves alone
 * (logged, and the `skipped` event), and returns the cut-off its worker claims with.
 */
export async function firstPullCutoff(
  d: FirstPullDeps,
  config: ResolvedJobConfig,
): Promise<StaleCutoff> {
  const { cutoff, skipped: count } = await step("start(): the firstPullDay look-up", () =>
    d.dialect.statements.firstPull(d.db, d.table, config.jobType, config.firstPullDay),
  );
  if (count > 0) {
    d.logger.warn(
      { jobType: config.jobType, skipped: count, firstPullDay: config.firstPullDay },
      `${count} never-run jobs of type ${config.jobType} have been due for longer than firstPullDay and are left as they are`,
    );
    emitSafely(d.events, d.logger, "skipped", {
      jobType: config.jobType,
      count,
      firstPullDay: config.firstPullDay,
    });
  }
  return cutoff;
}
