import type { ResolvedJobConfig } from "../config.js";
import type { DB } from "../db.js";
import type { Dialect } from "../dialects/dialect.js";
import type { Logger } from "../logger.js";
import { chunks } from "../statements/jobs.js";
import { retryWrite } from "./retry-write.js";

/** What a hand-back needs from its worker. */
export interface HandBackDeps {
  readonly db: DB;
  readonly dialect: Dialect;
  readonly table: string;
  readonly config: ResolvedJobConfig;
  readonly logger: Logger;
  readonly emitError: (error: unknown, during: string) => void;
}

/**
 * Hands claimed jobs back, claimable at once, fenced by their tokens: one
 * statement per {@link MAX_LIST} jobs, retried until `deadline` (Date.now()
 * ms); what is not handed back by then is rescued when its lease expires.
 */
export async function handBack(
  d: HandBackDeps,
  jobs: readonly { readonly id: number; readonly token: string }[],
  reason: string,
  deadline: number,
): Promise<void> {
  if (jobs.length === 0) return;
  const { db, dialect, table, config, logger } = d;
  const until = performance.now() + Math.max(0, deadline - Date.now());
  let handedBack = 0;
  for (const part of chunks(jobs)) {
    try {
      const r = await retryWrite(d, "release", until, () =>
        dialect.statements.release(db, table, part, reason),
      );
      handedBack += r.value;
    } catch {
      // The database stayed away: the leases expire on their own and the jobs are rescued.
    }
  }
  logger.warn(
    { jobType: config.jobType, count: jobs.length, handedBack },
    `${jobs.length} jobs handed back (${reason})`,
  );
}
