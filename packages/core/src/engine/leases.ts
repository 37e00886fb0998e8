import { createHash } from "node:crypto";
import type { ResolvedJobConfig } from "../config.js";
import type { DB } from "../db.js";
import type { Dialect, FlowTables } from "../dialects/dialect.js";
import { pruneFlowRows } from "../flow-control.js";
import type { Job } from "../job.js";
import type { ShedLock } from "../lock/shed-lock.js";
import type { Logger } from "../logger.js";
import { chunks } from "../statements/jobs.js";
import { JobCancelledError } from "./cancelled.js";
import type { RunAbort } from "./run-abort.js";

/** What lease upkeep needs from its worker. */
export interface LeaseDeps {
  readonly db: DB;
  readonly dialect: Dialect;
  readonly table: string;
  readonly flow: FlowTables;
  readonly config: ResolvedJobConfig;
  readonly logger: Logger;
  readonly locks: ShedLock;
}

/** A job this worker holds, as lease upkeep sees it. */
export interface HeldLease {
  readonly job: Job;
  readonly token: string;
  readonly abort: RunAbort;
  readonly state: string;
  /** performance.now() when the lease was last confirmed; a successful heartbeat moves it on. */
  leaseSince: number;
}

/**
 * Heartbeat: extends the leases of every job this worker holds, one statement
 * per {@link MAX_LIST} jobs (a worker may hold more than one statement can
 * bind). Where a statement extended fewer rows than it named, finds the jobs
 * whose lease is gone and aborts their handlers' signal, their results being
 * discarded anyway: with a {@link JobCancelledError} when `cancel()` ended the
 * run (in any process), else with "the job's lease was lost" (expired and
 * taken over). A signal is aborted (and logged) once.
 */
export async function extendHeldLeases(d: LeaseDeps, held: readonly HeldLease[]): Promise<void> {
  const { db, dialect, table, config, logger } = d;
  for (const part of chunks(held)) {
    const ids = part.map((h) => h.job.id);
    const tokens = [...new Set(part.map((h) => h.token))];
    const sent = performance.now();
    const extended = await dialect.statements.extendLeases(db, table, ids, tokens, config.leaseMs);
    if (extended >= ids.length) {
      for (const h of part) h.leaseSince = Math.max(h.leaseSince, sent);
      continue;
    }
    const alive = new Set(await dialect.statements.stillLeased(db, table, ids, tokens));
    const lost = part.filter((h) => !alive.has(h.job.id) && !h.abort.aborted);
    // Why a lease is gone: cancel() ended the run, or it expired and was taken over. Asked
    // only when a lease is gone, so a heartbeat costs nothing more while every lease holds.
    const cancelled = new Set(
      lost.length === 0
        ? []
        : await dialect.statements.cancelledRuns(
            db,
            table,
            lost.map((h) => ({ id: h.job.id, token: h.token })),
          ),
    );
    for (const h of part) {
      if (alive.has(h.job.id)) h.leaseSince = Math.max(h.leaseSince, sent);
      else if (cancelled.has(h.job.id)) {
        // Running or waiting for a slot: either way the run must not go on (or start).
        h.abort.abort(new JobCancelledError(h.job.id));
        logger.info(
          { jobId: h.job.id, jobType: config.jobType },
          "job cancelled by cancel() while held; the handler's signal is aborted",
        );
      } else if (h.state === "running" && !h.abort.aborted) {
        h.abort.abort(new Error("the job's lease was lost"));
        logger.warn(
          { jobId: h.job.id, jobType: config.jobType },
          "lease lost while running; the handler's signal is aborted",
        );
      }
    }
  }
}

/** How often a worker tries to rescue expired leases: half a lease, from 250 ms to 30 s. */
export function rescueInterval(config: ResolvedJobConfig): number {
  return Math.min(30_000, Math.max(250, Math.floor(config.leaseMs / 2)));
}

/**
 * Rescue, once per interval in the whole cluster (a ShedLock decides which
 * worker): jobs of this type whose lease expired become claimable again, or
 * Failed once they used their attempts. Resolves how many rows it changed.
 * For a limited type, the same worker deletes flow rows that count no more
 * (starts older than the longest rate window, groups' ended back-offs).
 */
export async function rescueExpiredLeases(d: LeaseDeps): Promise<number> {
  const { db, dialect, table, config, locks, logger } = d;
  const interval = rescueInterval(config);
  const name = `pq-rescue-${config.jobType}-${createHash("md5").update(table).digest("hex").slice(0, 16)}`;
  const got = await locks.tryLock(name, {
    lockAtMostFor: interval,
    lockAtLeastFor: Math.floor(interval * 0.8),
  });
  if (!got) return 0;
  try {
    const rescued = await dialect.statements.rescueExpired(
      db,
      table,
      config.jobType,
      config.attemptLimit,
    );
    if (rescued > 0)
      logger.warn({ jobType: config.jobType, count: rescued }, "rescued jobs whose lease expired");
    const limits = config.limits;
    if (limits) {
      const keepMs = Math.max(limits.rate?.perMs ?? 0, limits.groupRate?.perMs ?? 0);
      await pruneFlowRows(db, dialect, d.flow, config.jobType, keepMs);
    }
    return rescued;
  } finally {
    await locks.unlock(name);
  }
}
