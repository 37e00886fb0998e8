import { createHash } from "node:crypto";
import type { DB } from "../db.js";
import type { SqlHooks } from "../dialects/dialect.js";
import { LockNotAcquiredError, type ShedLock } from "../lock/shed-lock.js";
import type { Logger } from "../logger.js";
import type { ResolvedRetention } from "../retention.js";
import { pruneFinished } from "./prune.js";

/** What the cleaner needs of its queue. */
export interface CleanerDeps {
  /** The queue's guarded DB: closed by stop(). */
  readonly db: DB;
  readonly dialect: SqlHooks;
  readonly table: string;
  readonly retention: ResolvedRetention;
  readonly locks: ShedLock;
  readonly logger: Logger;
}

/**
 * Retention: every `interval`, the one queue in the cluster that takes the
 * table's retention lock deletes the finished jobs past their age
 * ({@link pruneFinished}); the others skip that round. The lock is extended
 * while a long round runs. Its statements are reads and small DELETEs of
 * finished rows only, so claims never wait on it.
 */
export class RetentionCleaner {
  readonly #d: CleanerDeps;
  readonly #lockName: string;
  #timer: NodeJS.Timeout | undefined;
  #round: Promise<void> | undefined;
  #stopped = false;

  constructor(deps: CleanerDeps) {
    this.#d = deps;
    this.#lockName = `pq-retention-${createHash("md5").update(deps.table).digest("hex").slice(0, 16)}`;
  }

  /** The ShedLock name rounds run under (one per job table). */
  get lockName(): string {
    return this.#lockName;
  }

  /** Runs a first round soon, then one every interval. */
  start(): void {
    this.#schedule(Math.min(1000, this.#d.retention.intervalMs));
  }

  /** No new round; waits for the one running, which stops at its next batch. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#round;
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#round = this.#runRound().finally(() => {
        this.#round = undefined;
        this.#schedule(this.#d.retention.intervalMs);
      });
    }, ms);
    this.#timer.unref?.();
  }

  async #runRound(): Promise<void> {
    const { db, dialect, table, retention, locks, logger } = this.#d;
    try {
      const deleted = await locks.withLock(
        this.#lockName,
        () =>
          pruneFinished(db, dialect, table, retention.rules, {
            bounded: true,
            stopped: () => this.#stopped,
          }),
        {
          lockAtMostFor: Math.max(30_000, retention.intervalMs),
          lockAtLeastFor: Math.floor(retention.intervalMs * 0.8),
        },
      );
      if (deleted > 0) logger.info({ table, deleted }, "retention: deleted finished jobs");
    } catch (err) {
      if (err instanceof LockNotAcquiredError || this.#stopped) return; // another queue cleans this round
      logger.warn({ table, err }, "retention: a round failed; it runs again next interval");
    }
  }
}
