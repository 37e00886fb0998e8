import type { DB, Unlisten } from "../db.js";
import type { Logger } from "../logger.js";
import { dbErrorMessage } from "./redact.js";

/** What a {@link Notifier} needs from its queue. */
export interface NotifierDeps {
  /** The user's DB (not the guarded one): LISTEN holds a connection of its own. */
  readonly db: DB & Required<Pick<DB, "listen">>;
  readonly channel: string;
  readonly logger: Logger;
  /** The queue is starting or running: a lost subscription is made again. */
  readonly active: () => boolean;
  /** The queue is stopping or stopped: a subscription that arrives now is undone. */
  readonly stopping: () => boolean;
  /** A notification named this job type. */
  readonly wake: (jobType: number) => void;
  /** Subscribed again after a loss: every job type claims, to catch up on what was missed. */
  readonly wakeAll: () => void;
}

/**
 * The queue's LISTEN on its table's channel (PostgreSQL), kept up: when the
 * subscription breaks (the connection died), it subscribes again with a
 * growing delay. Polling covers the gap, so a lost LISTEN only costs latency.
 */
export class Notifier {
  readonly #d: NotifierDeps;
  #unlisten: Unlisten | undefined;
  #relisten: NodeJS.Timeout | undefined;

  constructor(deps: NotifierDeps) {
    this.#d = deps;
  }

  /** Subscribes; resolves once subscribed, or once the first retry is scheduled. */
  start(): Promise<void> {
    return this.#listen(0);
  }

  /** Cancels a scheduled re-subscription (stop() begins). */
  cancelRetry(): void {
    clearTimeout(this.#relisten);
  }

  /** Ends the subscription, if any; never rejects. */
  async close(): Promise<void> {
    const unlisten = this.#unlisten;
    this.#unlisten = undefined;
    await unlisten?.().catch(() => undefined);
  }

  async #listen(failures: number): Promise<void> {
    const { db, logger } = this.#d;
    const retry = (error: unknown) => {
      this.#unlisten = undefined;
      if (!this.#d.active()) return;
      const delay = Math.min(30_000, 500 * 2 ** Math.min(failures, 6));
      logger.warn(
        { err: dbErrorMessage(error), retryInMs: delay },
        "LISTEN connection lost; polling until it is back",
      );
      clearTimeout(this.#relisten);
      this.#relisten = setTimeout(() => {
        this.#relisten = undefined;
        if (this.#d.active()) void this.#listen(failures + 1);
      }, delay);
      this.#relisten.unref?.();
    };
    try {
      const unlisten = await db.listen(
        this.#d.channel,
        (payload) => {
          for (const type of payload.split(",")) this.#d.wake(Number(type));
        },
        retry,
      );
      if (this.#d.stopping()) {
        await unlisten().catch(() => undefined);
        return;
      }
      this.#unlisten = unlisten;
      if (failures > 0) this.#d.wakeAll(); // catch up on what was missed
    } catch (error) {
      retry(error);
    }
  }
}
