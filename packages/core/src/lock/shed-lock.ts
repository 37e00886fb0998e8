import type { DB } from "../db.js";
import type { Dialect, TableNames } from "../dialects/dialect.js";
import { execSql, querySql, resolveDialect } from "../dialects/index.js";
import { type Duration, parseDuration } from "../duration.js";
import { ConfigError, PersistentQueueError } from "../errors.js";
import { resolveTableNames } from "../schema/tables.js";
import {
  acquireLock,
  extendLock,
  insertLock,
  inspectLock,
  releaseLock,
} from "../statements/locks.js";
import { makeWorkerId } from "../worker-id.js";

/** Options of {@link ShedLock}. */
export interface ShedLockOptions {
  readonly db: DB;
  /** Names this process in `locked_by` (`service-host-pid-random`). Default "persistent-queue". */
  readonly serviceName?: string;
  /** Table names; only `locks` is used (default `shedlock_tab`). */
  readonly tables?: Partial<TableNames>;
}

/** Lock times, as in Java ShedLock and the seed. */
export interface LockTimes {
  /** The lock expires after this even if its holder dies. Default "30s" (the seed's lock time). */
  readonly lockAtMostFor?: Duration;
  /** A release keeps the lock at least this long after it was taken. Default 0. */
  readonly lockAtLeastFor?: Duration;
}

/** A lock {@link ShedLock.withLock} could not take within its timeout. */
export class LockNotAcquiredError extends PersistentQueueError {
  constructor(name: string) {
    super("ERR_PQ_LOCK_NOT_ACQUIRED", `lock "${name}" is held by another process; not acquired.`);
  }
}

const DEFAULT_AT_MOST_MS = 30_000;

/**
 * The seed's cluster lock on `shedlock_tab`, usable on its own: one row per
 * lock name, held until `lock_until` by `locked_by`, every time taken from the
 * database's clock. A holder that dies loses the lock when `lock_until` passes.
 */
export class ShedLock {
  /** Who this instance is in `locked_by`; unique per process and instance. */
  readonly lockedBy: string;
  readonly #db: DB;
  readonly #table: string;
  #dialect: Promise<Dialect> | undefined;
  /** lockAtLeastFor of each lock this instance holds, by name. */
  readonly #held = new Map<string, number>();

  constructor(options: ShedLockOptions) {
    if (!options?.db)
      throw new ConfigError(
        "db",
        "is required: pass a DB from one of the @persistent-queue adapters.",
      );
    this.#db = options.db;
    this.#table = resolveTableNames(options.tables).locks;
    this.lockedBy = makeWorkerId(options.serviceName ?? "persistent-queue");
  }

  /** Takes the lock if it is free or expired. Resolves true when this instance now holds it. */
  async tryLock(name: string, times: LockTimes = {}): Promise<boolean> {
    const { atMost, atLeast } = this.#times(name, times);
    const d = await this.#d();
    const taken = await execSql(
      this.#db,
      d,
      acquireLock(d, this.#table, name, this.lockedBy, atMost),
    );
    let acquired = taken.affectedRows === 1;
    if (!acquired && taken.affectedRows === 0) {
      // No row yet (first use of the name), or held by someone else: try to create it.
      acquired = await execSql(
        this.#db,
        d,
        insertLock(d, this.#table, name, this.lockedBy, atMost),
      ).then(
        () => true,
        (err: unknown) => {
          if (d.isAlreadyExists(err)) return false; // the row exists and is held
          throw err;
        },
      );
    }
    if (acquired) this.#held.set(name, atLeast);
    return acquired;
  }

  /** Waits for the lock, trying every `pollMs` (default 500) until `timeoutMs`; resolves false on timeout. */
  async lock(
    name: string,
    options: LockTimes & { timeoutMs?: number; pollMs?: number } = {},
  ): Promise<boolean> {
    const deadline = Date.now() + (options.timeoutMs ?? 30_000);
    const poll = Math.max(10, options.pollMs ?? 500);
    for (;;) {
      if (await this.tryLock(name, options)) return true;
      if (Date.now() + poll > deadline) return false;
      await new Promise((r) => setTimeout(r, poll));
    }
  }

  /** Extends a lock this instance holds to `lockAtMostFor` from now. Resolves false if it was lost. */
  async extend(name: string, lockAtMostFor: Duration = DEFAULT_AT_MOST_MS): Promise<boolean> {
    const atMost = parseDuration("lockAtMostFor", lockAtMostFor, { allowZero: false });
    const d = await this.#d();
    const r = await execSql(this.#db, d, extendLock(d, this.#table, name, this.lockedBy, atMost));
    if (r.affectedRows !== 1) this.#held.delete(name);
    return r.affectedRows === 1;
  }

  /** Releases a lock this instance holds, keeping it until `lockAtLeastFor` after it was taken. Resolves false if it was not held. */
  async unlock(name: string): Promise<boolean> {
    const atLeast = this.#held.get(name) ?? 0;
    this.#held.delete(name);
    const d = await this.#d();
    const r = await execSql(this.#db, d, releaseLock(d, this.#table, name, this.lockedBy, atLeast));
    return r.affectedRows === 1;
  }

  /** Who holds `name` now, or undefined when nobody does. */
  async holder(name: string): Promise<string | undefined> {
    const d = await this.#d();
    const [row] = await querySql<{ locked_by: unknown; held: unknown }>(
      this.#db,
      d,
      inspectLock(d, this.#table, name),
    );
    return row && Number(row.held) === 1 ? String(row.locked_by) : undefined;
  }

  /**
   * Runs `fn` while holding the lock, extending it every third of
   * `lockAtMostFor` while `fn` runs, then releases it. If the lock is held
   * elsewhere, rejects with {@link LockNotAcquiredError} (or waits up to
   * `timeoutMs` when given). `signal` aborts if the lock is lost while `fn` runs.
   */
  async withLock<T>(
    name: string,
    fn: (signal: AbortSignal) => Promise<T>,
    options: LockTimes & { timeoutMs?: number } = {},
  ): Promise<T> {
    const { atMost } = this.#times(name, options);
    const acquired =
      options.timeoutMs === undefined
        ? await this.tryLock(name, options)
        : await this.lock(name, options);
    if (!acquired) throw new LockNotAcquiredError(name);
    const lost = new AbortController();
    const keepAlive = setInterval(
      () => {
        this.extend(name, atMost).then(
          (ok) => {
            if (!ok) lost.abort(new LockNotAcquiredError(name));
          },
          () => undefined, // a failed extend is retried at the next tick; the lock expires on its own if the database stays away
        );
      },
      Math.max(10, Math.floor(atMost / 3)),
    );
    keepAlive.unref?.();
    try {
      return await fn(lost.signal);
    } finally {
      clearInterval(keepAlive);
      await this.unlock(name).catch(() => undefined);
    }
  }

  #times(name: string, times: LockTimes) {
    if (typeof name !== "string" || name.length === 0 || name.length > 64) {
      throw new ConfigError(
        "lock name",
        `must be 1-64 characters (the seed's lock_name column); got ${JSON.stringify(String(name)).slice(0, 80)}.`,
      );
    }
    const atMost = parseDuration("lockAtMostFor", times.lockAtMostFor ?? DEFAULT_AT_MOST_MS, {
      allowZero: false,
    });
    const atLeast = parseDuration("lockAtLeastFor", times.lockAtLeastFor ?? 0);
    if (atLeast > atMost)
      throw new ConfigError("lockAtLeastFor", "must not be longer than lockAtMostFor.");
    return { atMost, atLeast };
  }

  #d(): Promise<Dialect> {
    this.#dialect ??= resolveDialect(this.#db);
    return this.#dialect;
  }
}
