import type { DB } from "../db.js";
import { PersistentQueueError } from "../errors.js";

/** A statement the queue tried to start after `stop()` had finished; the engine drops such work quietly. */
export class QueueClosedError extends PersistentQueueError {
  constructor() {
    super("ERR_PQ_CLOSED", "the queue has stopped: it starts no more statements on your database");
  }
}

/**
 * The engine's own view of the user's DB: counts statements in flight and,
 * once closed, refuses new ones. `stop()` closes it and waits (bounded) for
 * what is in flight, so that after `stop()` resolves no heartbeat, rescue,
 * retry or NOTIFY of the queue touches the pool — whatever timer was about to
 * fire. Statements of the user's own calls (`add()`, `getJob()`) and their
 * transactions go to the DB directly.
 */
export class StatementGuard {
  readonly db: DB;
  #closed = false;
  #inFlight = 0;
  #idle: (() => void)[] = [];

  constructor(target: DB) {
    const run = <T>(fn: () => Promise<T>): Promise<T> => {
      if (this.#closed) return Promise.reject(new QueueClosedError());
      this.#inFlight++;
      return fn().finally(() => {
        if (--this.#inFlight === 0) for (const resolve of this.#idle.splice(0)) resolve();
      });
    };
    this.db = {
      dialect: target.dialect,
      exec: (sql, params) => run(() => target.exec(sql, params)),
      query: (sql, params) => run(() => target.query(sql, params)),
      ping: () => run(() => target.ping()),
      close: () => Promise.resolve(), // the queue never closes the user's DB
    };
    // The schedule loop's compare-and-set and its INSERT commit together: counted as one statement.
    if (target.transaction) {
      const transaction = target.transaction.bind(target);
      this.db.transaction = (fn) => run(() => transaction(fn));
    }
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Statements running now. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Refuses every statement from now on. */
  close(): void {
    this.#closed = true;
  }

  /** Resolves when no statement is in flight, or after `ms`; true if idle. */
  async idle(ms: number): Promise<boolean> {
    if (this.#inFlight === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const idle = await Promise.race([
      new Promise<boolean>((resolve) => this.#idle.push(() => resolve(true))),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), Math.max(0, ms));
      }),
    ]);
    clearTimeout(timer);
    return idle;
  }
}
