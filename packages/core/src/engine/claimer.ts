import type { Row } from "../db.js";
import type { ClaimParams, StaleCutoff } from "../dialects/dialect.js";
import { ensureTypeState, rateWait } from "../flow-control.js";
import { JobStatus } from "../job-status.js";
import { makeToken } from "../worker-id.js";
import { dbErrorMessage } from "./redact.js";
import type { Slots } from "./slots.js";
import { QueueClosedError } from "./statement-guard.js";
import type { TypeContext } from "./type-context.js";
import { WakeSignal } from "./wake-signal.js";

/** What a {@link Claimer} needs from its worker. */
export interface ClaimerDeps extends TypeContext {
  readonly pollMs: number;
  readonly slots: Slots;
  /** True once the worker stops: the loop ends. */
  readonly stopping: () => boolean;
  readonly emitError: (error: unknown, during: string) => void;
}

const MIN_IDLE_MS = 10;
/** How often a limited type that claims nothing while jobs are due makes sure its gate row exists. */
const TYPE_ROW_CHECK_MS = 1000;
/** Most finished-but-unwritten jobs one limited claim names (the rest count as running: safe). */
const MAX_FINISHED_IDS = 500;
/**
 * A limited type without an explicit `prefetch` claims ahead of its free slots
 * only the jobs its handlers finish within this long, by their recent run times:
 * a claimed-ahead job holds room in the cluster's limits while it waits, so it
 * may wait this long at most. Short jobs then claim as unlimited ones do (a batch
 * of capacity plus as many again); jobs of 10 ms or more claim no further ahead
 * than one slot's worth per run, slow ones not at all.
 */
const SHORT_WAIT_MS = 10;
/**
 * Most jobs an unlimited type without an explicit `prefetch` claims ahead of its
 * slots (for handlers that finish in microseconds): about graphile-worker's
 * tuned local queue. Claims and completions of such a drain then carry hundreds
 * of jobs each, where a claim-ahead of one capacity made two statements (and two
 * commits) per capacity of jobs.
 */
export const MAX_SHORT_PREFETCH = 512;

/**
 * A claim-ahead without an explicit `prefetch`: what `capacity` handlers
 * running `recentRunMs` each finish within {@link SHORT_WAIT_MS}, at most `max`
 * (a limited type: `capacity`); 0 before any run has ended.
 */
export function shortJobsPrefetch(
  capacity: number,
  recentRunMs: number | undefined,
  max = capacity,
): number {
  if (recentRunMs === undefined) return 0;
  return Math.min(max, Math.floor((capacity * SHORT_WAIT_MS) / Math.max(recentRunMs, 0.01)));
}

/** Resolves after the current turn of the event loop (its microtasks, and I/O already due). */
const yieldTurn = () => new Promise<void>((resolve) => setImmediate(resolve));
const INIT_FIRST = [JobStatus.Init, JobStatus.Retry, JobStatus.Continue] as const;
const RETRIES_FIRST = [JobStatus.Retry, JobStatus.Continue, JobStatus.Init] as const;

/**
 * The claim loop of one job type: claims due jobs in batches up to the room
 * the slots have (capacity plus prefetch), hands them to the slots, and
 * sleeps adaptively when there is nothing due — 10 ms after work, doubling
 * to the poll interval, never past the next delayed job's due time — unless
 * woken.
 */
export class Claimer {
  readonly #d: ClaimerDeps;
  readonly #signal = new WakeSignal();
  /** firstPullDay: which Init jobs are left alone (see ClaimParams.stale). */
  #stale: StaleCutoff | undefined;
  /**
   * Tokens of claims that failed after they were sent: each may have committed
   * with its reply lost. Only rows under one of these are adopted.
   */
  readonly #uncertainTokens = new Set<string>();
  #idleMs = MIN_IDLE_MS;
  /** The last claim took fewer jobs than it asked for: nothing more was due then. */
  #drained = false;
  #retriesFirstAt = Number.NEGATIVE_INFINITY;
  /** performance.now() when a limited type's row in the job-types table was last made sure of. */
  #typeRowCheckedAt = performance.now();

  constructor(deps: ClaimerDeps) {
    this.#d = deps;
  }

  /**
   * True when this worker's last claim found no more due jobs than it took: a job
   * added now overtakes none that this worker has seen (see TypeWorker.handOff).
   */
  get drained(): boolean {
    return this.#drained;
  }

  /**
   * A claim sent under `token` outside the loop (an in-process hand-off) failed
   * after it was sent: it may have committed, so rows under it are adopted.
   */
  uncertain(token: string): void {
    this.#uncertainTokens.add(token);
    this.wake();
  }

  /**
   * Claims again now (a job was added, a notification came, or a slot freed up).
   * Whatever woke it may have made jobs due: not {@link drained} until a claim
   * says so again (an in-process hand-off would overtake them; a success would not
   * wake a claimer that waits for room).
   */
  wake(): void {
    this.#drained = false;
    this.#idleMs = MIN_IDLE_MS;
    this.#signal.wake();
  }

  /** The loop; resolves when the worker stops (or its queue closed). `stale` is the firstPullDay cut-off. */
  async run(stale: StaleCutoff | undefined): Promise<void> {
    this.#stale = stale;
    const { config, logger } = this.#d;
    let failures = 0;
    while (!this.#d.stopping()) {
      try {
        // Claims run up to `prefetch` jobs ahead of the handlers, and wait for room while
        // there is still work queued (below): fewer, larger claims.
        // Held jobs include those whose outcome is being written.
        const { slots } = this.#d;
        // Under a cluster-wide limit a claim can take only the room its own finished jobs
        // left: let the handlers finishing in this turn of the event loop finish first (one
        // macrotask), so one claim takes the burst. Without it the batch depended on how many
        // microtask hops a run takes: once the per-run path gained two (the telemetry
        // wrapper), a worker with 16 no-op jobs claimed 4, then 12, then 4 (twice the claims;
        // SQLite's drain with globalConcurrency = capacity fell from 0.54x to 0.34x of no limit).
        if (config.limits && slots.size > 0) await yieldTurn();
        // Under a cluster-wide limit, jobs whose handler finished (their outcome being
        // written) hold no room here either: the claim tells the database they run no more.
        const finished = config.limits ? slots.completingIds(MAX_FINISHED_IDS) : [];
        // Without limits, succeeded jobs whose outcome is being written hold no room up
        // to one window (capacity plus claim-ahead): the next claim is sent while the
        // last batch's successes are written, not after (two round trips per batch, one
        // after the other, were most of a short-job drain's time). At most two windows
        // are held.
        const window = config.capacity + this.#prefetch();
        const held = config.limits
          ? slots.size - finished.length
          : slots.size - Math.min(slots.succeedingCount, window);
        // This worker's own held jobs count against a global limit: never ask for more
        // than it leaves (a claim that comes back short waits for a wake-up).
        const room =
          Math.min(window, config.queueMaxSize, config.limits?.global ?? Number.POSITIVE_INFINITY) -
          held;
        // With claimed jobs still waiting, claim again once half a capacity, or half the
        // claim-ahead if larger (counted up to one claim's loadLimit), is free: a large
        // claim-ahead refilled a capacity at a time kept 484 of 500 claimed jobs waiting and
        // claimed 16 per statement (SQLite, prefetch 500: 0.04 statements per job where
        // 0.005 would do).
        const ahead = Math.min(window - config.capacity, config.loadLimit);
        const threshold =
          slots.waitingCount > 0 ? Math.ceil(Math.max(config.capacity, ahead) / 2) : 1;
        if (room < threshold) {
          // Not known to be drained while it waits: a delayed job may fall due meanwhile,
          // and the next settled job (a success too) wakes the claimer.
          this.#drained = false;
          await this.#sleep(this.#d.pollMs); // a finishing job wakes us
          continue;
        }
        if (this.#uncertainTokens.size > 0) await this.#adoptLostClaims();
        const limit = Math.min(room, config.loadLimit);
        const claimed = await this.#claim(limit, finished);
        this.#drained = claimed < limit;
        // Work: the idle wait starts again from its shortest (more jobs tend to follow,
        // from producers this process hears nothing of where there is no NOTIFY).
        if (claimed > 0) this.#idleMs = MIN_IDLE_MS;
        failures = 0;
        if (claimed === limit) continue; // there may be more
        if (config.limits && claimed > 0) {
          // Under a cluster-wide limit, a claim that took fewer than asked was mostly held
          // to the limit's room: the next try comes when a job of this worker settles (a
          // wake), or after the idle wait; no next-due read in between.
          await this.#sleep(Math.max(MIN_IDLE_MS, Math.min(this.#idleMs, this.#d.pollMs)));
          continue;
        }
        const wait = await this.#d.dialect.statements.nextDue(
          this.#d.db,
          this.#d.table,
          config.jobType,
          this.#stale,
          this.#d.flow,
        );
        // Under a cluster-wide limit, due jobs left unclaimed mostly mean the limit is
        // full: back off as when idle (a slot freed here wakes the loop at once) rather
        // than claim again every 10 ms; under a rate limit, until its window has room,
        // so every process tries again then (not the one whose own jobs end first).
        let sleep = Math.max(MIN_IDLE_MS, Math.min(this.#idleMs, this.#d.pollMs, wait));
        if (config.limits && claimed === 0 && wait <= 0) {
          sleep = Math.max(MIN_IDLE_MS, Math.min(this.#idleMs, this.#d.pollMs));
          const { db, dialect, flow } = this.#d;
          // Limited claims pass through the type's row in the job-types table: should it
          // have gone (a truncated table), put it back rather than claim nothing for ever.
          const now = performance.now();
          if (now - this.#typeRowCheckedAt >= TYPE_ROW_CHECK_MS) {
            this.#typeRowCheckedAt = now;
            await ensureTypeState(db, dialect, flow, config.jobType);
          }
          const rate = config.limits.rate;
          if (rate) {
            const room = await rateWait(db, dialect, flow, config.jobType, rate.perMs);
            if (room > 0) sleep = Math.max(MIN_IDLE_MS, Math.min(this.#d.pollMs, room + 1));
          }
        }
        this.#idleMs = Math.min(this.#idleMs * 2, this.#d.pollMs);
        await this.#sleep(sleep);
      } catch (error) {
        if (error instanceof QueueClosedError) break;
        failures++;
        const backoff = Math.min(5000, 100 * 2 ** Math.min(failures, 6));
        logger.error(
          { jobType: config.jobType, err: dbErrorMessage(error) },
          `claim failed; retrying in ${backoff} ms`,
        );
        this.#d.emitError(error, "claim");
        await this.#sleep(backoff);
      }
    }
  }

  /** How many jobs claims may take ahead of the free slots now (see {@link SHORT_WAIT_MS}). */
  #prefetch(): number {
    const { config, slots } = this.#d;
    if (!config.prefetchShortJobs) return config.prefetch;
    if (config.limits) return shortJobsPrefetch(config.capacity, slots.recentRunMs);
    // Unlimited: a capacity ahead (`prefetch`'s default), more for short jobs.
    return Math.max(
      config.prefetch,
      shortJobsPrefetch(config.capacity, slots.recentRunMs, MAX_SHORT_PREFETCH),
    );
  }

  #sleep(ms: number): Promise<void> {
    return this.#signal.sleep(ms, this.#d.stopping());
  }

  /**
   * Claims up to `limit` due jobs, one status at a time (see `pickDue`): new
   * jobs first, then retries and Continue re-runs — except that at least once
   * a second retries and re-runs go first, so a flood of new jobs cannot
   * starve them. Each status's jobs start as soon as its claim returns (a
   * lone new job does not wait for the other statuses' round trips). Returns
   * how many were claimed.
   */
  async #claim(limit: number, finishedIds: readonly number[]): Promise<number> {
    const now = performance.now();
    const retriesFirst = now - this.#retriesFirstAt >= 1000;
    if (retriesFirst) this.#retriesFirstAt = now;
    const order = retriesFirst ? RETRIES_FIRST : INIT_FIRST;
    let claimed = 0;
    for (const status of order) {
      if (claimed >= limit || this.#d.stopping()) break;
      const rows = await this.#claimStatus(status, limit - claimed, finishedIds);
      for (const { row, token, since } of rows) this.#d.slots.enqueue(row, token, since);
      claimed += rows.length;
      this.#d.slots.pump();
    }
    return claimed;
  }

  async #claimStatus(
    status: JobStatus,
    limit: number,
    finishedIds: readonly number[],
  ): Promise<{ row: Row; token: string; since: number }[]> {
    const { db, dialect, table, config, workerId } = this.#d;
    const token = makeToken();
    const since = performance.now(); // the lease cannot have started before the claim was sent
    const params: ClaimParams = {
      table,
      jobType: config.jobType,
      status,
      stale: this.#stale,
      limit,
      token,
      leaseMs: config.leaseMs,
      workerId,
      flow: this.#d.flow,
      limits: config.limits,
      finishedIds,
    };
    let rows: Row[];
    try {
      rows = await dialect.statements.claim(db, params);
    } catch (error) {
      // Sent, then failed: the claim may have committed and only its reply been lost.
      if (!(error instanceof QueueClosedError)) this.#uncertainTokens.add(token);
      throw error;
    }
    return rows.map((row) => ({ row, token, since }));
  }

  /**
   * After a claim whose reply was lost: the jobs the database says this worker
   * holds under that claim's token are adopted — queued to run under the lease
   * the lost claim took (what is left of it), rather than waiting out the lease
   * and running again later. One statement, served by the claim index.
   *
   * Only a failed claim's token counts. A row under a token whose claim did
   * reply is a job this worker knows of: held, or no longer held because its run
   * ended — and the read may predate that run's completion (its reply handled
   * first, the read's snapshot older: seen on Galera, where claims fail with
   * 1213 often). Adopting it ran the job a second time and reported it
   * completed twice; a released job whose hand-back failed waits for its lease.
   */
  async #adoptLostClaims(): Promise<void> {
    const { db, dialect, table, config, workerId, logger, slots } = this.#d;
    const lost = new Set(this.#uncertainTokens);
    const rows = await dialect.statements.ownRunning(db, table, config.jobType, workerId);
    for (const token of lost) this.#uncertainTokens.delete(token);
    const now = performance.now();
    let adopted = 0;
    for (const row of rows) {
      const token = String(row.lease_token ?? "");
      const left = Number(row.lease_left ?? 0);
      if (!lost.has(token) || slots.tokenOf(Number(row.id)) === token || left <= 0) continue;
      slots.enqueue(row, token, now - Math.max(0, config.leaseMs - left));
      adopted++;
    }
    if (adopted > 0) {
      logger.warn(
        { jobType: config.jobType, adopted },
        `adopted ${adopted} jobs claimed by a claim whose reply was lost`,
      );
      slots.pump();
    }
  }
}
